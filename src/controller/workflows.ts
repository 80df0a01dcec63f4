// Workflows through the controller: the reconcile side (a new or changed workflow queues one run
// per spec revision, or registers its cron schedule; suspend and deletion stop it) and the run
// side (the `workflows` worker running each through the workflow runner, dead runs ended).
import type { Queue } from 'bullmq';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import type { LoadedExperiment } from '../experiments/model.js';
import type { Logger } from '../log.js';
import { isFrozen, keys, requestAbort } from '../queue/index.js';
import {
  createWorkflowQueue,
  enqueueWorkflow,
  removePendingWorkflowRuns,
  startWorkflowWorker,
  upsertWorkflowSchedule,
  workflowJobId,
  type WorkflowWorker,
} from '../queue/workflow-worker.js';
import type { TargetResolver } from '../cluster/types.js';
import type { RunExecutor } from '../runs/types.js';
import type { SafetyState } from '../safety/state.js';
import type { LoadedWorkflow } from '../workflows/model.js';
import { endDeadWorkflow, sweepDeadWorkflows } from '../workflows/orphans.js';
import { RedisWorkflowRunStore } from '../workflows/run-store.js';
import { runWorkflow, type StepRunWatch, type WorkflowJobData, type WorkflowListener } from '../workflows/runner.js';
import type { WorkflowRunRecord } from '../workflows/run-types.js';
import type { WorkflowOnceState } from '../report/git-status.js';

const TERMINAL = new Set(['Succeeded', 'Failed', 'Aborted']);

export interface WorkflowSide {
  queue: Queue<WorkflowJobData>;
  store: RedisWorkflowRunStore;
  worker: WorkflowWorker;
  /** Queues, schedules and stops workflows after a reconcile pass of `revision` (leader only). */
  reconcile(input: { revision: string; workflows: LoadedWorkflow[]; experiments: LoadedExperiment[] }): Promise<{ enqueued: string[]; scheduled: string[]; stopped: string[] }>;
  close(opts?: { abortActive?: boolean; reason?: string }): Promise<void>;
}

export interface OnceBranch {
  workflowOnce(name: string, runId: string, specHash: string): Promise<WorkflowOnceState>;
}

export async function createWorkflowSide(deps: {
  redis: Redis;
  prefix: string;
  kc: KubeConfig;
  executor: RunExecutor;
  resolver: TargetResolver;
  resolverFor?(cluster: string): TargetResolver | undefined;
  safetyState: SafetyState;
  steps: StepRunWatch;
  listeners: WorkflowListener[];
  log: Logger;
  fetch?: typeof fetch;
  exposeResponses?: boolean;
  lockWaitMs?: number;
  concurrency?: number;
  /** The status branch: what it knows of one-off runs when Redis has lost the applied state. */
  branch?: OnceBranch;
}): Promise<WorkflowSide> {
  const { redis, prefix, log } = deps;
  const queue = createWorkflowQueue(redis, prefix);
  const store = new RedisWorkflowRunStore(redis, prefix);
  const local = new Set<string>(); // workflow runs executing in this process
  const orphanDeps = { redis, prefix, store, listeners: deps.listeners, safetyState: deps.safetyState, log, isLocal: (id: string) => local.has(id) };

  // Runs a dead controller left are ended at start-up, then every 5 s (the heartbeat's TTL), for
  // a replica that died while this one lives.
  const sweep = async () => {
    try {
      const ended = await sweepDeadWorkflows(orphanDeps);
      if (ended.length) log.warn({ runIds: ended }, 'workflow runs of a dead controller ended (ControllerDied)');
    } catch (err) {
      log.error({ err: (err as Error).message }, 'workflow orphan sweep failed');
    }
  };
  // The first pass goes once the caller has added its listeners (the status branch hears of it).
  const first = setTimeout(() => void sweep(), 0);
  const sweeper = setInterval(() => void sweep(), 5_000);
  sweeper.unref();

  const worker = await startWorkflowWorker({
    connection: redis,
    prefix,
    concurrency: deps.concurrency,
    log,
    run: async (data, signal) => {
      local.add(data.runId);
      try {
        return await runWorkflow({
          executor: deps.executor, resolver: deps.resolver, resolverFor: deps.resolverFor, safetyState: deps.safetyState, redis, prefix, store, listeners: deps.listeners,
          steps: deps.steps, log, kc: deps.kc, fetch: deps.fetch, exposeResponses: deps.exposeResponses,
          isFrozen: () => isFrozen(redis, prefix), lockWaitMs: deps.lockWaitMs,
        }, data, signal);
      } finally {
        local.delete(data.runId);
      }
    },
    onRedelivered: async (data) => void (await endDeadWorkflow(orphanDeps, data.runId)),
  });

  const appliedKey = keys.workflowsApplied(prefix);

  // True when the one-off of this spec must not be queued: it ran, or it began under a controller
  // that died and took Redis with it (its fault steps were reverted from the revert ledger; it is
  // recorded ControllerDied, not run a second time). Unreadable branch: throws, the pass retries.
  const alreadyOnBranch = async (w: LoadedWorkflow, data: WorkflowJobData): Promise<boolean> => {
    const name = w.workflow.metadata.name;
    const runId = workflowJobId(name, w.specHash, 'once');
    const seen = await deps.branch!.workflowOnce(name, runId, w.specHash);
    if (seen === 'ran') {
      log.info({ workflow: name, runId, specHash: w.specHash }, 'workflow run of this spec already ran (status branch): not queued again');
      return true;
    }
    if (seen !== 'started') return false;
    const existing = await store.get(runId);
    if (existing && TERMINAL.has(existing.phase)) return true;
    const now = new Date().toISOString();
    const died: WorkflowRunRecord = {
      ...(existing ?? { createdAt: now, currentStep: 0, progress: 0, steps: [], assertions: [], probes: [] }),
      id: runId, workflow: name, file: data.file, specHash: w.specHash, revision: data.revision, trigger: 'reconcile',
      phase: 'Failed', reasonCode: 'ControllerDied', endedAt: now,
      totalSteps: w.workflow.spec.steps.length,
      reason: 'the controller died during this run and Redis lost its record; its fault steps were reverted from the revert ledger and the run is not started again',
    };
    await store.save(died);
    for (const l of deps.listeners) await l.onWorkflowUpdate(died); // the status branch, PR comment, metrics
    log.warn({ workflow: name, runId, specHash: w.specHash }, 'workflow run began under a controller that died (status branch): recorded ControllerDied, not run again');
    return true;
  };

  return {
    queue,
    store,
    worker,
    async reconcile({ revision, workflows, experiments }) {
      const out = { enqueued: [] as string[], scheduled: [] as string[], stopped: [] as string[] };
      const byName = new Map(experiments.map((e) => [e.experiment.metadata.name, e]));
      const applied = await redis.hgetall(appliedKey);
      const desired = new Set(workflows.map((w) => w.workflow.metadata.name));
      // Deleted workflows: schedule and queued runs dropped, a run in progress aborted (it reverts).
      for (const name of Object.keys(applied)) {
        if (desired.has(name)) continue;
        await queue.removeJobScheduler(name);
        await removePendingWorkflowRuns(queue, name);
        await requestAbort(redis, prefix, { workflow: name, reason: `workflow ${name} was deleted from the repository` });
        await redis.hdel(appliedKey, name);
        out.stopped.push(name);
        log.info({ workflow: name }, 'workflow deleted: schedule removed, queued runs dropped, a running one aborted');
      }
      for (const w of workflows) {
        const name = w.workflow.metadata.name;
        const spec = w.workflow.spec;
        const state = `${w.specHash}|${spec.suspend ? 'suspended' : spec.schedule ? `${spec.schedule.cron}|${spec.schedule.timezone ?? 'UTC'}` : 'once'}`;
        const refs: Record<string, LoadedExperiment> = {};
        for (const r of w.references) {
          const e = byName.get(r.experiment);
          if (e) refs[r.experiment] = e;
        }
        const data: WorkflowJobData = { runId: '', workflow: name, file: w.file, specHash: w.specHash, revision, occurrence: 'once', trigger: 'reconcile', loaded: w, experiments: refs };
        if (spec.suspend) {
          if (applied[name] === state) continue;
          await queue.removeJobScheduler(name);
          const removed = await removePendingWorkflowRuns(queue, name);
          log.info({ workflow: name, removed }, 'workflow suspended: no run queued, its schedule removed');
          out.stopped.push(name);
        } else if (spec.schedule) {
          const has = (await queue.getJobScheduler(name)) !== undefined;
          if (applied[name] === state && has) continue;
          await removePendingWorkflowRuns(queue, name); // a once-run of an earlier revision
          await upsertWorkflowSchedule(queue, data);
          log.info({ workflow: name, cron: spec.schedule.cron, timezone: spec.schedule.timezone ?? 'UTC', specHash: w.specHash }, 'workflow scheduled');
          out.scheduled.push(name);
        } else {
          // Redis has no applied state for it (new, or Redis was lost): the status branch says
          // whether this spec's one-off already ran or died with a controller.
          if (applied[name] === undefined && deps.branch && (await alreadyOnBranch(w, data))) {
            await redis.hset(appliedKey, name, state);
            continue;
          }
          // Once per spec revision: the deterministic job id and the run marker collapse repeats.
          if (applied[name] !== state) {
            await queue.removeJobScheduler(name);
            await removePendingWorkflowRuns(queue, name, w.specHash);
          }
          const { jobId, added } = await enqueueWorkflow(queue, redis, prefix, data);
          if (added) {
            log.info({ workflow: name, runId: jobId, specHash: w.specHash }, 'workflow run queued');
            out.enqueued.push(jobId);
          }
        }
        await redis.hset(appliedKey, name, state);
      }
      return out;
    },
    async close(opts) {
      clearTimeout(first);
      clearInterval(sweeper);
      await worker.close(opts);
      await queue.close();
    },
  };
}

export { workflowJobId };
