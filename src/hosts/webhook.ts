// What a host's webhook side is: how a delivery proves where it comes from, which headers carry
// its event and id, and how its payload becomes a host-neutral event. Each host folder has one
// (github/webhook.ts, ...); the helpers here are the parts the hosts share.
import type { RepositoryRefs } from './types.js';

export type DeliveryHeaders = Record<string, string | string[] | undefined>;

export interface PushCommit {
  id: string;
  message: string;
  added: string[];
  modified: string[];
  removed: string[];
}

/** A push to a branch of the experiments repository. */
export interface PushEvent extends RepositoryRefs {
  host: string; // the registry key of the host that delivered it
  deliveryId: string;
  ref: string; // refs/heads/main
  branch: string; // main
  before?: string; // previous head sha (all zeros for a new branch)
  after: string; // new head sha (all zeros when the branch was deleted)
  deleted: boolean;
  commits?: PushCommit[];
}

/**
 * A pull/merge request event. `action` uses GitHub's words whatever the host: GitLab's
 * open/update/reopen/close/merge and Gitea's synchronized become opened/synchronize/reopened/closed.
 */
export interface PullRequestEvent extends RepositoryRefs {
  host: string; // the registry key of the host that delivered it
  deliveryId: string;
  action: string; // 'opened' | 'synchronize' | 'reopened' | 'closed' | 'edited' | …
  number: number; // GitHub/Gitea number, GitLab iid
  headSha: string;
  headRef: string; // source branch
  baseRef: string; // target branch name
  baseSha?: string; // target branch sha where the host sends it (GitHub, Gitea)
  merged: boolean;
  mergeCommitSha?: string;
  url: string; // the pull request's web page
}

export type Normalised =
  | { kind: 'push'; event: PushEvent }
  | { kind: 'pull_request'; event: PullRequestEvent }
  | { kind: 'ping' }
  | { kind: 'ignored'; reason: string }
  | { kind: 'invalid'; reason: string };

export interface WebhookSpec {
  readonly kind: string;
  /** Authentic under one of the secrets (every one tried, in constant time). */
  verify(body: Buffer, headers: DeliveryHeaders, secrets: readonly string[]): boolean;
  event(headers: DeliveryHeaders): string | undefined;
  delivery(headers: DeliveryHeaders): string | undefined;
  normalise(event: string | undefined, deliveryId: string, payload: unknown): Normalised;
}

export function header(headers: DeliveryHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

// Payload reading: only the fields Faultline uses; anything missing that matters makes the
// delivery `invalid` (400) rather than a half-filled event.
export type Obj = Record<string, unknown>;
const ZERO_SHA = /^0+$/;

export function obj(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}
function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function commitsFrom(v: unknown): PushCommit[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.map(obj).filter((c): c is Obj => !!c && !!str(c.id)).map((c) => ({
    id: c.id as string,
    message: typeof c.message === 'string' ? c.message : '',
    added: strings(c.added),
    modified: strings(c.modified),
    removed: strings(c.removed),
  }));
}

/** The repository's URLs and id as a payload gives them (GitHub/Gitea `repository`, GitLab `project`). */
export function repositoryRefs(repo: Obj | undefined): { repositoryUrls?: string[]; repositoryId?: string } {
  if (!repo) return {};
  const urls = ['clone_url', 'html_url', 'ssh_url', 'git_url', 'url', 'git_http_url', 'git_ssh_url', 'web_url', 'http_url']
    .map((k) => str(repo[k]))
    .filter((u): u is string => !!u);
  const id = typeof repo.id === 'number' || typeof repo.id === 'string' ? String(repo.id) : undefined;
  return { ...(urls.length ? { repositoryUrls: [...new Set(urls)] } : {}), ...(id ? { repositoryId: id } : {}) };
}

/** A push payload (the three hosts share its shape). */
export function pushEvent(host: string, deliveryId: string, p: Obj, repository: string | undefined, repo?: Obj): Normalised {
  const ref = str(p.ref);
  const after = str(p.after);
  if (!ref || !after || !repository) return { kind: 'invalid', reason: 'push payload without ref, after or repository' };
  if (!ref.startsWith('refs/heads/')) return { kind: 'ignored', reason: 'branch' }; // tags
  const before = str(p.before);
  const commits = commitsFrom(p.commits);
  const event: PushEvent = {
    host,
    deliveryId,
    ref,
    branch: ref.slice('refs/heads/'.length),
    after,
    deleted: p.deleted === true || ZERO_SHA.test(after),
    repository,
    ...repositoryRefs(repo),
    ...(before ? { before } : {}),
    ...(commits ? { commits } : {}),
  };
  return { kind: 'push', event };
}

/** GitHub and Gitea/Forgejo share the pull_request payload shape (each host maps its own action words). */
export function githubLikePullRequest(host: string, deliveryId: string, p: Obj): Normalised {
  const pr = obj(p.pull_request);
  const head = obj(pr?.head);
  const base = obj(pr?.base);
  const number = typeof p.number === 'number' ? p.number : pr?.number;
  const action = str(p.action);
  const headSha = str(head?.sha);
  const headRef = str(head?.ref);
  const baseRef = str(base?.ref);
  const repository = str(obj(p.repository)?.full_name);
  if (!pr || typeof number !== 'number' || !action || !headSha || !headRef || !baseRef || !repository) {
    return { kind: 'invalid', reason: 'pull_request payload without number, action, head, base or repository' };
  }
  const baseSha = str(base?.sha);
  const mergeCommitSha = str(pr.merge_commit_sha);
  const merged = pr.merged === true;
  return {
    kind: 'pull_request',
    event: {
      host,
      deliveryId,
      action,
      number,
      headSha,
      headRef,
      baseRef,
      merged,
      repository,
      ...repositoryRefs(obj(p.repository)),
      url: str(pr.html_url) ?? str(pr.url) ?? '',
      ...(baseSha ? { baseSha } : {}),
      ...(merged && mergeCommitSha ? { mergeCommitSha } : {}),
    },
  };
}
