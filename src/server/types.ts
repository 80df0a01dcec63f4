// What the webhook endpoints hand to the controller: host-neutral events.
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { ControllerConfig } from '../config/types.js';

// Host-neutral events are defined beside the hosts that produce them.
export type { HostKind as GitHostKind, PushCommit, PushEvent, PullRequestEvent } from '../hosts/index.js';
import type { HostRegistry, PullRequestEvent, PushEvent } from '../hosts/index.js';

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
  /** The Git hosts whose /webhooks/<kind> routes exist; default the built-in registry. */
  hosts?: HostRegistry;
  /** More routes (API, dashboard, metrics), each registered in its own encapsulated scope. */
  plugins?: ServerPlugin[];
}

export type ServerPlugin = (app: FastifyInstance) => Promise<void>;
