// Applies a plan through the queue layer, then records it in the applied store. The queue side
// always goes first: if it fails, the applied record is not written and the next pass retries
// (deterministic job ids make the retry collapse onto anything that did get through).
import { silentLogger, type Logger } from '../log.js';
import type { RunJobData } from '../runs/types.js';
import { requestAbort, setFreeze } from '../queue/abort.js';
import { runJobId } from '../queue/keys.js';
import type { LeaderLock } from '../queue/leader.js';
import {
  enqueueRun,
  forgetFinishedRun,
  removePendingRun,
  removePendingRuns,
  removeSchedule,
  upsertSchedule,
  type Queues,
} from '../queue/queues.js';
import { planReconcile } from './plan.js';
import type {
  AppliedRecord,
  AppliedStore,
  PlanItem,
  ReconcilePlan,
  ReconcileRequest,
  ReconcileSummary,
} from './types.js';

export interface ReconcilerOptions {
  queues: Queues;
  applied: AppliedStore;
  log?: Logger;
  /** When given, a replica that is not the leader skips the pass. */
  leader?: LeaderLock;
  now?: () => Date;
  /** Items applied at once; default 64. */
  parallelism?: number;
}

type SummaryItem = ReconcileSummary['items'][number];

const BULK_LOG = 200;

export const FREEZE_REASON = 'freeze: .faultline/freeze is present in the repository';

export class Reconciler {
  private readonly log: Logger;
  // The applied records as of the end of the last pass. This reconciler is the only writer while
  // it leads, so it keeps them in memory and re-reads the store only after a failure, a change
  // of leadership or invalidate(): reading 10,000 records costs more than the whole pass.
  private cache: Map<string, AppliedRecord> | undefined;
  private wasLeader = false;

  constructor(private readonly opts: ReconcilerOptions) {
    this.log = opts.log ?? silentLogger;
  }

  /** Whether the last pass went through as leader (its applied records are held in memory). */
  holdsCache(): boolean {
    return this.cache !== undefined && (!this.opts.leader || this.opts.leader.isLeader());
  }

  /** Forget the in-memory applied records; the next pass reads the store. */
  invalidate(): void {
    this.cache = undefined;
  }

  async reconcile(req: ReconcileRequest): Promise<ReconcileSummary> {
    const summary: ReconcileSummary = {
      revision: req.revision,
      freeze: req.freeze,
      counts: { create: 0, update: 0, delete: 0, unchanged: 0, suspend: 0, invalid: 0 },
      enqueued: 0,
      failed: 0,
      items: [],
    };
    if (this.opts.leader && !this.opts.leader.isLeader()) {
      this.wasLeader = false;
      this.cache = undefined;
      this.log.info({ revision: req.revision }, 'not the leader: reconcile skipped');
      return { ...summary, skipped: 'not-leader' };
    }
    if (this.opts.leader && !this.wasLeader) this.cache = undefined;
    this.wasLeader = true;
    const fromStore = !this.cache;
    const applied = this.cache ?? (await this.opts.applied.list());
    this.cache = undefined; // rebuilt below once the pass has gone through
    const plan = planReconcile({ ...req, applied });
    const release = this.opts.applied.hold?.();
    try {
      await this.apply(plan, applied, summary, fromStore);
    } finally {
      release?.();
    }
    if (summary.failed === 0) this.cache = applied;
    this.log.info(
      { revision: plan.revision, freeze: plan.freeze, counts: summary.counts, enqueued: summary.enqueued, failed: summary.failed },
      'reconcile done',
    );
    return summary;
  }

  private async apply(plan: ReconcilePlan, applied: Map<string, AppliedRecord>, summary: ReconcileSummary, fromStore: boolean): Promise<void> {
    const { queues } = this.opts;
    await setFreeze(queues.redis, queues.prefix, plan.freeze);
    if (plan.freeze) await requestAbort(queues.redis, queues.prefix, { all: true, reason: FREEZE_REASON });

    const results = new Map<string, SummaryItem>();
    const fail = (item: PlanItem, err: unknown) => {
      const error = err instanceof Error ? err.message : String(err);
      results.set(item.name, { ...base(item), result: 'failed', error });
    };

    // 1. Stop what must stop: schedules of deleted and suspended experiments.
    const stopping = plan.items.filter((i) => i.action === 'delete' || i.action === 'suspend');
    await this.pool(stopping, async (item) => {
      try {
        await removeSchedule(queues, item.name);
      } catch (err) {
        fail(item, err);
      }
    });

    // 2. Drop not-yet-started runs of stopped experiments (one pass over queued job ids).
    const stop = new Set(stopping.filter((i) => !results.has(i.name)).map((i) => i.name));
    if (stop.size > 0) {
      try {
        const removed = await removePendingRuns(queues, stop);
        if (removed.length) this.log.info({ jobIds: removed }, 'removed queued runs of deleted or suspended experiments');
      } catch (err) {
        for (const item of stopping) if (stop.has(item.name)) fail(item, err);
      }
    }

    // 3. Per item: the queue side, then the applied record.
    const missingSchedulers = await this.missingSchedulers(plan, applied);
    // Only when the records came from the store (start-up, new leader): that is when Redis may have been lost.
    const missingRuns = fromStore ? await this.missingRuns(plan, applied) : new Set<string>();
    const work = plan.items.filter(
      (i) => i.action !== 'unchanged' || missingSchedulers.has(i.name) || missingRuns.has(i.name) || applied.get(i.name)?.file !== i.file,
    );
    // Record writes are not awaited one by one: the store batches them (one commit per pass);
    // they are all awaited below, and a failed one fails its item (retried next pass).
    const writes: { item: PlanItem; done: Promise<void> }[] = [];
    await this.pool(work, async (item) => {
      if (results.has(item.name)) return; // failed above
      try {
        results.set(item.name, await this.applyItem(item, applied, plan.freeze, missingSchedulers, missingRuns, (done) => writes.push({ item, done })));
      } catch (err) {
        fail(item, err);
      }
    });
    const settled = await Promise.allSettled(writes.map((w) => w.done));
    settled.forEach((s, i) => {
      if (s.status === 'rejected') fail(writes[i]!.item, s.reason);
    });

    const debug = this.log.isLevelEnabled('debug');
    // A bulk pass (a first start, a mass edit) logs its items at debug: 'reconcile done' has the counts.
    const bulk = work.length > BULK_LOG;
    for (const item of plan.items) {
      const r = results.get(item.name) ?? { ...base(item), result: 'noop' as const };
      summary.items.push(r);
      summary.counts[item.action]++;
      if (r.enqueued) summary.enqueued++;
      if (r.result === 'failed') summary.failed++;
      if (item.action === 'unchanged' && r.result === 'noop' && !debug) continue;
      const line = { experiment: item.name, action: item.action, result: r.result, file: item.file, specHash: item.specHash?.slice(0, 16), jobId: r.jobId };
      if (r.result === 'failed') this.log.error({ ...line, error: r.error }, `reconcile ${item.action} failed; retried next pass`);
      else if (item.action === 'invalid') this.log.warn({ ...line, problems: item.problems?.map((p) => `${p.file}:${p.line}:${p.column} ${p.message}`) }, 'reconcile invalid: file blocked');
      else if (item.action === 'unchanged') this.log.debug(line, 'reconcile unchanged');
      else if (bulk) this.log.debug(line, `reconcile ${item.action}`);
      else this.log.info(line, `reconcile ${item.action}`);
    }
  }

  private async applyItem(
    item: PlanItem,
    records: Map<string, AppliedRecord>,
    frozen: boolean,
    missingSchedulers: Set<string>,
    missingRuns: Set<string>,
    track: (done: Promise<void>) => void,
  ): Promise<SummaryItem> {
    const { queues } = this.opts;
    const prev = records.get(item.name);
    // Writes are handed to the store (awaited for the whole pass by the caller) and go to the
    // in-memory copy at once; a failed write discards that copy (the pass counts as failed).
    const applied = {
      put: (r: AppliedRecord) => {
        track(this.opts.applied.put(r));
        records.set(r.name, r);
      },
      remove: (name: string) => {
        track(this.opts.applied.remove(name));
        records.delete(name);
      },
    };
    const now = (this.opts.now?.() ?? new Date()).toISOString();
    switch (item.action) {
      case 'invalid':
        return { ...base(item), result: 'noop' };

      case 'unchanged': {
        if (prev?.scheduled && missingSchedulers.has(item.name) && !frozen) {
          // The schedule vanished from Redis (flush, new Redis): register it again.
          await upsertSchedule(queues, runData(item));
        }
        if (prev && prev.file !== item.file) applied.put({ ...prev, file: item.file });
        if (missingRuns.has(item.name) && !frozen) {
          // Applied, run queued, but the job is gone (Redis lost): the run is still owed, once.
          const { jobId, added } = await enqueueRun(queues, runData(item));
          this.log.warn({ experiment: item.name, jobId }, 'one-off run owed by the status branch was missing from the queue; queued again');
          return { ...base(item), result: 'applied', jobId, enqueued: added };
        }
        return { ...base(item), result: 'noop' };
      }

      case 'create':
      case 'update': {
        if (frozen) return { ...base(item), result: 'held' };
        const data = runData(item);
        const record: AppliedRecord = {
          name: item.name,
          file: item.file,
          specHash: item.specHash!,
          revision: item.revision,
          appliedAt: now,
          scheduled: false,
          suspended: false,
        };
        if (item.experiment!.experiment.spec.schedule) {
          if (prev && !prev.scheduled && prev.specHash !== item.specHash) await removePendingRun(queues, runJobId(item.name, prev.specHash, 'once'));
          const { next } = await upsertSchedule(queues, data);
          applied.put({ ...record, scheduled: true });
          return { ...base(item), result: 'applied', jobId: `scheduler ${item.name}${next ? ` next ${new Date(next).toISOString()}` : ''}` };
        }
        if (prev?.scheduled) await removeSchedule(queues, item.name);
        if (prev && prev.specHash !== item.specHash) {
          // The run queued for the previous spec has not started: it would run a stale spec.
          await removePendingRun(queues, runJobId(item.name, prev.specHash, 'once'));
          // A finished job with this id from before the current applied record is an earlier
          // spec coming back (A → B → A): that is a new spec revision and runs again. A newer
          // one is a replay of this very apply whose record was never written: it collapses.
          const old = await queues.runs.getJob(data.runId);
          if (old && old.timestamp < Date.parse(prev.appliedAt)) await forgetFinishedRun(queues, data.runId);
        }
        const { jobId, added } = await enqueueRun(queues, data);
        applied.put({ ...record, run: 'queued' });
        return { ...base(item), result: 'applied', jobId, enqueued: added };
      }

      case 'suspend':
        applied.put({
          name: item.name,
          file: item.file,
          specHash: item.specHash!,
          revision: prev?.specHash === item.specHash ? prev!.revision : item.revision,
          appliedAt: now,
          scheduled: false,
          suspended: true,
        });
        return { ...base(item), result: 'applied' };

      case 'delete': {
        if (prev) await forgetFinishedRun(queues, runJobId(item.name, prev.specHash, 'once'));
        // k8s:<namespace>/<plural>/<name>: a custom resource (src/cluster/custom-resources.ts)
        const where = (prev?.file ?? item.file ?? '').startsWith('k8s:') ? `its resource ${(prev?.file ?? item.file)!.slice(4)} was deleted from the cluster` : 'was deleted from Git';
        await requestAbort(queues.redis, queues.prefix, { experiment: item.name, reason: `experiment ${item.name} ${where}` });
        applied.remove(item.name);
        return { ...base(item), result: 'applied' };
      }
    }
  }

  /** One-offs the status branch says are queued whose run job is gone from Redis (one pipelined EXISTS). */
  private async missingRuns(plan: ReconcilePlan, applied: Map<string, AppliedRecord>): Promise<Set<string>> {
    const owed = plan.items.filter((i) => {
      const r = i.action === 'unchanged' ? applied.get(i.name) : undefined;
      return r && r.run === 'queued' && !r.scheduled && !r.suspended && r.specHash === i.specHash;
    });
    if (owed.length === 0) return new Set();
    const runs = this.opts.queues.runs;
    const pipe = this.opts.queues.redis.pipeline();
    for (const i of owed) pipe.exists(runs.toKey(runJobId(i.name, i.specHash!, 'once')));
    const found = (await pipe.exec()) ?? [];
    return new Set(owed.filter((_, n) => found[n]?.[1] === 0).map((i) => i.name));
  }

  /** Scheduled experiments whose BullMQ scheduler is gone (e.g. Redis was flushed). */
  private async missingSchedulers(plan: ReconcilePlan, applied: Map<string, AppliedRecord>): Promise<Set<string>> {
    const expected = plan.items.filter((i) => i.action === 'unchanged' && applied.get(i.name)?.scheduled).map((i) => i.name);
    if (expected.length === 0) return new Set();
    const runs = this.opts.queues.runs;
    let scheduled = 0;
    for (const r of applied.values()) if (r.scheduled) scheduled++;
    // Every scheduler on this queue is one of ours: equal counts mean nothing is missing.
    if ((await runs.getJobSchedulersCount()) >= scheduled) return new Set();
    const have = new Set((await runs.getJobSchedulers(0, -1)).map((s) => s.key));
    return new Set(expected.filter((n) => !have.has(n)));
  }

  private async pool<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
    const width = Math.max(1, this.opts.parallelism ?? 64);
    let next = 0;
    const lanes = Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    });
    await Promise.all(lanes);
  }
}

function base(item: PlanItem): Omit<SummaryItem, 'result'> {
  const out: Omit<SummaryItem, 'result'> = { name: item.name, action: item.action, file: item.file };
  if (item.specHash) out.specHash = item.specHash;
  return out;
}

function runData(item: PlanItem): RunJobData {
  const e = item.experiment!;
  return {
    runId: runJobId(item.name, e.specHash, 'once'),
    experiment: item.name,
    file: e.file,
    specHash: e.specHash,
    revision: item.revision,
    occurrence: 'once',
    trigger: 'reconcile',
    spec: e.experiment,
  };
}

