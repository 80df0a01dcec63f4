// The `workflows` queue and its worker: one job per workflow run, with the deterministic ids and
// the at-most-once marker of the runs worker (src/queue/run-worker.ts). A job BullMQ re-delivers
// after its worker died finds the marker and is ended (ControllerDied), never run again.
import { Queue, Worker, type Job, type JobType } from 'bullmq';
import type { Redis } from 'ioredis';
import { silentLogger, type Logger } from '../log.js';
import type { ReasonCode } from '../runs/types.js';
import type { WorkflowJobData } from '../workflows/runner.js';
import type { WorkflowRunRecord } from '../workflows/run-types.js';
import { isFrozen, pendingAbort, subscribeAbort, type AbortRequest } from './abort.js';
import { keys, QUEUE_WORKFLOWS, runJobId } from './keys.js';
import { RUN_JOB_OPTIONS } from './queues.js';

const MARKER_TTL_MS = 30 * 24 * 3600 * 1000;
const PENDING: JobType[] = ['waiting', 'delayed', 'prioritized', 'waiting-children'];

export function createWorkflowQueue(connection: Redis, prefix: string): Queue<WorkflowJobData> {
  return new Queue<WorkflowJobData>(QUEUE_WORKFLOWS, { connection, prefix, defaultJobOptions: RUN_JOB_OPTIONS });
}

export const workflowJobId = (workflow: string, specHash: string, occurrence: string) => runJobId(workflow, specHash, occurrence);

/** Adds a run with its deterministic id; a job or marker with that id already there makes it a no-op. */
export async function enqueueWorkflow(queue: Queue<WorkflowJobData>, redis: Redis, prefix: string, data: WorkflowJobData): Promise<{ jobId: string; added: boolean }> {
  const jobId = workflowJobId(data.workflow, data.specHash, data.occurrence);
  if ((await queue.getJob(jobId)) || (await redis.exists(keys.workflowMarker(prefix, jobId)))) return { jobId, added: false };
  await queue.add('workflow', { ...data, runId: jobId }, { ...RUN_JOB_OPTIONS, jobId });
  return { jobId, added: true };
}

/** Registers (or replaces) a workflow's cron schedule: one run per occurrence. */
export async function upsertWorkflowSchedule(queue: Queue<WorkflowJobData>, data: WorkflowJobData): Promise<void> {
  const schedule = data.loaded.workflow.spec.schedule;
  if (!schedule) throw new Error(`workflow ${data.workflow} has no schedule`);
  await queue.upsertJobScheduler(
    data.workflow,
    { pattern: schedule.cron, tz: schedule.timezone ?? 'UTC' },
    { name: 'workflow', data: { ...data, runId: '', occurrence: 'scheduled', trigger: 'schedule' }, opts: RUN_JOB_OPTIONS },
  );
}

/** Drops not-yet-started runs of a workflow (all, or those of other spec hashes). */
export async function removePendingWorkflowRuns(queue: Queue<WorkflowJobData>, workflow: string, keepSpecHash?: string): Promise<string[]> {
  const removed: string[] = [];
  for (const job of await queue.getJobs(PENDING)) {
    if (job.data?.workflow !== workflow || (keepSpecHash && job.data.specHash === keepSpecHash) || job.repeatJobKey) continue;
    await job.remove().catch(() => undefined);
    removed.push(job.id!);
  }
  return removed;
}

/** Fills in run id and occurrence for jobs made by the job scheduler (their template has none). */
export function workflowDataOf(job: Job<WorkflowJobData>): WorkflowJobData {
  const data = job.data;
  if (data.runId && data.occurrence !== 'scheduled') return data;
  if (data.occurrence === 'scheduled' || job.repeatJobKey) {
    const fromId = Number(job.id?.split(':').pop()); // scheduler job ids are repeat:<id>:<millis>
    const occurrence = String(job.opts.prevMillis ?? (Number.isFinite(fromId) ? fromId : job.timestamp));
    return { ...data, occurrence, trigger: 'schedule', runId: workflowJobId(data.workflow, data.specHash, occurrence) };
  }
  return { ...data, runId: job.id ?? workflowJobId(data.workflow, data.specHash, data.occurrence) };
}

export interface WorkflowWorkerOptions {
  connection: Redis;
  prefix: string;
  concurrency?: number;
  run(data: WorkflowJobData, signal: AbortSignal): Promise<WorkflowRunRecord>;
  /** A job whose run had already started (its controller died): end it, never run it again. */
  onRedelivered(data: WorkflowJobData): Promise<void>;
  log?: Logger;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

export interface WorkflowWorker {
  abort(req: Pick<AbortRequest, 'runId' | 'workflow' | 'all' | 'reason'> & { code?: ReasonCode }): string[];
  active(): string[];
  close(opts?: { abortActive?: boolean; reason?: string }): Promise<void>;
}

export async function startWorkflowWorker(opts: WorkflowWorkerOptions): Promise<WorkflowWorker> {
  const log = opts.log ?? silentLogger;
  const redis = opts.connection.duplicate();
  const active = new Map<string, { runId: string; workflow: string; controller: AbortController }>();
  const workerName = `${process.pid}.${Math.random().toString(36).slice(2, 8)}`;

  const abort: WorkflowWorker['abort'] = (req) => {
    const hit: string[] = [];
    for (const run of active.values()) {
      // A step run's id (`<workflow run id>.<step>`) aborts its workflow run: every active step reverts.
      const mine = req.runId === run.runId || req.runId?.startsWith(`${run.runId}.`) === true;
      if (!(req.all === true || mine || req.workflow === run.workflow)) continue;
      if (!run.controller.signal.aborted) run.controller.abort(Object.assign(new Error(req.reason ?? 'abort requested'), req.code ? { code: req.code } : {}));
      hit.push(run.runId);
    }
    return hit;
  };
  const subscription = await subscribeAbort(redis, opts.prefix, (req) => {
    const hit = abort(req);
    if (hit.length) log.info({ runIds: hit, reason: req.reason }, 'abort request reached active workflow runs');
  });

  const finish = (markerKey: string, runId: string, outcome: string) =>
    redis.set(markerKey, JSON.stringify({ state: 'done', runId, at: new Date().toISOString(), worker: workerName, outcome }), 'PX', MARKER_TTL_MS);

  const processor = async (job: Job<WorkflowJobData>) => {
    const data = workflowDataOf(job);
    const runLog = log.child({ workflow: data.workflow, runId: data.runId });
    const controller = new AbortController();
    active.set(data.runId, { runId: data.runId, workflow: data.workflow, controller });
    const markerKey = keys.workflowMarker(opts.prefix, data.runId);
    try {
      const marker = { state: 'started', runId: data.runId, at: new Date().toISOString(), worker: workerName };
      if ((await redis.set(markerKey, JSON.stringify(marker), 'PX', MARKER_TTL_MS, 'NX')) !== 'OK') {
        const seen = JSON.parse((await redis.get(markerKey)) ?? '{}') as { state?: string; worker?: string };
        if (seen.state === 'done') {
          runLog.info('workflow run already executed for this job id; not running again');
          return { runId: data.runId, skipped: 'duplicate' };
        }
        runLog.warn({ startedBy: seen.worker }, 'workflow job re-delivered after its run had started; not running it again');
        await opts.onRedelivered(data);
        await finish(markerKey, data.runId, 'redelivered');
        return { runId: data.runId, phase: 'Failed' };
      }
      const pending = await pendingAbort(redis, opts.prefix, { runId: data.runId, experiment: '', enqueuedAt: job.timestamp });
      if (pending) controller.abort(new Error(pending.reason));
      if (await isFrozen(redis, opts.prefix)) controller.abort(Object.assign(new Error('the repository has .faultline/freeze'), { code: 'Frozen' }));
      let outcome = 'error';
      try {
        const rec = await opts.run(data, controller.signal);
        outcome = rec.phase;
        return { runId: data.runId, phase: rec.phase };
      } finally {
        await finish(markerKey, data.runId, outcome);
      }
    } finally {
      active.delete(data.runId);
    }
  };

  const worker = new Worker<WorkflowJobData>(QUEUE_WORKFLOWS, processor, {
    connection: redis,
    prefix: opts.prefix,
    concurrency: opts.concurrency ?? 2,
    lockDuration: opts.lockDurationMs ?? 30_000,
    stalledInterval: opts.stalledIntervalMs ?? 30_000,
    maxStalledCount: 1,
  });
  worker.on('failed', (job, err) => log.error({ err, jobId: job?.id, workflow: job?.data.workflow }, 'workflow job failed'));
  worker.on('error', (err) => log.error({ err }, 'workflows worker error'));
  await worker.waitUntilReady();

  let closing: Promise<void> | undefined;
  return {
    abort,
    active: () => [...active.keys()],
    close(closeOpts) {
      closing ??= (async () => {
        if (closeOpts?.abortActive) abort({ all: true, reason: closeOpts.reason ?? 'controller shutting down', code: 'ShuttingDown' });
        await worker.close();
        await subscription.close();
        await redis.quit().catch(() => redis.disconnect());
      })();
      return closing;
    },
  };
}
