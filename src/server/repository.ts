// Which repository a webhook delivery is about, compared with the one Faultline tracks: the git
// host's repository (GitHub/Gitea full name, GitLab project path or id) or the clone URL.
// Organisation-level hooks deliver every repository's events; only ours may do anything.
import type { ControllerConfig } from '../config/types.js';
import type { HostModule, RepositoryRefs } from '../hosts/index.js';

export type { RepositoryRefs } from '../hosts/index.js';

/** host/path of a clone or web URL, lowercased, without credentials, port, ".git" or slashes. */
export function repositoryKey(url: string): string | undefined {
  // git@host:owner/name.git; never a scheme URL: its first colon is followed by "//"
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/)(.+)$/.exec(url);
  let host: string;
  let path: string;
  if (scp) {
    host = scp[1]!;
    path = scp[2]!;
  } else {
    try {
      const u = new URL(url);
      host = u.hostname;
      path = u.pathname;
    } catch {
      return undefined;
    }
  }
  path = path.replace(/^\/+|\/+$/g, '').replace(/\.git$/i, '');
  return path ? `${host.toLowerCase()}/${path.toLowerCase()}` : undefined;
}

/**
 * True when a delivery through `host`'s endpoint is about the tracked repository: the host's own
 * notion of the configured name (its module's isRepository), or the clone URL by path or URL.
 */
export function repositoryMatcher(config: Pick<ControllerConfig, 'repo' | 'gitHost'>, host: HostModule): (e: RepositoryRefs) => boolean {
  const named = config.gitHost && config.gitHost.type === host.kind ? config.gitHost.repository : undefined;
  const cloneKey = repositoryKey(config.repo.url);
  const clonePath = cloneKey?.slice(cloneKey.indexOf('/') + 1);
  return (e) => {
    if (named && host.isRepository(named, e)) return true;
    if (clonePath && e.repository.toLowerCase() === clonePath) return true;
    // no key for our clone URL (a local path): no delivery URL is ours, not every unparsable one
    return cloneKey !== undefined && (e.repositoryUrls ?? []).some((u) => repositoryKey(u) === cloneKey);
  };
}
