// The host registry: config.gitHost.type picks the adapter.
import type { GitHost, GitHostConfig, HostOptions } from './types.js';
import { GitHubHost } from './github/index.js';
import { GitLabHost } from './gitlab/index.js';
import { GiteaHost } from './gitea/index.js';

const HOSTS: Record<GitHostConfig['type'], new (config: GitHostConfig, opts?: HostOptions) => GitHost> = {
  github: GitHubHost,
  gitlab: GitLabHost,
  gitea: GiteaHost,
};

export function createGitHost(config: GitHostConfig, opts?: HostOptions): GitHost {
  const Host = HOSTS[config.type];
  if (!Host) throw new Error(`unknown git host type ${JSON.stringify(config.type)}`);
  return new Host(config, opts);
}

export type { GitHost, GitHostConfig, CommitStatus, CommitState, UpsertResult, RetryOptions, HostOptions } from './types.js';
export { PLAN_MARKER } from './types.js';
export { GitHubHost, GitLabHost, GiteaHost };
