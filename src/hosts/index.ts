// The host registry: one line per host folder, and the only list of hosts. config.gitHost.type
// picks a module; /webhooks/<kind> routes, the config schema's enum (held to it by a test), PR
// fetch refs and repository matching all come from here. Adding a host: its folder (index.ts
// exporting a HostModule) and one line below.
import type { GitHost, GitHostConfig, HostModule, HostOptions } from './types.js';
import { github } from './github/index.js';
import { gitlab } from './gitlab/index.js';
import { gitea } from './gitea/index.js';

const REGISTRY = {
  github,
  gitlab,
  gitea,
} as const satisfies Record<string, HostModule>;

export type HostKind = keyof typeof REGISTRY;
/** The host kinds, in registry order. */
export const HOST_KINDS = Object.freeze(Object.keys(REGISTRY) as HostKind[]);

/** A registry: the built-in one, or (tests, embedders) one with more hosts. */
export type HostRegistry = Readonly<Record<string, HostModule>>;
export const HOSTS: Readonly<Record<HostKind, HostModule>> & HostRegistry = REGISTRY;

export function hostModule(kind: string, hosts: HostRegistry = HOSTS): HostModule {
  const m = Object.hasOwn(hosts, kind) ? hosts[kind] : undefined;
  if (!m) throw new Error(`unknown git host type ${JSON.stringify(kind)} (known: ${Object.keys(hosts).join(', ')})`);
  return m;
}

export function createGitHost(config: GitHostConfig, opts?: HostOptions, hosts: HostRegistry = HOSTS): GitHost {
  return hostModule(config.type, hosts).createApi(config, opts);
}

export type { GitHost, GitHostConfig, HostModule, RepositoryRefs, CommitStatus, CommitState, UpsertResult, RetryOptions, HostOptions } from './types.js';
export { PLAN_MARKER, sameName } from './types.js';
export type { WebhookSpec, Normalised, PushEvent, PullRequestEvent, PushCommit, DeliveryHeaders } from './webhook.js';
export { hmacHexMatches } from './signature.js';
export { githubSignatureValid, signGithub, normaliseGithub } from './github/webhook.js';
export { gitlabTokenValid, normaliseGitlab } from './gitlab/webhook.js';
export { signGitea, normaliseGitea } from './gitea/webhook.js';
export { GitHubHost } from './github/api.js';
export { GitLabHost } from './gitlab/api.js';
export { GiteaHost } from './gitea/api.js';
