import type { Logger } from '../log.js';
import type { WebhookSpec } from './webhook.js';

// One interface for every Git host (GitHub, GitLab, Gitea/Forgejo), one folder per host,
// chosen by config — adding a host is one folder and one line in hosts/index.ts.

export type CommitState = 'pending' | 'success' | 'failure' | 'error';

export interface CommitStatus {
  context: string; // e.g. 'faultline/plan', 'faultline/run'
  state: CommitState;
  description: string; // hosts cut it (GitHub: 140 characters); adapters shorten it safely
  targetUrl?: string;
}

export interface UpsertResult {
  action: 'created' | 'updated' | 'unchanged' | 'skipped';
  id?: string;
}

/** The host's API client: what Faultline writes back (statuses, comments) and looks up. */
export interface GitHost {
  readonly kind: string;
  /** Longest comment body the host accepts, in characters. */
  readonly maxCommentLength: number;
  setStatus(sha: string, status: CommitStatus): Promise<void>;
  /**
   * Sticky comment: find our comment by its hidden marker (e.g. `<!-- faultline:plan -->`) and
   * edit it, else create one. With `createIfMissing: false` nothing is created (a PR that no
   * longer touches experiments keeps quiet).
   */
  upsertComment(prNumber: number, marker: string, body: string, opts?: { createIfMissing?: boolean }): Promise<UpsertResult>;
  comment(prNumber: number, body: string): Promise<void>;
  /** The pull/merge request that introduced a commit (merged first), if any. */
  findPullRequestForCommit(sha: string): Promise<number | undefined>;
}

export interface GitHostConfig {
  type: string; // a key of the host registry (config narrows it to HostKind)
  apiUrl: string;
  token?: string;
  repository: string; // owner/name (GitHub, Gitea) or project path/id (GitLab)
}

export interface RetryOptions {
  attempts?: number; // default 5
  baseDelayMs?: number; // default 500, doubled per attempt with jitter
  maxDelayMs?: number; // cap on any single wait, also on Retry-After, default 60s
  timeoutMs?: number; // per request, default 15s
}

export interface HostOptions {
  retry?: RetryOptions;
  logger?: Logger;
}

export const PLAN_MARKER = '<!-- faultline:plan -->';

/** What a delivery says about its repository, as the host's normaliser read it. */
export interface RepositoryRefs {
  repository: string; // owner/name (GitHub, Gitea) or the project path (GitLab)
  repositoryUrls?: string[]; // clone and web URLs the payload gives for it
  repositoryId?: string; // the host's numeric id
}

/**
 * Everything Faultline knows about one Git host, exported by its folder's index.ts. The registry
 * (hosts/index.ts) maps kind to module; the rest of the program asks the module.
 */
export interface HostModule<K extends string = string> {
  readonly kind: K;
  /** Signature check, delivery headers and event normalisation. */
  readonly webhook: WebhookSpec;
  /** The ref that carries a pull request's head on the clone URL (forks too). */
  pullRequestRef(number: number): string;
  /** True when a delivery's repository is the configured one (`gitHost.repository`). */
  isRepository(configured: string, refs: RepositoryRefs): boolean;
  /** The API client for statuses, comments and look-ups. */
  createApi(config: GitHostConfig, opts?: HostOptions): GitHost;
}

/** Host names compare without case (GitHub, GitLab and Gitea all treat them so). */
export function sameName(configured: string, given: string): boolean {
  return configured.replace(/^\/+|\/+$/g, '').toLowerCase() === given.replace(/^\/+|\/+$/g, '').toLowerCase();
}
