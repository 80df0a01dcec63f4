// The runs worker: takes jobs from `runs`, calls the executor with an abort signal, and makes
// sure each job reaches the executor at most once. A Redis marker per job id records that the
// run started; a job BullMQ re-delivers after its worker died (stalled check) finds the marker
// and goes to the redelivery path instead of injecting again.
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { ReasonCode, RunExecutor, RunJobData, RunRecord, RunState, RunStore } from '../runs/types.js';
import { endRun } from '../runs/lifecycle.js';
import { ORPHAN_REASON, REASONS, type Ending } from '../runs/reasons.js';
import { silentLogger, type Logger } from '../log.js';
import { isFrozen, matchesRun, pendingAbort, subscribeAbort, type AbortRequest } from './abort.js';
import { keys, QUEUE_RUNS, runJobId } from './keys.js';

export { ORPHAN_REASON };
const MARKER_TTL_MS = 30 * 24 * 3600 * 1000;

export interface RunMarker {
  state: 'started' | 'done';
  runId: string;
  at: string;
  worker: string;
  outcome?: string;
}

export type RunJobResult = { runId: string; state: RunState } | { runId: string; skipped: 'duplicate' };

export interface RunWorkerOptions {
  connection: string | Redis;
  prefix: string;
  concurrency?: number; // default 2
  executor: RunExecutor;
  log?: Logger;
  /** Where the worker records runs it ends without the executor (redelivered, frozen, aborted before start). */
  runStore?: RunStore;
  /** A job whose run had already started (its worker died). Default: record it Failed with ORPHAN_REASON. */
  onRedelivered?: (job: RunJobData, marker: RunMarker) => Promise<RunRecord | void>;
  /** Told about every abort request and which active runs it reached on this worker. */
  onAbortRequest?: (req: AbortRequest, runIds: string[]) => void;
  lockDurationMs?: number; // BullMQ lock; a dead worker's job is re-delivered after it lapses (default 30 s)
  stalledIntervalMs?: number; // how often this worker looks for stalled jobs (default 30 s)
}

interface ActiveRun {
  jobId: string;
  runId: string;
  experiment: string;
  controller: AbortController;
}

export interface RunWorker {
  readonly worker: Worker<RunJobData, RunJobResult>;
  /** Aborts matching active runs on this worker; returns their run ids. */
  abort(req: Pick<AbortRequest, 'runId' | 'experiment' | 'all' | 'reason'> & { code?: ReasonCode }): string[];
  active(): { jobId: string; runId: string; experiment: string }[];
  /** Stops taking jobs and waits for active runs to finish (abortActive: ask them to revert first). */
  close(opts?: { abortActive?: boolean; reason?: string }): Promise<void>;
}

/** Fills in run id and occurrence for jobs made by a job scheduler (their template has none). */
export function runDataOf(job: Job<RunJobData>): RunJobData {
  const data = job.data;
  if (data.runId && data.occurrence !== 'scheduled') return data;
  if (data.occurrence === 'scheduled' || job.repeatJobKey) {
    const fromId = Number(job.id?.split(':').pop()); // scheduler job ids are repeat:<id>:<millis>
    const millis = job.opts.prevMillis ?? (Number.isFinite(fromId) ? fromId : job.timestamp);
    const occurrence = String(millis);
    return { ...data, occurrence, trigger: 'schedule', runId: runJobId(data.experiment, data.specHash, occurrence) };
  }
  return { ...data, runId: job.id ?? runJobId(data.experiment, data.specHash, data.occurrence) };
}

export async function startRunWorker(opts: RunWorkerOptions): Promise<RunWorker> {
  const log = opts.log ?? silentLogger;
  const redis = typeof opts.connection === 'string' ? new Redis(opts.connection, { maxRetriesPerRequest: null }) : opts.connection.duplicate();
  const active = new Map<string, ActiveRun>();
  const workerName = `${process.pid}.${Math.random().toString(36).slice(2, 8)}`;

  const abort = (req: Pick<AbortRequest, 'runId' | 'experiment' | 'all' | 'reason'> & { code?: ReasonCode }): string[] => {
    const hit: string[] = [];
    for (const run of active.values()) {
      if (!matchesRun({ ...req, at: 0, reason: req.reason ?? 'abort requested' }, run)) continue;
      // The Error carries the reason code to the executor (e.g. ShuttingDown).
      if (!run.controller.signal.aborted) run.controller.abort(Object.assign(new Error(req.reason ?? 'abort requested'), req.code ? { code: req.code } : {}));
      hit.push(run.runId);
    }
    return hit;
  };

  const subscription = await subscribeAbort(redis, opts.prefix, (req) => {
    const hit = abort(req);
    if (hit.length) log.info({ runIds: hit, reason: req.reason }, 'abort request reached active runs');
    opts.onAbortRequest?.(req, hit);
  });

  // Runs this worker ends without the executor go through the runs lifecycle (one constructor,
  // the state machine, reason codes, a terminal record never rewritten). The state it returns:
  // the stored record's, else the ending's.
  const end = async (data: RunJobData, ending: Ending): Promise<RunState> => {
    const ended = await endRun({ store: opts.runStore, log }, data, data.runId, ending);
    return (ended ?? (await opts.runStore?.get(data.runId)))?.state ?? ({ failed: 'Failed', aborted: 'Aborted', succeeded: 'Succeeded' } as const)[ending.outcome];
  };

  const onRedelivered =
    opts.onRedelivered ??
    (async (data: RunJobData) => {
      await end(data, REASONS.controllerDied());
    });

  const processor = async (job: Job<RunJobData, RunJobResult>, _token?: string, bullSignal?: AbortSignal): Promise<RunJobResult> => {
    const data = runDataOf(job);
    const jobId = job.id!;
    const runLog = log.child({ experiment: data.experiment, runId: data.runId, jobId });
    // Register before the first await so an abort message arriving now is not missed.
    const controller = new AbortController();
    active.set(jobId, { jobId, runId: data.runId, experiment: data.experiment, controller });
    const onBullAbort = () => controller.abort(new Error(String(bullSignal?.reason ?? 'job cancelled')));
    bullSignal?.addEventListener('abort', onBullAbort, { once: true });
    const markerKey = keys.runMarker(opts.prefix, jobId);
    try {
      const marker: RunMarker = { state: 'started', runId: data.runId, at: new Date().toISOString(), worker: workerName };
      const first = await redis.set(markerKey, JSON.stringify(marker), 'PX', MARKER_TTL_MS, 'NX');
      if (first !== 'OK') {
        const raw = await redis.get(markerKey);
        const seen = raw ? (JSON.parse(raw) as RunMarker) : marker;
        if (seen.state === 'done') {
          runLog.info({ outcome: seen.outcome }, 'run already executed for this job id; not running again');
          return { runId: data.runId, skipped: 'duplicate' };
        }
        runLog.warn({ startedBy: seen.worker, startedAt: seen.at }, 'run job re-delivered after its run had started; not injecting again');
        const rec = await onRedelivered(data, seen);
        await finish(markerKey, data.runId, 'redelivered');
        return { runId: data.runId, state: rec ? rec.state : 'Failed' };
      }

      let frozen: boolean;
      try {
        frozen = await isFrozen(redis, opts.prefix);
        const pending = await pendingAbort(redis, opts.prefix, { runId: data.runId, experiment: data.experiment, enqueuedAt: job.timestamp });
        if (pending) controller.abort(new Error(pending.reason));
      } catch (err) {
        // Nothing started yet: clear the marker so a retry is a first delivery, not an orphan.
        await redis.del(markerKey).catch(() => undefined);
        throw err;
      }
      if (frozen) {
        const state = await end(data, REASONS.notStartedFrozen());
        runLog.warn('kill switch on: run not started');
        await finish(markerKey, data.runId, 'aborted');
        return { runId: data.runId, state };
      }

      // queuedAt/waitedMs: when the job was added, and how long it waited for a worker slot.
      runLog.info({ occurrence: data.occurrence, trigger: data.trigger, queuedAt: job.timestamp, waitedMs: Date.now() - job.timestamp }, 'run starting');
      let outcome = 'error';
      try {
        const rec = await opts.executor.execute(data, controller.signal);
        outcome = rec.outcome ?? rec.state;
        runLog.info({ state: rec.state, outcome: rec.outcome }, 'run finished');
        return { runId: data.runId, state: rec.state };
      } finally {
        await finish(markerKey, data.runId, outcome);
      }
    } finally {
      bullSignal?.removeEventListener('abort', onBullAbort);
      active.delete(jobId);
    }
  };

  const finish = async (markerKey: string, runId: string, outcome: string) => {
    const done: RunMarker = { state: 'done', runId, at: new Date().toISOString(), worker: workerName, outcome };
    await redis.set(markerKey, JSON.stringify(done), 'PX', MARKER_TTL_MS);
  };

  const worker = new Worker<RunJobData, RunJobResult>(QUEUE_RUNS, processor, {
    connection: redis,
    prefix: opts.prefix,
    concurrency: opts.concurrency ?? 2,
    lockDuration: opts.lockDurationMs ?? 30_000,
    stalledInterval: opts.stalledIntervalMs ?? 30_000,
    maxStalledCount: 1,
  });
  worker.on('failed', (job, err) => log.error({ err, jobId: job?.id, experiment: job?.data.experiment }, 'run job failed'));
  worker.on('error', (err) => log.error({ err }, 'runs worker error'));
  await worker.waitUntilReady();

  let closing: Promise<void> | undefined;
  return {
    worker,
    abort,
    active: () => [...active.values()].map(({ jobId, runId, experiment }) => ({ jobId, runId, experiment })),
    close(closeOpts) {
      closing ??= (async () => {
        if (closeOpts?.abortActive) abort({ all: true, reason: closeOpts.reason ?? 'controller shutting down', code: 'ShuttingDown' });
        await worker.close(); // waits for active jobs: nothing is dropped
        await subscription.close();
        await redis.quit().catch(() => redis.disconnect());
      })();
      return closing;
    },
  };
}
