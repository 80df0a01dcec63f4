// Shared by the runs tests: a simulator with the shop topology, a resolver, Redis with a unique
// prefix, an executor wired like the controller, and job builders.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { createTargetResolver } from '../../src/cluster/index.js';
import type { ClusterTargetResolver } from '../../src/cluster/types.js';
import type { Experiment, FaultType, ProbeSpec, Target } from '../../src/experiments/model.js';
import { silentLogger } from '../../src/log.js';
import { createRunExecutor, type ActiveRunExecutor, type RunExecutorDeps } from '../../src/runs/index.js';
import type { RunJobData, RunListener, RunRecord } from '../../src/runs/types.js';
import { SafetyState, type SafetyConfig } from '../../src/safety/index.js';
import { loadTopologyFile, SHOP_TOPOLOGY_PATH, startSimulator, type Simulator } from '../../src/sim/index.js';
import { deletePrefix, newRedis, testPrefix } from '../queue/redis-helpers.js';

export const SAFETY: SafetyConfig = {
  protectedNamespaces: ['kube-system', 'kube-public', 'kube-node-lease'],
  optInLabel: { key: 'faultline.dev/chaos', value: 'enabled' },
  maxBlastRadiusPercent: 50,
  maxTargets: 10,
  maxConcurrentRuns: 5,
  allowedWindows: [],
  freezeWindows: [],
  ownNamespace: 'faultline',
};

export interface World {
  sim: Simulator;
  resolver: ClusterTargetResolver;
  redis: Redis;
  prefix: string;
  safetyState: SafetyState;
  frozen: { value: boolean };
  records: RunRecord[];
  executor(extra?: Partial<RunExecutorDeps>): ActiveRunExecutor;
  close(): Promise<void>;
}

export async function startWorld(opts: { withoutPdb?: boolean } = {}): Promise<World> {
  const topo = loadTopologyFile(SHOP_TOPOLOGY_PATH);
  if (opts.withoutPdb) topo.objects = (topo.objects ?? []).filter((o) => o.kind !== 'PodDisruptionBudget');
  const sim = await startSimulator({ topology: topo, readyDelayMs: 20, recreateDelayMs: 100 });
  const kc = sim.kubeConfig();
  const resolver = createTargetResolver(kc);
  await resolver.ready();
  const redis = newRedis();
  const prefix = testPrefix('runs');
  const safetyState = new SafetyState(redis, { prefix, maxConcurrentRuns: SAFETY.maxConcurrentRuns });
  const frozen = { value: false };
  const records: RunRecord[] = [];
  return {
    sim, resolver, redis, prefix, safetyState, frozen, records,
    executor: (extra = {}) => createRunExecutor({
      kc, resolver, redis, prefix, safety: SAFETY, safetyState, injectorImage: 'ghcr.io/faultline/agent:test',
      listeners: [{ onRunUpdate: (r) => void records.push(r) }], log: silentLogger, isFrozen: async () => frozen.value,
      recoveryTimeoutMs: 20_000, stopCheckMs: 50, ...extra,
    }),
    async close() {
      resolver.close();
      await sim.close();
      await deletePrefix(redis, prefix);
      await redis.quit();
    },
  };
}

let n = 0;
export function job(name: string, fault: { type: FaultType; params?: Record<string, unknown> }, target: Target, extra: { duration?: string; probes?: ProbeSpec[]; safety?: Experiment['spec']['safety'] } = {}): RunJobData {
  const spec: Experiment = {
    apiVersion: 'faultline.dev/v1alpha1', kind: 'ChaosExperiment', metadata: { name },
    spec: {
      fault: { type: fault.type, params: fault.params ?? {} }, target, duration: extra.duration ?? '1s',
      ...(extra.probes ? { steadyState: { probes: extra.probes } } : {}), ...(extra.safety ? { safety: extra.safety } : {}),
    },
  };
  const hash = `${(++n).toString(16).padStart(8, '0')}${'ab'.repeat(28)}`;
  return { runId: `${name}.${hash.slice(0, 16)}.once`, experiment: name, file: `experiments/${name}.yaml`, specHash: hash, revision: 'f'.repeat(40), occurrence: 'once', trigger: 'manual', spec };
}

/** A listener that calls fn the first time a run reaches `state`. */
export function onState(state: RunRecord['state'], fn: (r: RunRecord) => void): RunListener {
  let fired = false;
  return { onRunUpdate: (r) => { if (!fired && r.state === state) { fired = true; fn(r); } } };
}

/** A health endpoint the tests can flip. */
export async function healthServer(): Promise<{ url: string; status: { code: number }; close(): Promise<void> }> {
  const status = { code: 200 };
  const server: Server = createServer((_req, res) => res.writeHead(status.code).end(String(status.code)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`, status, close: () => new Promise((r) => server.close(() => r())) };
}
