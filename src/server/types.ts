// What the webhook endpoints hand to the controller: host-neutral events.
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { ControllerConfig } from '../config/types.js';

export type GitHostKind = 'github' | 'gitlab' | 'gitea';

export interface PushCommit {
  id: string;
  message: string;
  added: string[];
  modified: string[];
  removed: string[];
}

/** A push to a branch of the experiments repository. */
export interface PushEvent {
  host: GitHostKind;
  deliveryId: string;
  ref: string; // refs/heads/main
  branch: string; // main
  before?: string; // previous head sha (all zeros for a new branch)
  after: string; // new head sha (all zeros when the branch was deleted)
  deleted: boolean;
  repository: string; // owner/name (GitHub, Gitea) or the project path (GitLab)
  repositoryUrls?: string[]; // clone and web URLs the payload gives for it
  repositoryId?: string; // the host's numeric id (GitLab projects may be configured by id)
  commits?: PushCommit[];
}

/**
 * A pull/merge request event. `action` uses GitHub's words whatever the host: GitLab's
 * open/update/reopen/close/merge and Gitea's synchronized become opened/synchronize/reopened/closed.
 */
export interface PullRequestEvent {
  host: GitHostKind;
  deliveryId: string;
  action: string; // 'opened' | 'synchronize' | 'reopened' | 'closed' | 'edited' | …
  number: number; // GitHub/Gitea number, GitLab iid
  headSha: string;
  headRef: string; // source branch
  baseRef: string; // target branch name
  baseSha?: string; // target branch sha where the host sends it (GitHub, Gitea)
  merged: boolean;
  mergeCommitSha?: string;
  repository: string;
  repositoryUrls?: string[];
  repositoryId?: string;
  url: string; // the pull request's web page
}

export interface ReadinessResult {
  ok: boolean;
  checks: Record<string, string>; // name → 'ok' or the failure
}

export interface ServerDeps {
  config: ControllerConfig;
  redis: Redis;
  log: Logger;
  /** Must only enqueue (e.g. a BullMQ job) and return: the delivery is answered after it settles. */
  onPush(e: PushEvent): Promise<void>;
  /** Same contract as onPush: hand the event to the plan path's queue, do not plan inline. */
  onPullRequest(e: PullRequestEvent): Promise<void>;
  readiness(): Promise<ReadinessResult>;
  /** A hand-over slower than this answers 503 (and forgets the delivery) so the host retries; default 5000. */
  handoffTimeoutMs?: number;
  /** More routes (API, dashboard, metrics), each registered in its own encapsulated scope. */
  plugins?: ServerPlugin[];
}

export type ServerPlugin = (app: FastifyInstance) => Promise<void>;
