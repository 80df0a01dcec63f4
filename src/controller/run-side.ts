// The cluster side of the controller: target cache, safety state, leader election on a Lease,
// the run executor (faults + probes), the orphan sweep at start-up and the pull-request plan.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import type { ControllerConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { createTargetResolver, LeaderElector } from '../cluster/index.js';
import type { TargetResolver } from '../cluster/types.js';
import { SafetyState } from '../safety/state.js';
import { ClusterKillSwitch } from '../safety/cluster-kill-switch.js';
import { planExperiment, type PlanClusters } from '../safety/plan.js';
import { planWorkflow } from '../safety/workflow-plan.js';
import { createRunExecutor, endRun, REASONS, RevertLoop, type ActiveRunExecutor } from '../runs/index.js';
import type { RunExecutor, RunJobData, RunListener, RunRecord, RunStore } from '../runs/types.js';
import type { LeaderLock, RunMarker } from '../queue/index.js';
import { isFrozen } from '../queue/index.js';
import type { Queue } from 'bullmq';
import { loadExperimentFiles } from '../experiments/index.js';
import { handlePullRequest, toPlanEvent, type PullRequestResult } from '../report/pr-plan.js';
import { PrTreeReader } from '../report/pr-source.js';
import { join } from 'node:path';
import type { PullRequestEvent } from '../server/types.js';
import type { GitSource } from '../source/types.js';
import { gitHostFrom } from './reporters.js';
import type { KillSwitch } from './control-plane.js';
import { ClusterSet, clusterSafety, routingExecutor } from './clusters.js';
import { LOCAL_CLUSTER } from '../cluster/registry.js';
import type { ExecutorCluster } from '../runs/executor.js';
import type { SafetyConfig } from '../safety/guards.js';
import type { ControllerEgress } from './egress.js';

export interface RunSide {
  executor: RunExecutor;
  resolver: TargetResolver;
  /** Several clusters: a registered cluster's resolver by name. */
  resolverFor(cluster: string): TargetResolver | undefined;
  safety: KillSwitch;
  /** Slots, workload locks and the kill switch (the workflow runner locks a workflow's workloads). */
  safetyState: SafetyState;
  leader?: LeaderLock;
  onRedelivered?: (job: RunJobData, marker: RunMarker) => Promise<RunRecord | void>;
  planPullRequest(e: PullRequestEvent, source: GitSource): Promise<PullRequestResult | { skipped: string }>;
  /**
   * Fetch the base branch into the PR reader (once) and, unless `index: false`, index its names
   * (once). Plans wait for whichever is under way; neither blocks the controller's start.
   */
  warmPrReader(o?: { index?: boolean }): Promise<void>;
  /** Shutdown began: runs stop waiting for recovery after their revert. */
  shuttingDown(): void;
  /** The shutdown bound is near: failing reverts stop retrying and go to the revert loop. */
  handOver(): void;
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
  /** Names already parsed for a blob id (the desired state), so the PR reader need not parse them. */
  knownNames?: (oid: string) => string[] | undefined;
  /** The runs queue: its active jobs with a held lock are runs live on some replica. */
  runsQueue: Queue<RunJobData>;
  /** URLs from experiment files (probes) go through it; plans report what it refuses. */
  egress: ControllerEgress;
}): Promise<RunSide> {
  const { config, kc, redis, log } = deps;
  const prefix = config.redis.prefix;
  // With the controller's logger: watch failures and relists (410 Gone) show in its log.
  const resolver = createTargetResolver(kc, { log });
  await resolver.ready();
  // The kill switch lives in the cluster too (ConfigMap in the controller's namespace): it survives a Redis flush.
  const state = new SafetyState(redis, { prefix, maxConcurrentRuns: config.safety.maxConcurrentRuns, cluster: new ClusterKillSwitch(kc, config.kubernetes.namespace) });

  const handover = new AbortController();
  const shutdown = new AbortController();
  // Several clusters (kubernetes.clusterSecrets): each registered cluster gets its own resolver,
  // executor and revert loop; the local one is LOCAL_CLUSTER and keeps the plain path.
  let clusters: ClusterSet | undefined;
  const makeExecutor = (cluster: ExecutorCluster, ckc: KubeConfig, cresolver: TargetResolver, safety: SafetyConfig): RunExecutor =>
    createRunExecutor({
      kc: ckc,
      resolver: cresolver,
      redis,
      prefix,
      cluster,
      safety,
      safetyState: state,
      injectorImage: config.injector.image,
      injectorStartTimeoutMs: config.injector.startTimeoutMs,
      allowHostNetwork: config.injector.allowHostNetwork,
      lockWaitMs: config.runs.lockWaitMs,
      runStore: deps.runStore,
      listeners: deps.listeners,
      isFrozen: () => isFrozen(redis, prefix),
      fetch: deps.egress.fetch,
      exposeResponses: config.egress.exposeResponses,
      handover: handover.signal,
      shutdown: shutdown.signal,
      log: cluster.name === LOCAL_CLUSTER ? log : log.child({ cluster: cluster.name }),
    });
  const localExecutor: RunExecutor =
    deps.executor ?? makeExecutor({ name: LOCAL_CLUSTER, known: () => [LOCAL_CLUSTER, ...(clusters?.names() ?? [])] }, kc, resolver, clusterSafety(config, LOCAL_CLUSTER));
  const executor: RunExecutor = config.kubernetes.clusterSecrets ? routingExecutor(localExecutor, (clusters = new ClusterSet({
    log,
    makeExecutor,
    makeRevertLoop: (name, ckc) => new RevertLoop({
      kc: ckc, redis, prefix, log: log.child({ cluster: name }), isLocal: (id) => local(id), cluster: name,
      onReverted: async (inj) => void (await endOrphan(inj.runId, undefined)),
    }),
    safetyFor: (name) => clusterSafety(config, name),
  }))) : localExecutor;
  const local = (runId: string) => ((executor as Partial<ActiveRunExecutor>).active?.() ?? []).includes(runId);

  // A run the revert loop cleaned up after ends through the runs lifecycle (state machine, reason
  // code), and the listeners (status branch, notifications) hear of it once.
  const endOrphan = async (runId: string, job: RunJobData | undefined, revertError?: string): Promise<RunRecord | undefined> => {
    const jobData = job ?? ((await deps.runsQueue.getJob(runId).catch(() => undefined))?.data as RunJobData | undefined);
    return endRun({ store: deps.runStore, listeners: deps.listeners, log }, jobData, runId, REASONS.controllerDied(revertError));
  };

  // Whatever a dead controller left injected (found in the ledger or marked in the cluster) is
  // reverted before this one takes any run, then the loop keeps at it in the background: a run is
  // live only while its heartbeat (5 s TTL) is fresh, so a dead run's fault goes within seconds.
  const revertLoop = new RevertLoop({
    kc, redis, prefix, log, isLocal: local, registered: () => clusters?.names() ?? [],
    onReverted: async (inj) => void (await endOrphan(inj.runId, undefined)),
  });
  await revertLoop.pass().catch((err: unknown) => log.error({ err }, 'start-up revert pass failed; the revert loop retries'));
  revertLoop.start();
  // The registered clusters: each added one runs its own revert pass at once (a fault a dead
  // controller left in cluster 2 is reverted in cluster 2). Listed before runs are taken.
  if (clusters) {
    const registry = clusters.watch(kc, config.kubernetes.namespace);
    if (!(await registry.synced(10_000))) log.warn({ namespace: config.kubernetes.namespace }, 'cluster Secrets not listed yet; runs for registered clusters wait for them');
  }

  // A job re-delivered after its worker died mid-run: the revert loop has normally reverted the
  // dead run's fault by now; one more pass makes sure, then the run ends (once) as failed.
  const onRedelivered = async (job: RunJobData): Promise<RunRecord | undefined> => {
    const passes = await Promise.all([revertLoop, ...(clusters?.all().map((s) => s.revertLoop) ?? [])].map((l) => l.pass().catch(() => undefined)));
    const failed = passes.flatMap((p) => p?.failed ?? []).find((f) => f.runId === job.runId);
    const record = await endOrphan(job.runId, job, failed?.error);
    log.warn({ runId: job.runId, experiment: job.experiment, ended: !!record }, 'run re-delivered after its controller died');
    return record ?? (await deps.runStore.get(job.runId));
  };

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

  // Plans ask each row's cluster (its cache and caps); a cluster not registered is refused by name.
  const planClusters: PlanClusters = {
    resolver: (name) => clusters?.get(name)?.resolver,
    safety: (name) => clusterSafety(config, name),
    names: () => clusters?.names() ?? [],
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
    knownNames: deps.knownNames,
  });
  // Warmed in the background in two steps: the controller starts the fetch of the base branch as
  // it starts (native git: its own process), and the name index after its first reconcile (the
  // names then come from the parsed desired state). A plan waits for the step under way instead
  // of fetching the whole tree itself; one that comes before the index builds what it needs.
  const branch = config.repo.branch;
  let fetched: Promise<boolean> | undefined;
  let indexed: Promise<void> | undefined;
  const fetchBase = () =>
    (fetched ??= reader.warm(branch, { index: false }).then(
      () => true,
      (err: unknown) => {
        fetched = undefined;
        log.warn({ err }, 'pull-request reader fetch failed; the next plan tries again');
        return false;
      },
    ));
  const warmPrReader = (o: { index?: boolean } = {}): Promise<void> => {
    const f = fetchBase();
    if (o.index === false) return indexed ?? f.then(() => undefined);
    indexed ??= f.then(async (ok) => {
      if (!ok) {
        indexed = undefined;
        return;
      }
      const t = performance.now();
      try {
        await reader.warm(branch); // the branch is here now: this only indexes (and picks up a newer head)
        log.info({ branch, ms: Math.round(performance.now() - t) }, 'pull-request reader ready');
      } catch (err) {
        indexed = undefined;
        log.warn({ err }, 'pull-request reader warm-up failed; the next plan tries again');
      }
    });
    return indexed;
  };
  return {
    executor,
    resolver,
    resolverFor: (name) => (name === LOCAL_CLUSTER ? resolver : clusters?.get(name)?.resolver),
    warmPrReader,
    safety: killSwitch,
    safetyState: state,
    leader,
    onRedelivered,
    async planPullRequest(e, source) {
      if (!host) return { skipped: 'no git host configured' };
      await warmPrReader({ index: false });
      const freeze = await isFrozen(redis, prefix);
      return handlePullRequest(toPlanEvent(e), {
          source,
          reader,
          loadExperimentFiles: (files, o) => loadExperimentFiles(files, { ...o, egress: deps.egress.policy }),
          plan: async (loaded) => {
            const killSwitch = await state.isKillSwitchSet();
            const safety = clusterSafety(config, LOCAL_CLUSTER);
            return loaded.map((l) => planExperiment(l, resolver, { config: safety, freeze, killSwitch, clusters: planClusters }));
          },
          planWorkflows: async (workflows, experiments) => {
            const killSwitch = await state.isKillSwitchSet();
            const safety = clusterSafety(config, LOCAL_CLUSTER);
            const byName = new Map(experiments.map((e) => [e.experiment.metadata.name, e]));
            return workflows.map((w) => planWorkflow(w, byName, resolver, { config: safety, freeze, killSwitch, clusters: planClusters }));
          },
          host,
          logger: log,
        });
    },
    shuttingDown: () => shutdown.abort(),
    handOver: () => handover.abort(),
    async close() {
      handover.abort();
      await revertLoop.stop();
      await clusters?.close();
      await elector.stop();
      resolver.close();
    },
  };
}

