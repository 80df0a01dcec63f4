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
import { isFrozen } from '../queue/index.js';
import { loadExperimentFiles } from '../experiments/index.js';
import { handlePullRequest, toPlanEvent, type PullRequestResult } from '../report/pr-plan.js';
import { PrTreeReader } from '../report/pr-source.js';
import { join } from 'node:path';
import type { PullRequestEvent } from '../server/types.js';
import type { GitSource } from '../source/types.js';
import { gitHostFrom } from './reporters.js';
import type { KillSwitch } from './control-plane.js';

export interface RunSide {
  executor: RunExecutor;
  resolver: TargetResolver;
  safety: KillSwitch;
  leader?: LeaderLock;
  onRedelivered?: (job: RunJobData, marker: RunMarker) => Promise<RunRecord | void>;
  planPullRequest(e: PullRequestEvent, source: GitSource): Promise<PullRequestResult | { skipped: string }>;
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
}): Promise<RunSide> {
  const { config, kc, redis, log } = deps;
  const prefix = config.redis.prefix;
  const resolver = createTargetResolver(kc);
  await resolver.ready();
  const state = new SafetyState(redis, { prefix, maxConcurrentRuns: config.safety.maxConcurrentRuns });

  // Whatever a dead controller left injected is reverted before this one takes any run.
  await sweepOrphans({ kc, redis, prefix, log, isLive: async () => false });

  const executor =
    deps.executor ??
    createRunExecutor({
      kc,
      resolver,
      redis,
      prefix,
      safety: { ...config.safety, ownNamespace: config.kubernetes.namespace },
      injectorImage: config.injector.image,
      runStore: deps.runStore,
      listeners: deps.listeners,
      log,
      isFrozen: () => isFrozen(redis, prefix),
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
    dir: join(config.repo.workdir, deps.identity ?? `${process.pid}`, 'pr.git'),
    token: config.repo.token,
    username: config.repo.username,
    paths: config.repo.paths,
  });
  return {
    executor,
    resolver,
    safety: killSwitch,
    leader,
    async planPullRequest(e, source) {
      if (!host) return { skipped: 'no git host configured' };
      const freeze = await isFrozen(redis, prefix);
      return handlePullRequest(toPlanEvent(e), {
          source,
          reader,
          loadExperimentFiles,
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
