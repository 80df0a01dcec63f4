// An in-process background queue for notifications: the caller (a run) only enqueues and goes
// on; tasks for one key run in order, a few keys at a time, each under its own timeout. A full
// queue drops new work (counted) rather than growing without bound while an endpoint is down.
import { silentLogger, type Logger } from '../log.js';
import { recordReportFailure, type ReportTarget } from './failures.js';

export interface NotifyQueueOptions {
  concurrency?: number; // keys worked at once, default 4
  maxPending?: number; // default 1000
  logger?: Logger;
}

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
