// Which repository a webhook delivery is about, compared with the one Faultline tracks: the git
// host's repository (GitHub/Gitea full name, GitLab project path or id) or the clone URL.
// Organisation-level hooks deliver every repository's events; only ours may do anything.
import type { ControllerConfig } from '../config/types.js';

export interface RepositoryRefs {
  repository: string;
  repositoryUrls?: string[];
  repositoryId?: string;
}

/** host/path of a clone or web URL, lowercased, without credentials, port, ".git" or slashes. */
export function repositoryKey(url: string): string | undefined {
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/)(.+)$/.exec(url); // git@host:owner/name.git
  let host: string;
  let path: string;
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
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

/** True when the delivery is about the tracked repository. */
export function repositoryMatcher(config: Pick<ControllerConfig, 'repo' | 'gitHost'>): (e: RepositoryRefs) => boolean {
  const named = config.gitHost?.repository.replace(/^\/+|\/+$/g, '').toLowerCase();
  const cloneKey = repositoryKey(config.repo.url);
  const clonePath = cloneKey?.slice(cloneKey.indexOf('/') + 1);
  return (e) => {
    const name = e.repository.toLowerCase();
    if (named && (name === named || (/^\d+$/.test(named) && e.repositoryId === named))) return true;
    if (clonePath && name === clonePath) return true;
    return (e.repositoryUrls ?? []).some((u) => repositoryKey(u) === cloneKey);
  };
}
