// The host registry: one line per host folder. config.gitHost.type picks the API adapter; the
// webhook endpoint /webhooks/<kind> uses the host's webhook side. Adding a host: a folder with
// index.ts (API) and webhook.ts, its kind in kinds.ts, and one line in each map below.
import type { GitHost, GitHostConfig, HostOptions } from './types.js';
import type { HostKind } from './kinds.js';
import type { WebhookSpec } from './webhook.js';
import { GitHubHost } from './github/index.js';
import { GitLabHost } from './gitlab/index.js';
import { GiteaHost } from './gitea/index.js';
import { githubWebhook } from './github/webhook.js';
import { gitlabWebhook } from './gitlab/webhook.js';
import { giteaWebhook } from './gitea/webhook.js';

const HOSTS: Record<HostKind, new (config: GitHostConfig, opts?: HostOptions) => GitHost> = {
  github: GitHubHost,
  gitlab: GitLabHost,
  gitea: GiteaHost,
};

export const WEBHOOKS: Record<HostKind, WebhookSpec> = {
  github: githubWebhook,
  gitlab: gitlabWebhook,
  gitea: giteaWebhook,
};

export function createGitHost(config: GitHostConfig, opts?: HostOptions): GitHost {
  const Host = HOSTS[config.type];
  if (!Host) throw new Error(`unknown git host type ${JSON.stringify(config.type)}`);
  return new Host(config, opts);
}

export type { GitHost, GitHostConfig, CommitStatus, CommitState, UpsertResult, RetryOptions, HostOptions } from './types.js';
export { PLAN_MARKER } from './types.js';
export { HOST_KINDS, type HostKind } from './kinds.js';
export type { WebhookSpec, Normalised, PushEvent, PullRequestEvent, PushCommit, DeliveryHeaders } from './webhook.js';
export { hmacHexMatches } from './signature.js';
export { githubSignatureValid, signGithub, normaliseGithub } from './github/webhook.js';
export { gitlabTokenValid, normaliseGitlab } from './gitlab/webhook.js';
export { signGitea, normaliseGitea } from './gitea/webhook.js';
export { GitHubHost, GitLabHost, GiteaHost };
