// The controller: wires source → experiments → reconcile → queue → runs → report, and serves
// webhooks, the API, the dashboard and /metrics. One process per replica; several may run.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ControllerConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { createGitSource, isReachable } from '../source/index.js';
import type { SourceFile, SourceSnapshot } from '../source/types.js';
import { loadExperimentFiles } from '../experiments/index.js';
import { Reconciler, type ReconcileSummary } from '../reconcile/index.js';
import {
  createQueues,
  enqueueReconcile,
  redisConnection,
  RedisLeaderLock,
  RedisRunStore,
  startReconcileWorker,
  startRunWorker,
  type LeaderLock,
  type Queues,
  type ReconcileWorker,
  type RunWorker,
} from '../queue/index.js';
import type { RunExecutor, RunListener } from '../runs/types.js';
import { GitStatusStore } from '../report/git-status.js';
import { DurableDeliveries } from '../report/queue.js';
import { buildServer, readinessFrom } from '../server/index.js';
import { apiPlugin } from '../server/api.js';
import { dashboardPlugin } from '../server/dashboard.js';
import { gitFetchErrors, invalidExperiments, lastReconcileTimestamp, queueDepth, reconcileDuration, statusOutbox, statusWriteFailing } from '../metrics.js';
import { DesiredState } from './desired.js';
import { ParseCache } from './parse-cache.js';
import { acquireDataDir } from './data-dir.js';
import { CatalogPublisher } from './catalog.js';
import { MetricsListener } from './metrics-listener.js';
import { createControlPlane } from './control-plane.js';
import { createRunSide, type RunSide } from './run-side.js';
import { createReporters, gitHostFrom, settleReporters } from './reporters.js';
import { enqueuePlan, planInOrder, type PlanJob } from './pr-plans.js';
import { egressFrom } from './egress.js';
import { CustomResourceSource, parseCrPath } from '../cluster/custom-resources.js';
import { CustomResourceStatus } from './cr-status.js';
import { startAdmissionServer, type AdmissionServer } from '../server/admission.js';
import { applyCustomResourceScope } from '../cluster/cr-scope.js';
import { RunResultReporter, redisNewestStore } from '../report/run-result.js';
import { createWorkflowSide, type WorkflowSide } from './workflows.js';
import { WorkflowReports } from './workflow-reports.js';
import { WorkflowResultReporter } from '../report/workflow-result.js';
import { createWorkflowsView } from './workflow-view.js';
import { StepRunWatch, type WorkflowListener } from '../workflows/runner.js';
import type { RedisWorkflowRunStore } from '../workflows/run-store.js';
import type { WorkflowRunRecord } from '../workflows/run-types.js';

export interface ControllerOptions {
  config: ControllerConfig;
  log: Logger;
  /** The cluster; without one, runs cannot execute (plan-only replicas are not supported). */
  kubeConfig: KubeConfig;
  /** Replaces the real executor (tests that count executions). */
  executor?: RunExecutor;
  /** Told about every workflow run update (besides the controller's own). */
  workflowListeners?: WorkflowListener[];
  identity?: string;
  listen?: boolean; // start the HTTP server, default true
}

export interface Controller {
  readonly identity: string;
  readonly queues: Queues;
  readonly server: FastifyInstance;
  readonly url: string | undefined;
  /** The admission webhook's URL when config.admission is set. */
  readonly admissionUrl: string | undefined;
  readonly runs: RedisRunStore;
  readonly workflowRuns: RedisWorkflowRunStore;
  readonly status: GitStatusStore;
  /** Reconcile now, in this process (the reconcile worker does the same for queued requests). */
  reconcileNow(trigger?: 'manual' | 'startup'): Promise<ReconcileSummary | undefined>;
  /**
   * SIGTERM: active runs are aborted and revert; whatever is still reverting near the bound
   * (config.runs.shutdownTimeoutMs) is handed to the revert loop. Resolves true if everything
   * closed within the bound; false if the caller should exit anyway (the cluster keeps the undo).
   */
  shutdown(reason?: string): Promise<boolean>;
  close(): Promise<void>;
}

export async function startController(opts: ControllerOptions): Promise<Controller> {
  const { config } = opts;
  const identity = opts.identity ?? `${process.pid}-${randomUUID().slice(0, 8)}`;
  const log = opts.log.child({ replica: identity });
  const prefix = config.redis.prefix;
  const redis = redisConnection(config.redis.url);
  const queues = createQueues(redis, prefix);
  const plans = new Queue<PlanJob>('plans', { connection: redis, prefix });
  const runStore = new RedisRunStore(redis, prefix);
  // A persistent folder of this replica's own: a restart reuses its clones and status outbox.
  const data = acquireDataDir(config.repo.workdir, config.repo.url, config.repo.branch);
  const workdir = data.dir;

  const source = createGitSource({
    url: config.repo.url,
    branch: config.repo.branch,
    dir: join(workdir, 'source.git'),
    token: config.repo.token,
    username: config.repo.username,
    paths: config.repo.paths,
    log,
  });
  const status = new GitStatusStore({
    url: config.repo.url,
    dir: join(workdir, 'status.git'),
    branch: config.status.branch,
    token: config.repo.token,
    username: config.repo.username,
    author: config.status.author,
    historyLimit: config.status.historyLimit,
    logger: log,
  });

  // URLs from experiment files reach only what config.egress allows, never the controller itself.
  const egress = egressFrom(config, opts.kubeConfig);
  // Notifications wait in Redis (BullMQ `notifications`): retried, one per run and notifier, kept across restarts.
  const deliveries = new DurableDeliveries({ connection: redis, prefix, logger: log, attempts: config.notifications?.attempts, backoffMs: config.notifications?.retryDelayMs });
  // Step runs of a workflow are normal runs (run store, metrics) but are not experiments of the
  // repository: the status branch and the notifiers hear of them through the workflow listeners.
  const steps = new StepRunWatch();
  const notSteps = (l: RunListener): RunListener => ({ onRunUpdate: (r, job) => (job?.workflow ? undefined : l.onRunUpdate(r, job)) });
  const reporters = createReporters({ config, redis, log, experimentFetch: egress.fetch, deliveries });
  // Custom resources (kubernetes.customResources): a second source of experiments and workflows,
  // their results written to each resource's status. A change asks for a reconcile pass.
  let crTimer: NodeJS.Timeout | undefined;
  const crSource = config.kubernetes.customResources
    ? new CustomResourceSource(opts.kubeConfig, {
      log,
      onChange: () => {
        crTimer ??= setTimeout(() => {
          crTimer = undefined;
          void enqueueReconcile(queues, { trigger: 'cluster' }).catch((err: unknown) => log.error({ err }, 'reconcile enqueue failed'));
        }, 200);
      },
    })
    : undefined;
  const crStatus = crSource ? new CustomResourceStatus(crSource, log) : undefined;
  // A resource's run has no commit: no commit status or pull-request comment for it.
  const notCluster = (l: RunListener): RunListener => (l instanceof RunResultReporter ? { onRunUpdate: (r, job) => (parseCrPath(job.file) ? undefined : l.onRunUpdate(r, job)) } : l);
  const listeners: RunListener[] = [notSteps(status), new MetricsListener(), steps, ...reporters.map(notCluster).map(notSteps), ...(crStatus ? [crStatus] : [])];
  // Finished workflow runs: a sticky comment on the pull request of their revision (durable deliveries too).
  const workflowHost = gitHostFrom(config, log);
  const workflowComments = workflowHost
    ? new WorkflowResultReporter({ host: workflowHost, repoUrl: config.repo.url, statusBranch: config.status.branch, deliveries, newest: redisNewestStore(redis, prefix), logger: log })
    : undefined;
  deliveries.start(); // every kind is registered: deliveries a previous process left are taken now
  // Parsed files survive a restart in the data directory (keyed by blob id and the build).
  const desired = new DesiredState({ egress: egress.policy }, new ParseCache(join(workdir, 'parsed.json')));
  const runSide: RunSide = await createRunSide({
    config, kc: opts.kubeConfig, redis, log, runStore, listeners, executor: opts.executor, identity, runsQueue: queues.runs, egress, dataDir: workdir,
    knownNames: (oid) => desired.namesOf(oid),
  });

  // Workflow run updates: the status branch, PR comment and metrics hook in here.
  // (filled below: the reports need the workflow run store; the runner reads this array as it goes)
  const workflowListeners: WorkflowListener[] = [];
  const workflows: WorkflowSide = await createWorkflowSide({
    redis, prefix, kc: opts.kubeConfig, executor: runSide.executor, resolver: runSide.resolver, resolverFor: runSide.resolverFor, safetyState: runSide.safetyState, steps,
    listeners: workflowListeners, log, fetch: egress.fetch, exposeResponses: config.egress.exposeResponses, lockWaitMs: config.runs.lockWaitMs,
    concurrency: config.runs.concurrency, branch: status,
  });
  // Finished runs are scored (their steps' fault runs from the run store), then recorded.
  workflowListeners.push(new WorkflowReports({ runs: runStore, store: workflows.store, listeners: [
    status,
    // A custom resource's run has no commit, so no pull request to comment on.
    ...(workflowComments ? [{ onWorkflowUpdate: (r: WorkflowRunRecord) => (parseCrPath(r.file) ? undefined : workflowComments.onWorkflowUpdate(r)) }] : []),
    ...(crStatus ? [crStatus] : []),
    ...(opts.workflowListeners ?? []),
  ], log }));

  const runWorker: RunWorker = await startRunWorker({
    connection: redis,
    prefix,
    concurrency: config.runs.concurrency,
    executor: runSide.executor,
    log,
    runStore,
    onRedelivered: runSide.onRedelivered,
  });

  // Reconciling: one leader at a time; the reconcile worker only runs on the leader so that a
  // queued request is never taken (and dropped) by a replica that would skip it.
  const leader: LeaderLock = runSide.leader ?? new RedisLeaderLock(redis, { prefix, token: identity, log });
  const reconciler = new Reconciler({ queues, applied: status, log, leader });
  const catalog = new CatalogPublisher(redis, prefix);
  // Written a few seconds after a pass (and at close), not inside it: rewriting the file costs
  // ~0.1 s for 10k files, which a push should not wait behind.
  let persistTimer: NodeJS.Timeout | undefined;
  const persist = () => {
    persistTimer = undefined;
    try {
      desired.persist();
    } catch (err) {
      log.warn({ err }, 'parse cache not written; the next start parses every file');
    }
  };
  const persistSoon = () => {
    persistTimer ??= setTimeout(persist, 3000);
    persistTimer.unref();
  };
  let synced = false;
  // The last pass that went through completely; a poll or push that finds the same revision
  // again has nothing to do (unless Redis lost the catalog, e.g. a flush: then a full pass).
  let lastGood: { revision: string; freeze: boolean } | undefined;
  // A snapshot into the desired state: a full load (first sync, or the source started over), or its changes.
  // Custom resources are files of their own (k8s:<namespace>/<plural>/<name>) beside Git's; the
  // early load below has none yet, and the first diff of the resources hands out all of them.
  const loadSnapshot = (snapshot: SourceSnapshot, cluster?: { changed: SourceFile[]; deleted: string[]; all: SourceFile[] }) => {
    const before = { ...desired.stats };
    const t = performance.now();
    if (!synced || snapshot.previousRevision === undefined) desired.reset([...snapshot.changed, ...(cluster?.all ?? [])]);
    else desired.apply([...snapshot.changed, ...(cluster?.changed ?? [])], [...snapshot.deleted, ...(cluster?.deleted ?? [])]);
    if (snapshot.changed.length > 0) {
      const parsed = desired.stats.parsed - before.parsed;
      log.info({ revision: snapshot.revision, files: snapshot.changed.length, parsed, fromCache: desired.stats.cached - before.cached, ms: Math.round(performance.now() - t) }, 'experiment files loaded');
    }
    synced = true;
  };
  // The first fetch and parse start now, beside the rest of the start-up (cluster caches, revert
  // pass, queues, leadership): the fetch is a git child process. The first pass waits for them and
  // then syncs again as every pass does (a ref check when nothing moved), so it reconciles the
  // head as it is then, however long ago this ran (a follower may lead only hours later).
  let firstLoad: Promise<boolean> | undefined = source.sync().then(
    (snapshot) => {
      loadSnapshot(snapshot);
      return true;
    },
    (err: unknown) => {
      log.debug({ err }, 'first fetch at start-up failed; the first pass fetches again');
      return false;
    },
  );
  const reconcileOnce = async (trigger: string): Promise<ReconcileSummary | undefined> => {
    const end = reconcileDuration.startTimer({ trigger });
    let snapshot;
    try {
      const early = firstLoad;
      firstLoad = undefined;
      // After a failed early fetch, its backoff does not hold the first pass back.
      const force = early ? !(await early) : false;
      snapshot = await source.sync({ force });
    } catch (err) {
      // While backing off the source refuses without fetching: not a new fetch error.
      if ((err as { kind?: string }).kind !== 'backoff') gitFetchErrors.inc();
      log.error({ err, trigger }, 'git fetch failed; the last good state stays in force');
      throw err;
    }
    // Never a pass without the resources listed: they would look deleted (runs aborted).
    if (crSource && !(await crSource.synced(10_000))) throw new Error('custom resources not listed yet (is deploy/crds applied?); reconcile postponed');
    const cluster = crSource?.diff();
    const nothingNew =
      synced &&
      (trigger === 'poll' || trigger === 'push') &&
      lastGood?.revision === snapshot.revision &&
      lastGood.freeze === snapshot.freeze &&
      snapshot.previousRevision === snapshot.revision &&
      snapshot.changed.length === 0 &&
      snapshot.deleted.length === 0 &&
      !cluster?.changed.length &&
      !cluster?.deleted.length &&
      reconciler.holdsCache() &&
      (await catalog.intact());
    if (nothingNew) {
      lastReconcileTimestamp.set(Date.now() / 1000);
      end();
      return undefined;
    }
    lastGood = undefined;
    loadSnapshot(snapshot, cluster);
    const load = applyCustomResourceScope(desired.result(), config.kubernetes.customResourceTargets);
    invalidExperiments.set(new Set(load.problems.map((p) => p.file)).size);
    for (const p of load.problems) log.warn({ file: p.file, line: p.line, column: p.column, pointer: p.pointer }, `invalid experiment file: ${p.message}`);
    const summary = await reconciler.reconcile({ revision: snapshot.revision, load, freeze: snapshot.freeze });
    // Workflows after the experiments (the freeze flag is set by then); only the leader gets here.
    if (!summary.skipped) {
      try {
        await workflows.reconcile({ revision: snapshot.revision, workflows: load.workflows ?? [], experiments: load.experiments });
      } catch (err) {
        summary.failed++;
        log.error({ err, revision: snapshot.revision }, 'workflows not reconciled; the next pass retries');
      }
    }
    persistSoon();
    if (!summary.skipped) crStatus?.afterReconcile(load);
    if (!summary.skipped) {
      await catalog.publish(snapshot.revision, snapshot.freeze, load);
      lastReconcileTimestamp.set(Date.now() / 1000);
      if (summary.failed === 0) lastGood = { revision: snapshot.revision, freeze: snapshot.freeze };
      // The pull-request reader's name index is built after the first pass (names from the
      // desired state just parsed), so it neither slows the start nor parses a file twice.
      if (config.gitHost) void runSide.warmPrReader();
      // The whole pass (experiments, workflows, catalog) is over: what a cold-start figure waits for.
      log.info({ revision: snapshot.revision, failed: summary.failed }, 'pass done');
    }
    end();
    return summary;
  };
  let reconcileWorker: ReconcileWorker | undefined;
  let workerChange: Promise<void> = Promise.resolve();
  const onLeadership = (isLeader: boolean) => {
    log.info({ leader: isLeader }, isLeader ? 'became the reconcile leader' : 'lost reconcile leadership');
    workerChange = workerChange.then(async () => {
      if (isLeader && !reconcileWorker) {
        reconcileWorker = await startReconcileWorker({ connection: redis, prefix, log, handler: (data) => reconcileOnce(data.trigger) });
        await enqueueReconcile(queues, { trigger: 'startup' });
      } else if (!isLeader && reconcileWorker) {
        const w = reconcileWorker;
        reconcileWorker = undefined;
        await w.close();
      }
    });
  };
  leader.start(onLeadership);

  // Pull-request plans: any replica may take them; one pull request's plans go one at a time.
  const planWorker = new Worker<PlanJob>('plans', async (job) => planInOrder(redis, prefix, job.data, () => runSide.planPullRequest(job.data, source)), {
    connection: redis.duplicate(),
    prefix,
    concurrency: 2,
  });
  planWorker.on('failed', (job, err) => log.error({ err, pr: job?.data.number }, 'pull-request plan failed'));

  // A poll asks the remote for the branch head first (one ref advertisement) and queues a pass
  // only when it moved since the last complete pass, or anything else is in doubt (a pass under
  // way or failed, the source backing off, the catalog gone from Redis). An idle poll used to be a
  // queue job round trip (~50 Redis commands and several scripts) per interval. Only the leader
  // polls: its reconcile worker is the only one that takes the job.
  let polling = false;
  const pollOnce = async () => {
    if (polling || !leader.isLeader()) return;
    polling = true;
    try {
      const good = lastGood;
      if (good && reconciler.holdsCache()) {
        const head = await source.remoteHead();
        if (head === good.revision && lastGood === good && (await catalog.intact())) {
          lastReconcileTimestamp.set(Date.now() / 1000);
          return;
        }
      }
      await enqueueReconcile(queues, { trigger: 'poll' });
    } finally {
      polling = false;
    }
  };
  const poll = config.repo.pollIntervalMs > 0
    ? setInterval(() => void pollOnce().catch((err: unknown) => log.error({ err }, 'poll enqueue failed')), config.repo.pollIntervalMs)
    : undefined;
  const depth = setInterval(() => {
    void sampleQueueDepth(queues, plans, deliveries.queue, workflows.queue);
    sampleStatus(status);
  }, 15_000);
  status.start().catch((err: unknown) => log.error({ err }, 'status outbox could not be opened'));

  const control = createControlPlane({
    redis, prefix, queues, runStore, runWorker, status, safety: runSide.safety, log,
    workflows: createWorkflowsView({ redis, prefix, store: workflows.store, runs: runStore }),
  });
  const auth = { apiToken: config.server.apiToken, readRequiresToken: config.server.readRequiresToken };
  // The rate-limit count lives in Redis so every replica sees one bucket per client. Its own
  // connection fails fast when Redis is away (the limiter then counts nothing, never blocks).
  const rateLimitRedis = redis.duplicate({ maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 });
  rateLimitRedis.on('error', () => undefined); // reported by readiness, not once per retry
  const server = buildServer({
    config,
    redis,
    log,
    onPush: async (e) => {
      await enqueueReconcile(queues, { trigger: 'push', revision: e.after });
    },
    onPullRequest: async (e) => {
      await enqueuePlan(plans, redis, prefix, e);
    },
    readiness: readinessFrom({
      redis: () => redis.ping(),
      git: () => isReachable(config.repo.url, config.repo.token),
      // Degraded while status records cannot be pushed (they wait in the outbox meanwhile).
      'status-branch': async () => {
        const h = status.health();
        if (!h.ok) throw new Error(`${h.pending} update(s) waiting since ${h.failingSince}: ${h.lastError ?? 'push failing'}`);
      },
    }),
    plugins: [
      (app) => apiPlugin(app, { ...auth, control, rateLimit: { ...config.server.rateLimit, redis: rateLimitRedis, prefix } }),
      (app) => dashboardPlugin(app, { ...auth, queues: [queues.reconcile, queues.runs, plans] }),
    ],
  });
  let url: string | undefined;
  if (opts.listen !== false) url = await server.listen({ host: config.server.host, port: config.server.port });
  const bound = server.server.address();
  if (bound && typeof bound === 'object') egress.policy.reserve({ host: 'self', port: bound.port, what: "the controller's own port" });
  // The admission webhook: its own HTTPS port, the certificate of a mounted Secret.
  let admission: AdmissionServer | undefined;
  if (config.admission) {
    admission = await startAdmissionServer({ ...config.admission, load: { egress: egress.policy }, targets: config.kubernetes.customResourceTargets, log });
    log.info({ url: admission.url }, 'admission webhook listening');
  }
  log.info({ url, repo: config.repo.url, branch: config.repo.branch, customResources: !!crSource }, 'controller started');
  // The pull-request reader fetches the base branch now (native git, its own process), beside the
  // first reconcile: a pull request right after a start does not wait for a whole-tree fetch.
  if (config.gitHost) void runSide.warmPrReader({ index: false });

  let closing: Promise<void> | undefined;
  let abortReason: string | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (poll) clearInterval(poll);
      clearInterval(depth);
      await server.close();
      await admission?.close();
      if (crTimer) clearTimeout(crTimer);
      crSource?.close();
      await leader.stop();
      await workerChange;
      await reconcileWorker?.close();
      // After the last pass has ended (it may have been mid-way when the signal came): what it
      // parsed is kept for the next start. Writes only if something changed.
      if (persistTimer) clearTimeout(persistTimer);
      persist();
      await planWorker.close();
      // Runs in flight finish (and revert) before the worker closes: nothing is dropped.
      // After shutdown(), they have been asked to abort: they revert now. Workflows first: their
      // steps run on this process's executor.
      await workflows.close(abortReason ? { abortActive: true, reason: abortReason } : undefined);
      await runWorker.close(abortReason ? { abortActive: true, reason: abortReason } : undefined);
      // What the last runs reported reaches the status branch, and (bounded) the hosts, before we go.
      await status.close(10_000);
      if (!(await settleReporters([status, ...reporters, ...(crStatus ? [crStatus] : [])], 5_000))) log.warn('notifications not sent yet stay queued in Redis for the next process');
      await deliveries.close(true);
      await runSide.close();
      await plans.close();
      await queues.close();
      await egress.fetch.close();
      rateLimitRedis.disconnect();
      redis.disconnect();
      data.release();
      log.info('controller stopped');
    })();
    return closing;
  };
  return {
    identity,
    queues,
    server,
    get url() {
      return url;
    },
    admissionUrl: admission?.url,
    runs: runStore,
    workflowRuns: workflows.store,
    status,
    reconcileNow: (trigger = 'manual') => reconcileOnce(trigger),
    async shutdown(reason = 'controller shutting down') {
      const bound = config.runs.shutdownTimeoutMs;
      const started = Date.now();
      abortReason = reason;
      runSide.shuttingDown();
      runWorker.abort({ all: true, reason, code: 'ShuttingDown' });
      workflows.worker.abort({ all: true, reason, code: 'ShuttingDown' });
      // Leave a few seconds at the end for the status branch and the exit itself.
      const handOver = setTimeout(() => runSide.handOver(), Math.max(0, bound - Math.min(10_000, bound / 3)));
      let timer: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([
        close().then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, bound - 1000)))),
      ]);
      clearTimeout(handOver);
      clearTimeout(timer);
      log.info({ ms: Date.now() - started, boundMs: bound, inTime }, inTime ? 'shutdown complete' : 'shutdown bound reached; exiting with work handed over');
      return inTime;
    },
    close,
  };
}

function sampleStatus(status: GitStatusStore): void {
  const h = status.health();
  statusOutbox.set(h.pending);
  statusWriteFailing.set(h.ok ? 0 : 1);
}

async function sampleQueueDepth(queues: Queues, plans: Queue, notifications: Queue, workflowsQueue: Queue): Promise<void> {
  for (const q of [queues.reconcile, queues.runs, plans, notifications, workflowsQueue]) {
    const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'failed').catch(() => undefined);
    for (const [state, n] of Object.entries(counts ?? {})) queueDepth.set({ queue: q.name, state }, n);
  }
}

export { loadExperimentFiles };
