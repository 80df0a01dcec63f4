// Applies a plan through the queue layer, then records it in the applied store. The queue side
// always goes first: if it fails, the applied record is not written and the next pass retries
// (deterministic job ids make the retry collapse onto anything that did get through).
import type { Job } from 'bullmq';
import { silentLogger, type Logger } from '../log.js';
import type { RunJobData } from '../runs/types.js';
import { requestAbort, setFreeze } from '../queue/abort.js';
import { runJobId } from '../queue/keys.js';
import type { LeaderLock } from '../queue/leader.js';
import {
  enqueueRun,
  forgetFinishedRun,
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
  /** Items applied at once; default 16. */
  parallelism?: number;
}

type SummaryItem = ReconcileSummary['items'][number];

export const FREEZE_REASON = 'freeze: .faultline/freeze is present in the repository';

export class Reconciler {
  private readonly log: Logger;

  constructor(private readonly opts: ReconcilerOptions) {
    this.log = opts.log ?? silentLogger;
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
      this.log.info({ revision: req.revision }, 'not the leader: reconcile skipped');
      return { ...summary, skipped: 'not-leader' };
    }
    const applied = await this.opts.applied.list();
    const plan = planReconcile({ ...req, applied });
    await this.apply(plan, applied, summary);
    this.log.info(
      { revision: plan.revision, freeze: plan.freeze, counts: summary.counts, enqueued: summary.enqueued, failed: summary.failed },
      'reconcile done',
    );
    return summary;
  }

  private async apply(plan: ReconcilePlan, applied: Map<string, AppliedRecord>, summary: ReconcileSummary): Promise<void> {
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

    // 2. One pass over not-yet-started runs: drop those of stopped experiments, and those of
    //    updated ones queued for an older spec (scheduler jobs are replaced by the upsert).
    const stop = new Set(stopping.filter((i) => !results.has(i.name)).map((i) => i.name));
    const updated = new Map(plan.items.filter((i) => i.action === 'update').map((i) => [i.name, i.specHash]));
    if (plan.freeze) updated.clear(); // frozen: updates are held, their queued runs stay until the thaw
    if (stop.size > 0 || updated.size > 0) {
      try {
        const removed = await removePendingRuns(queues, (job: Job<RunJobData>) => {
          const d = job.data;
          if (stop.has(d.experiment)) return true;
          const hash = updated.get(d.experiment);
          return hash !== undefined && d.specHash !== hash && !job.repeatJobKey;
        });
        if (removed.length) this.log.info({ jobIds: removed }, 'removed queued runs of deleted, suspended or changed experiments');
      } catch (err) {
        for (const item of plan.items) if (stop.has(item.name) || updated.has(item.name)) fail(item, err);
      }
    }

    // 3. Per item: the queue side, then the applied record.
    const missingSchedulers = await this.missingSchedulers(plan, applied);
    await this.pool(plan.items, async (item) => {
      if (results.has(item.name)) return; // failed above
      try {
        results.set(item.name, await this.applyItem(item, applied.get(item.name), plan.freeze, missingSchedulers));
      } catch (err) {
        fail(item, err);
      }
    });

    for (const item of plan.items) {
      const r = results.get(item.name) ?? { ...base(item), result: 'noop' as const };
      summary.items.push(r);
      summary.counts[item.action]++;
      if (r.enqueued) summary.enqueued++;
      if (r.result === 'failed') summary.failed++;
      const line = { experiment: item.name, action: item.action, result: r.result, file: item.file, specHash: item.specHash?.slice(0, 16), jobId: r.jobId };
      if (r.result === 'failed') this.log.error({ ...line, error: r.error }, `reconcile ${item.action} failed; retried next pass`);
      else if (item.action === 'invalid') this.log.warn({ ...line, problems: item.problems?.map((p) => `${p.file}:${p.line}:${p.column} ${p.message}`) }, 'reconcile invalid: file blocked');
      else if (item.action === 'unchanged') this.log.debug(line, 'reconcile unchanged');
      else this.log.info(line, `reconcile ${item.action}`);
    }
  }

  private async applyItem(
    item: PlanItem,
    prev: AppliedRecord | undefined,
    frozen: boolean,
    missingSchedulers: Set<string>,
  ): Promise<SummaryItem> {
    const { queues, applied } = this.opts;
    const now = (this.opts.now?.() ?? new Date()).toISOString();
    switch (item.action) {
      case 'invalid':
        return { ...base(item), result: 'noop' };

      case 'unchanged': {
        if (prev?.scheduled && missingSchedulers.has(item.name) && !frozen) {
          // The schedule vanished from Redis (flush, new Redis): register it again.
          await upsertSchedule(queues, runData(item));
        }
        if (prev && prev.file !== item.file) await applied.put({ ...prev, file: item.file });
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
          const { next } = await upsertSchedule(queues, data);
          await applied.put({ ...record, scheduled: true });
          return { ...base(item), result: 'applied', jobId: `scheduler ${item.name}${next ? ` next ${new Date(next).toISOString()}` : ''}` };
        }
        if (prev?.scheduled) await removeSchedule(queues, item.name);
        if (prev) {
          // A finished job with this id from before the current applied record is an earlier
          // spec coming back (A → B → A): that is a new spec revision and runs again. A newer
          // one is a replay of this very apply whose record was never written: it collapses.
          const old = await queues.runs.getJob(data.runId);
          if (old && old.timestamp < Date.parse(prev.appliedAt)) await forgetFinishedRun(queues, data.runId);
        }
        const { jobId, added } = await enqueueRun(queues, data);
        await applied.put(record);
        return { ...base(item), result: 'applied', jobId, enqueued: added };
      }

      case 'suspend':
        await applied.put({
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
        await requestAbort(queues.redis, queues.prefix, { experiment: item.name, reason: `experiment ${item.name} was deleted from Git` });
        await applied.remove(item.name);
        return { ...base(item), result: 'applied' };
      }
    }
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
    const width = Math.max(1, this.opts.parallelism ?? 16);
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

