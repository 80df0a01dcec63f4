// Where notifications wait until their endpoint takes them.
//
// A notifier splits its work into deliveries: a kind (`webhook`, `slack.final`, `status`, ...),
// an id that names the notification (run id + notifier, so the same run never notifies twice),
// plain JSON data, and a handler registered for the kind that sends it. Two homes:
// - DurableDeliveries: a BullMQ queue `notifications` in Redis. Retries with exponential backoff,
//   survives a controller restart (kill -9 included: the next process's worker takes the job),
//   and a second send with the same id is dropped while the first is kept (7 days).
// - MemoryDeliveries: in-process, for tests and tools without Redis; lost on restart.
// NotifyQueue is the in-process chain both use for best-effort work (Slack progress edits).
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { silentLogger, type Logger } from '../log.js';
import { recordReportFailure, type ReportTarget } from './failures.js';
import { isRetryable } from '../hosts/retry.js';
import { EgressRefused } from '../egress/index.js';

export const QUEUE_NOTIFICATIONS = 'notifications';

export interface NotifyQueueOptions {
  concurrency?: number; // keys worked at once, default 4
  maxPending?: number; // default 1000
  logger?: Logger;
}

/** In-process: tasks for one key run in order, a few keys at a time; a full queue drops new work (counted). */
export class NotifyQueue {
  private readonly chains = new Map<string, Promise<void>>();
  private running = 0;
  private readonly waiters: (() => void)[] = [];
  private pending = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly concurrency: number;
  private readonly maxPending: number;
  private readonly log: Logger;

  constructor(opts: NotifyQueueOptions = {}) {
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.maxPending = opts.maxPending ?? 1000;
    this.log = opts.logger ?? silentLogger;
  }

  get size(): number {
    return this.pending;
  }

  /** Enqueue and return at once. Failures are logged and counted against `target`. */
  push(key: string, target: ReportTarget, what: string, task: () => Promise<void>): boolean {
    if (this.pending >= this.maxPending) {
      recordReportFailure(target, new Error('notification queue full'), what, this.log);
      return false;
    }
    this.pending++;
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev
      .then(() => this.slot(task))
      .catch((err: unknown) => recordReportFailure(target, err, what, this.log))
      .finally(() => {
        this.pending--;
        if (this.chains.get(key) === next) this.chains.delete(key);
        if (this.pending === 0) this.idleWaiters.splice(0).forEach((w) => w());
      });
    this.chains.set(key, next);
    return true;
  }

  /** Resolves when what is queued for `key` so far has run. */
  after(key: string): Promise<void> {
    return this.chains.get(key) ?? Promise.resolve();
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async slot<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiters.shift()?.();
    }
  }
}

export type DeliverFn = (data: unknown) => Promise<void>;

export interface Deliveries {
  /** The handler of one kind; also receives deliveries a previous process left behind. */
  register(kind: string, target: ReportTarget, deliver: DeliverFn): void;
  /**
   * Returns at once. `id` de-duplicates: a second send with the same kind and id is dropped.
   * `order` (memory only) keeps deliveries with the same key in sequence.
   */
  send(kind: string, id: string, data: unknown, what: string, order?: string): void;
  /** Resolves when nothing is being delivered or waiting to be (retries kept in Redis excepted). */
  idle(): Promise<void>;
}

interface Handler {
  target: ReportTarget;
  deliver: DeliverFn;
}

/** Ids are names of BullMQ jobs: ':' is refused there, and they stay short. */
export function deliveryJobId(kind: string, id: string): string {
  return `${kind}.${id}`.replace(/:/g, '_').slice(0, 400);
}

export class MemoryDeliveries implements Deliveries {
  private readonly handlers = new Map<string, Handler>();
  private readonly seen = new Set<string>();
  readonly queue: NotifyQueue;

  constructor(opts: NotifyQueueOptions = {}) {
    this.queue = new NotifyQueue(opts);
  }

  register(kind: string, target: ReportTarget, deliver: DeliverFn): void {
    this.handlers.set(kind, { target, deliver });
  }

  send(kind: string, id: string, data: unknown, what: string, order?: string): void {
    const handler = this.handlers.get(kind);
    if (!handler) throw new Error(`no notifier handles deliveries of kind ${kind}`);
    const jobId = deliveryJobId(kind, id);
    if (this.seen.has(jobId)) return;
    this.seen.add(jobId);
    if (this.seen.size > 10_000) this.seen.delete(this.seen.values().next().value as string);
    this.queue.push(order ?? jobId, handler.target, what, () => handler.deliver(data));
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }
}

export interface DurableDeliveriesOptions {
  connection: Redis; // duplicated for the worker
  prefix: string;
  attempts?: number; // default 12 (with 2 s base: the last try ~2.3 h after the first)
  backoffMs?: number; // first retry delay, doubled each time; default 2000
  concurrency?: number; // deliveries at once per replica, default 4
  logger?: Logger;
}

interface DeliveryJob {
  kind: string;
  what: string;
  data: unknown;
}

const DAY_S = 24 * 3600;

function isFinal(err: unknown): boolean {
  const e = err as { status?: unknown; headers?: Record<string, string | undefined> } | null;
  return typeof e?.status === 'number' && !isRetryable(e.status, e.headers ?? {});
}

export class DurableDeliveries implements Deliveries {
  private readonly handlers = new Map<string, Handler>();
  /** The BullMQ queue (its depth is sampled into faultline_queue_depth). */
  readonly queue: Queue<DeliveryJob>;
  private worker: Worker<DeliveryJob> | undefined;
  private readonly pendingAdds = new Set<Promise<unknown>>();
  private readonly log: Logger;
  private readonly attempts: number;
  private readonly backoffMs: number;

  constructor(private readonly opts: DurableDeliveriesOptions) {
    this.log = (opts.logger ?? silentLogger).child({ component: 'notifications' });
    this.attempts = Math.max(1, opts.attempts ?? 12);
    this.backoffMs = opts.backoffMs ?? 2000;
    this.queue = new Queue<DeliveryJob>(QUEUE_NOTIFICATIONS, { connection: opts.connection, prefix: opts.prefix });
  }

  register(kind: string, target: ReportTarget, deliver: DeliverFn): void {
    if (this.handlers.has(kind)) throw new Error(`deliveries of kind ${kind} already have a handler`);
    this.handlers.set(kind, { target, deliver });
  }

  /** Starts taking deliveries (register every kind first: jobs left by a previous process are taken at once). */
  start(): void {
    if (this.worker) return;
    const worker = new Worker<DeliveryJob>(QUEUE_NOTIFICATIONS, (job) => this.process(job), {
      connection: this.opts.connection.duplicate(),
      prefix: this.opts.prefix,
      concurrency: this.opts.concurrency ?? 4,
      // A delivery whose process died (kill -9) is taken again within ~15 s, not BullMQ's 30 s +
      // 30 s; the lock is renewed while a slow endpoint is still being tried. Several deaths in a
      // row still leave the notification queued.
      lockDuration: 10_000,
      stalledInterval: 5_000,
      maxStalledCount: 5,
    });
    worker.on('failed', (job, err) => {
      if (!job) return;
      const last = err instanceof UnrecoverableError || err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
      const handler = this.handlers.get(job.data.kind);
      if (last) recordReportFailure(handler?.target ?? 'webhook', err, `${job.data.what} (gave up after ${job.attemptsMade} attempts)`, this.log);
      else this.log.warn({ err, jobId: job.id, kind: job.data.kind, attempt: job.attemptsMade }, `notification not delivered yet, will retry: ${job.data.what}`);
    });
    worker.on('error', (err) => this.log.error({ err }, 'notification worker error'));
    this.worker = worker;
  }

  send(kind: string, id: string, data: unknown, what: string): void {
    if (!this.handlers.has(kind)) throw new Error(`no notifier handles deliveries of kind ${kind}`);
    const jobId = deliveryJobId(kind, id);
    // BullMQ keeps a job with this id (waiting, delayed, active or finished within 7 days): a second add is a no-op.
    const add = this.queue
      .add(kind, { kind, what, data }, {
        jobId,
        attempts: this.attempts,
        backoff: { type: 'exponential', delay: this.backoffMs },
        removeOnComplete: { age: 7 * DAY_S, count: 100_000 },
        removeOnFail: { age: 30 * DAY_S, count: 100_000 },
      })
      .then((job) => this.log.debug({ jobId, kind, fresh: job.id === jobId }, `notification queued: ${what}`))
      .catch((err: unknown) => recordReportFailure(this.handlers.get(kind)!.target, err, `queueing ${what}`, this.log))
      .finally(() => this.pendingAdds.delete(add));
    this.pendingAdds.add(add);
  }

  private async process(job: Job<DeliveryJob>): Promise<void> {
    const handler = this.handlers.get(job.data.kind);
    if (!handler) throw new Error(`no notifier handles deliveries of kind ${job.data.kind} in this controller`);
    try {
      await handler.deliver(job.data.data);
    } catch (err) {
      // A refusal (4xx, an egress policy) will not get better by waiting: no more attempts.
      if (err instanceof EgressRefused || isFinal(err)) throw new UnrecoverableError(err instanceof Error ? err.message : String(err));
      throw err;
    }
    this.log.info({ jobId: job.id, kind: job.data.kind, attempt: job.attemptsMade + 1 }, `notification delivered: ${job.data.what}`);
  }

  async idle(): Promise<void> {
    await Promise.all([...this.pendingAdds]);
    for (;;) {
      const counts = await this.queue.getJobCounts('waiting', 'active', 'prioritized');
      if (!counts.waiting && !counts.active && !counts.prioritized) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * What is still waiting or retrying stays in Redis for the next process. `force`: do not wait
   * for deliveries in flight (their lock lapses and another worker takes them again).
   */
  async close(force = false): Promise<void> {
    await Promise.all([...this.pendingAdds]);
    await this.worker?.close(force);
    await this.queue.close();
  }
}
