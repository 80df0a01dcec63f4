import type { Logger } from '../log.js';
import type { HostKind } from './kinds.js';

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

export interface GitHost {
  readonly kind: HostKind;
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
  type: HostKind;
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
