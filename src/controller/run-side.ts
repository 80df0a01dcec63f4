// The cluster side of the controller: target cache, safety state, leader election on a Lease,
// the run executor (faults + probes), the orphan sweep at start-up and the pull-request plan.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import type { ControllerConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { createTargetResolver, LeaderElector } from '../cluster/index.js';
import type { TargetResolver } from '../cluster/types.js';
import { SafetyState } from '../safety/state.js';
import { planExperiment } from '../safety/plan.js';
import { createRunExecutor, sweepOrphans } from '../runs/index.js';
import type { RunExecutor, RunJobData, RunListener, RunRecord, RunStore } from '../runs/types.js';
import type { LeaderLock, RunMarker } from '../queue/index.js';
import { isFrozen, ORPHAN_REASON, runDataOf } from '../queue/index.js';
import type { Queue } from 'bullmq';
import { loadExperimentFiles } from '../experiments/index.js';
import { handlePullRequest, toPlanEvent, type PullRequestResult } from '../report/pr-plan.js';
import { PrTreeReader } from '../report/pr-source.js';
import { join } from 'node:path';
import type { PullRequestEvent } from '../server/types.js';
import type { GitSource } from '../source/types.js';
import { gitHostFrom } from './reporters.js';
import type { KillSwitch } from './control-plane.js';
import type { ControllerEgress } from './egress.js';

export interface RunSide {
  executor: RunExecutor;
  resolver: TargetResolver;
  safety: KillSwitch;
  leader?: LeaderLock;
  onRedelivered?: (job: RunJobData, marker: RunMarker) => Promise<RunRecord | void>;
  planPullRequest(e: PullRequestEvent, source: GitSource): Promise<PullRequestResult | { skipped: string }>;
  /** Fetch the base branch into the PR reader and index its names (once; plans wait for it). */
  warmPrReader(): Promise<void>;
  close(): Promise<void>;
}

export async function createRunSide(deps: {
  config: ControllerConfig;
  kc: KubeConfig;
  redis: Redis;
  log: Logger;
  runStore: RunStore;
  listeners: RunListener[];
  executor?: RunExecutor;
  identity?: string;
  /** The replica's data directory (its clones live there); default <repo.workdir>/<identity>. */
  dataDir?: string;
  /** The runs queue: its active jobs with a held lock are runs live on some replica. */
  runsQueue: Queue<RunJobData>;
  /** URLs from experiment files (probes) go through it; plans report what it refuses. */
  egress: ControllerEgress;
}): Promise<RunSide> {
  const { config, kc, redis, log } = deps;
  const prefix = config.redis.prefix;
  const resolver = createTargetResolver(kc);
  await resolver.ready();
  const state = new SafetyState(redis, { prefix, maxConcurrentRuns: config.safety.maxConcurrentRuns });

  // Whatever a dead controller left injected is reverted before this one takes any run. A run
  // another replica is executing right now is not an orphan: its job is active and its worker
  // still renews the BullMQ lock. (Reverting it would undo a live fault under a running run.)
  const live = await liveRunIds(deps.runsQueue, redis);
  await sweepOrphans({ kc, redis, prefix, log, isLive: (runId) => live.has(runId) });

  // A job re-delivered after its worker died mid-run: revert what the dead run left in the
  // ledger now (not at the next start-up), then record the run as failed.
  const onRedelivered = async (job: RunJobData): Promise<RunRecord> => {
    const swept = await sweepOrphans({ kc, redis, prefix, log, isLive: (runId) => runId !== job.runId });
    const reverted = swept.reverted.includes(job.runId);
    const failed = swept.failed.find((f) => f.runId === job.runId);
    const reason = failed ? `${ORPHAN_REASON}; revert failed: ${failed.error}` : ORPHAN_REASON;
    const record = await orphanRecord(deps.runStore, job, reason);
    log.warn({ runId: job.runId, experiment: job.experiment, reverted }, 'run re-delivered after its controller died');
    for (const l of deps.listeners) {
      try {
        await l.onRunUpdate(record, job);
      } catch (err) {
        log.error({ err, runId: job.runId }, 'run listener failed');
      }
    }
    return record;
  };

  const executor =
    deps.executor ??
    createRunExecutor({
      kc,
      resolver,
      redis,
      prefix,
      safety: { ...config.safety, ownNamespace: config.kubernetes.namespace },
      injectorImage: config.injector.image,
      injectorStartTimeoutMs: config.injector.startTimeoutMs,
      allowHostNetwork: config.injector.allowHostNetwork,
      lockWaitMs: config.runs.lockWaitMs,
      runStore: deps.runStore,
      listeners: deps.listeners,
      log,
      isFrozen: () => isFrozen(redis, prefix),
      fetch: deps.egress.fetch,
      exposeResponses: config.egress.exposeResponses,
    });

  const elector = new LeaderElector(kc, {
    name: 'faultline-reconciler',
    namespace: config.kubernetes.namespace,
    identity: deps.identity ?? `${process.pid}`,
    log,
  });
  const leader: LeaderLock = {
    tryAcquire: () => elector.tryAcquireOrRenew(),
    release: () => elector.stop(),
    isLeader: () => elector.isLeader(),
    start(onChange) {
      if (onChange) elector.onChange(onChange);
      elector.start();
    },
    stop: () => elector.stop(),
  };

  const killSwitch: KillSwitch = {
    set: (reason) => state.setKillSwitch(reason),
    clear: () => state.clearKillSwitch(),
    isSet: () => state.isKillSwitchSet(),
  };

  const host = gitHostFrom(config, log);
  // Pull requests are diffed against their merge base in a clone of their own: only changed
  // blobs are read, whatever the size of the repository.
  const reader = new PrTreeReader({
    url: config.repo.url,
    dir: join(deps.dataDir ?? join(config.repo.workdir, deps.identity ?? `${process.pid}`), 'pr.git'),
    token: config.repo.token,
    username: config.repo.username,
    paths: config.repo.paths,
  });
  // Warmed once in the background (the controller starts it after its first reconcile); a plan
  // that comes first waits for the same warm-up instead of fetching the whole tree itself.
  let warmed: Promise<void> | undefined;
  const warmPrReader = () =>
    (warmed ??= reader.warm(config.repo.branch).then(
      () => log.info({ branch: config.repo.branch }, 'pull-request reader ready'),
      (err: unknown) => {
        warmed = undefined;
        log.warn({ err }, 'pull-request reader warm-up failed; the next plan tries again');
      },
    ));
  return {
    executor,
    resolver,
    warmPrReader,
    safety: killSwitch,
    leader,
    onRedelivered,
    async planPullRequest(e, source) {
      if (!host) return { skipped: 'no git host configured' };
      await warmPrReader();
      const freeze = await isFrozen(redis, prefix);
      return handlePullRequest(toPlanEvent(e), {
          source,
          reader,
          loadExperimentFiles: (files) => loadExperimentFiles(files, { egress: deps.egress.policy }),
          plan: async (loaded) => {
            const killSwitch = await state.isKillSwitchSet();
            const safety = { ...config.safety, ownNamespace: config.kubernetes.namespace };
            return loaded.map((l) => planExperiment(l, resolver, { config: safety, freeze, killSwitch }));
          },
          host,
          logger: log,
        });
    },
    async close() {
      await elector.stop();
      resolver.close();
    },
  };
}

/** Run ids whose job is active on a worker that is alive (its lock has not lapsed). */
async function liveRunIds(queue: Queue<RunJobData>, client: Redis): Promise<Set<string>> {
  const live = new Set<string>();
  for (const job of await queue.getJobs(['active'], 0, -1)) {
    if (!job?.id) continue;
    if ((await client.exists(queue.toKey(`${job.id}:lock`))) === 1) live.add(runDataOf(job).runId);
  }
  return live;
}

/** The run record of a run whose controller died: what it had recorded, ended as Failed. */
async function orphanRecord(store: RunStore, job: RunJobData, reason: string): Promise<RunRecord> {
  const now = new Date().toISOString();
  const previous = await store.get(job.runId);
  const record: RunRecord = previous
    ? { ...previous, timeline: [...previous.timeline] }
    : {
        id: job.runId,
        experiment: job.experiment,
        file: job.file,
        specHash: job.specHash,
        revision: job.revision,
        faultType: job.spec.spec.fault.type,
        trigger: job.trigger,
        state: 'Failed',
        createdAt: now,
        targets: [],
        blastRadius: [],
        guards: [],
        probes: [],
        timeline: [],
      };
  record.state = 'Failed';
  record.outcome = 'failed';
  record.reason = reason;
  record.endedAt = now;
  record.timeline.push({ at: now, state: 'Failed', message: reason });
  await store.save(record);
  return record;
}
