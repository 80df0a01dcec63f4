// The revert loop: a background reconciler that never gives up. Each pass collects the active
// faults from the Redis ledger AND from the cluster (objects with the run label carry their own
// revert data), keeps those whose run is live (executing here, or a fresh heartbeat), and
// reverts the rest with per-fault backoff until a revert succeeds. It runs at start-up and then
// every second on every replica: a restarted replica is not the leader for up to a lease
// duration, and a fault must not wait that long. Reverts are idempotent and a short Redis lock
// keeps two replicas from working the same fault at once.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import { FAULT_CATALOG, FAULT_DRIVERS } from '../faults/index.js';
import type { Injection } from '../faults/types.js';
import type { Logger } from '../log.js';
import { faultsOverdue, revertAttempts, revertsPending } from '../metrics.js';
import { SafetyState } from '../safety/state.js';
import { listClusterFaults } from './cluster-faults.js';
import { hasHeartbeat } from './heartbeat.js';
import { FaultLedger } from './ledger.js';

export interface RevertLoopOptions {
  kc: KubeConfig;
  redis: Redis;
  prefix: string;
  log: Logger;
  /** Runs executing in this process (live whatever Redis says). */
  isLocal(runId: string): boolean | Promise<boolean>;
  /** Told after a fault of a dead run was reverted (ends its run record). */
  onReverted?(injection: Injection): Promise<void>;
  intervalMs?: number; // default 1 s
  maxBackoffMs?: number; // default 4 s: a fault is retried at least that often
  /** A fault still in place this long after its expiresAt counts as overdue (metric, alert). Default 5 min. */
  overdueAfterMs?: number;
  /**
   * Several clusters: the cluster `kc` reaches (default the local one). The loop takes only the
   * ledger entries of its cluster (Injection.cluster); each registered cluster has its own loop.
   */
  cluster?: string;
  /** For the local loop: the clusters that have a loop now; entries of others are reported, kept. */
  registered?(): string[];
}

export interface PassResult {
  reverted: string[];
  failed: { runId: string; error: string }[];
  live: string[];
  /** Faults seen but not attempted this pass (backing off, or another replica is on it). */
  waiting: string[];
  /** Redis unreachable: liveness cannot be told, nothing was reverted. */
  skipped?: string;
}

interface Backoff { attempts: number; nextAt: number; lastError: string }

export class RevertLoop {
  private readonly ledger: FaultLedger;
  private readonly backoff = new Map<string, Backoff>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PassResult> | undefined;
  private stopped = false;
  private readonly unknown = new Set<string>();

  constructor(private readonly opts: RevertLoopOptions) {
    this.ledger = new FaultLedger(opts.redis, opts.prefix);
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      void this.pass().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs ?? 1000);
      });
    };
    this.timer = setTimeout(tick, this.opts.intervalMs ?? 1000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass (passes never overlap: a call during a pass waits for it). */
  pass(): Promise<PassResult> {
    this.running ??= this.passOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async passOnce(): Promise<PassResult> {
    const { log } = this.opts;
    const result: PassResult = { reverted: [], failed: [], live: [], waiting: [] };
    const found = new Map<string, Injection>();
    try {
      const { entries, broken } = await this.withTimeout(this.ledger.list(), 'reading the fault ledger');
      for (const b of broken) {
        log.error({ runId: b.runId, err: b.error }, 'revert loop: unreadable ledger entry left in place for a human');
        result.failed.push(b);
      }
      const mine = this.opts.cluster ?? 'in-cluster';
      for (const e of entries) {
        const theirs = e.cluster ?? 'in-cluster';
        if (theirs === mine) found.set(e.runId, e);
        else if (!this.opts.cluster && this.opts.registered && !this.opts.registered().includes(theirs) && !this.unknown.has(e.runId)) {
          // Its Secret is gone (or not listed yet): the entry stays until that cluster is back.
          this.unknown.add(e.runId);
          log.error({ runId: e.runId, experiment: e.experiment, cluster: theirs }, `revert loop: fault in cluster "${theirs}", which is not registered; kept in the ledger until it is`);
        }
      }
    } catch (err) {
      result.skipped = `redis: ${(err as Error).message}`;
    }
    try {
      const cluster = await listClusterFaults(this.opts.kc);
      for (const b of cluster.broken) log.error({ object: b.object, err: b.error }, 'revert loop: object marked by a run without readable revert data; left for a human');
      for (const inj of cluster.injections) if (!found.has(inj.runId)) found.set(inj.runId, inj);
    } catch (err) {
      // The API server is away: the ledger still names the faults; their reverts fail and back off.
      log.warn({ err: (err as Error).message }, 'revert loop: could not list marked objects in the cluster');
    }

    const now = Date.now();
    const overdueAfter = this.opts.overdueAfterMs ?? 300_000;
    // An instant fault (pod-kill, container-kill) is over once applied: only held faults can be overdue.
    const held = (i: Injection) => !FAULT_CATALOG[i.fault]?.instant;
    // The gauges are the local cluster's (a remote cluster's loop logs what waits; no cluster label yet).
    if (!this.opts.cluster) faultsOverdue.set([...found.values()].filter((i) => held(i) && Date.parse(i.expiresAt) + overdueAfter < now).length);
    if (result.skipped) {
      // Without Redis no heartbeat can be read: a live run elsewhere is indistinguishable from a dead one.
      let notLocal = 0;
      for (const id of found.keys()) if (!(await this.opts.isLocal(id))) notLocal++;
      if (!this.opts.cluster) revertsPending.set(notLocal);
      log.warn({ reason: result.skipped, faults: found.size }, 'revert loop: Redis unreachable; cannot tell live runs from dead ones, nothing reverted this pass');
      return result;
    }

    const dead: Injection[] = [];
    for (const inj of found.values()) {
      if ((await this.opts.isLocal(inj.runId)) || (await hasHeartbeat(this.opts.redis, this.opts.prefix, inj.runId).catch(() => true))) {
        result.live.push(inj.runId);
        this.backoff.delete(inj.runId);
      } else dead.push(inj);
    }
    for (const id of this.backoff.keys()) if (!found.has(id)) this.backoff.delete(id);

    await Promise.all(dead.map(async (inj) => {
      const b = this.backoff.get(inj.runId);
      if (b && b.nextAt > Date.now()) return void result.waiting.push(inj.runId);
      const lockKey = `${this.opts.prefix}:revert-lock:${inj.runId}`;
      const took = await this.opts.redis.set(lockKey, String(process.pid), 'PX', 30_000, 'NX').catch(() => null);
      if (took !== 'OK') return void result.waiting.push(inj.runId);
      try {
        await this.revert(inj);
        this.backoff.delete(inj.runId);
        result.reverted.push(inj.runId);
      } catch (err) {
        const error = (err as Error).message;
        const attempts = (b?.attempts ?? 0) + 1;
        const delay = Math.min(250 * 2 ** attempts, this.opts.maxBackoffMs ?? 4000);
        this.backoff.set(inj.runId, { attempts, nextAt: Date.now() + delay, lastError: error });
        result.failed.push({ runId: inj.runId, error });
        log.child({ runId: inj.runId, experiment: inj.experiment }).error({ fault: inj.fault, err: error, attempts, retryInMs: delay }, 'revert loop: revert failed; retrying');
      } finally {
        await this.opts.redis.del(lockKey).catch(() => undefined);
      }
    }));
    if (!this.opts.cluster) revertsPending.set(dead.length - result.reverted.length);
    return result;
  }

  private async revert(inj: Injection): Promise<void> {
    const log = this.opts.log.child({ runId: inj.runId, experiment: inj.experiment, ...(inj.cluster ? { cluster: inj.cluster } : {}) });
    const driver = FAULT_DRIVERS[inj.fault];
    if (!driver) throw new Error(`unknown fault type ${String(inj.fault)}`);
    log.warn({ fault: inj.fault, touched: inj.touched.map((t) => `${t.kind}/${t.namespace ? `${t.namespace}/` : ''}${t.name}`) }, 'revert loop: reverting a fault whose run is not live');
    try {
      await driver.revert(this.opts.kc, inj, log);
    } catch (err) {
      revertAttempts.inc({ by: 'loop', result: 'error' });
      throw err;
    }
    revertAttempts.inc({ by: 'loop', result: 'ok' });
    await this.ledger.remove(inj.runId);
    // The dead run's slot and workload locks would only lapse by TTL: free them now.
    const state = new SafetyState(this.opts.redis, { prefix: this.opts.prefix, maxConcurrentRuns: 0 });
    await state.releaseWorkloads(await state.lockedWorkloads(), inj.runId);
    await state.releaseSlot(inj.runId);
    log.info({ fault: inj.fault }, 'revert loop: reverted');
    await this.opts.onReverted?.(inj).catch((err: unknown) => log.error({ err: (err as Error).message }, 'revert loop: could not end the run record'));
  }

  private withTimeout<T>(p: Promise<T>, what: string, ms = 3000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${what} timed out after ${ms}ms`)), ms);
      p.then((v) => (clearTimeout(t), resolve(v)), (e: unknown) => (clearTimeout(t), reject(e instanceof Error ? e : new Error(String(e)))));
    });
  }
}
