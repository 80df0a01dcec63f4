// The two BullMQ queues (`reconcile`, `runs`) and the ways work gets onto them.
import { randomUUID } from 'node:crypto';
import { Queue, type JobsOptions, type JobType } from 'bullmq';
import { Redis } from 'ioredis';
import type { RunJobData } from '../runs/types.js';
import { requestAbort, type AbortRequest } from './abort.js';
import { keys, QUEUE_RECONCILE, QUEUE_RUNS, runJobId } from './keys.js';
import { memoRepeatStrategy } from './repeat-strategy.js';

export interface ReconcileJobData {
  trigger: 'push' | 'poll' | 'manual' | 'startup' | 'cluster'; // cluster: a ChaosExperiment/ChaosWorkflow resource changed
  revision?: string;
  requestedAt: string; // ISO time
}

export interface Queues {
  reconcile: Queue<ReconcileJobData>;
  runs: Queue<RunJobData>;
  redis: Redis; // plain commands (abort publish, freeze flag, markers); not for blocking calls
  prefix: string;
  close(): Promise<void>;
}

const DAY_S = 24 * 3600;
// Finished run jobs stay long enough that a replayed enqueue of the same id collapses; the
// run marker (30 days) and the applied store are the guards beyond that.
export const RUN_JOB_OPTIONS: JobsOptions = {
  attempts: 1,
  removeOnComplete: { age: 7 * DAY_S, count: 50_000 },
  removeOnFail: { age: 30 * DAY_S, count: 50_000 },
};

/** An ioredis connection suitable for BullMQ (workers need maxRetriesPerRequest: null). */
export function redisConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

export function createQueues(connection: string | Redis, prefix: string): Queues {
  const owned = typeof connection === 'string';
  const redis = typeof connection === 'string' ? redisConnection(connection) : connection;
  const reconcile = new Queue<ReconcileJobData>(QUEUE_RECONCILE, {
    connection: redis,
    prefix,
    defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { count: 100 }, removeOnFail: { count: 500 } },
  });
  // Cron next times are remembered per pattern: a start registering 10,000 schedulers computes a few.
  const runs = new Queue<RunJobData>(QUEUE_RUNS, { connection: redis, prefix, defaultJobOptions: RUN_JOB_OPTIONS, settings: { repeatStrategy: memoRepeatStrategy() } });
  return {
    reconcile,
    runs,
    redis,
    prefix,
    async close() {
      await Promise.all([reconcile.close(), runs.close()]);
      if (owned) await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * Adds a run with its deterministic id. A job with the same id that is still in the queue
 * (waiting, active, or finished and kept) makes this a no-op: `added` is false.
 */
export async function enqueueRun(queues: Queues, data: RunJobData): Promise<{ jobId: string; added: boolean }> {
  const jobId = runJobId(data.experiment, data.specHash, data.occurrence);
  // The existence check only feeds the `added` flag; BullMQ's own id check does the collapsing.
  const existing = await queues.runs.getJob(jobId);
  if (existing) return { jobId, added: false };
  await queues.runs.add('run', { ...data, runId: data.runId || jobId }, { ...RUN_JOB_OPTIONS, jobId });
  return { jobId, added: true };
}

/**
 * Asks for a reconcile. While one is waiting, more requests fold into it; while one is
 * running, at most one more is kept (the latest), so a burst of webhooks costs two passes.
 */
export async function enqueueReconcile(
  queues: Queues,
  reason: { trigger: ReconcileJobData['trigger']; revision?: string },
): Promise<{ jobId: string; added: boolean }> {
  const id = `reconcile.${Date.now()}.${randomUUID().slice(0, 8)}`;
  const data: ReconcileJobData = { trigger: reason.trigger, requestedAt: new Date().toISOString() };
  if (reason.revision) data.revision = reason.revision;
  const job = await queues.reconcile.add('reconcile', data, {
    jobId: id,
    deduplication: { id: 'reconcile', keepLastIfActive: true },
  });
  return { jobId: job.id ?? id, added: job.id === id };
}

/** Registers (or replaces) the cron schedule of an experiment: one job per occurrence. */
export async function upsertSchedule(queues: Queues, data: RunJobData): Promise<{ next?: number }> {
  const schedule = data.spec.spec.schedule;
  if (!schedule) throw new Error(`experiment ${data.experiment} has no schedule`);
  const job = await queues.runs.upsertJobScheduler(
    data.experiment,
    { pattern: schedule.cron, tz: schedule.timezone ?? 'UTC' },
    { name: 'run', data: { ...data, runId: '', occurrence: 'scheduled', trigger: 'schedule' }, opts: RUN_JOB_OPTIONS },
  );
  const delay = job?.opts.delay;
  return delay === undefined ? {} : { next: job.timestamp + delay };
}

export async function removeSchedule(queues: Queues, name: string): Promise<void> {
  await queues.runs.removeJobScheduler(name);
}

const PENDING_STATES: JobType[] = ['waiting', 'delayed', 'prioritized', 'waiting-children'];

/** The experiment a run job id belongs to (names are DNS-1123 labels: no '.' or ':'). */
export function experimentOfJobId(jobId: string): string | undefined {
  if (jobId.startsWith('repeat:')) {
    const end = jobId.indexOf(':', 7);
    return end > 7 ? jobId.slice(7, end) : undefined;
  }
  const dot = jobId.indexOf('.');
  return dot > 0 ? jobId.slice(0, dot) : undefined;
}

/**
 * Removes every not-yet-started run job of the given experiments (one-off, manual and the
 * scheduler's next occurrence). Works on job ids alone, so it stays cheap with a long queue.
 * Active runs are left to the abort path. Returns the removed job ids.
 */
export async function removePendingRuns(queues: Queues, experiments: Iterable<string>): Promise<string[]> {
  const names = new Set(experiments);
  if (names.size === 0) return [];
  const ids = await queues.runs.getRanges(PENDING_STATES, 0, -1);
  const removed: string[] = [];
  for (const id of ids) {
    const name = experimentOfJobId(id);
    if (name === undefined || !names.has(name)) continue;
    // 0 when a worker took it meanwhile: the abort request handles that one.
    if ((await queues.runs.remove(id)) === 1) removed.push(id);
  }
  return removed;
}

/** Removes one run job if it has not started yet; true when it was removed. */
export async function removePendingRun(queues: Queues, jobId: string): Promise<boolean> {
  const job = await queues.runs.getJob(jobId);
  if (!job) return false;
  const state = await job.getState();
  if (!PENDING_STATES.includes(state as JobType)) return false;
  return (await queues.runs.remove(jobId)) === 1;
}

/** Removes a finished (completed/failed) run job and its run marker so the same id may run again. */
export async function forgetFinishedRun(queues: Queues, jobId: string): Promise<void> {
  const job = await queues.runs.getJob(jobId);
  if (job) {
    const state = await job.getState();
    if (state !== 'completed' && state !== 'failed') return;
    await job.remove();
  }
  await queues.redis.del(keys.runMarker(queues.prefix, jobId));
}

/**
 * `faultline abort` / POST /api/abort: drops the matching runs that have not started and asks
 * running ones to abort (they revert). `all` only aborts active runs; queued ones stay.
 */
export async function cancelRuns(
  queues: Queues,
  target: { runId?: string; experiment?: string; all?: boolean },
  reason: string,
): Promise<{ removed: string[]; request: AbortRequest }> {
  const removed: string[] = [];
  if (target.runId && (await removePendingRun(queues, target.runId))) removed.push(target.runId);
  if (target.experiment) removed.push(...(await removePendingRuns(queues, [target.experiment])));
  const request = await requestAbort(queues.redis, queues.prefix, { ...target, reason });
  return { removed, request };
}
