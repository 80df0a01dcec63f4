// Target resolution over a simulated cluster of 10,000 pods in 200 namespaces: per-run
// resolution from the watch-backed cache (createTargetResolver) versus a LIST per run (pods
// with the selector, the namespace's ReplicaSets for owners, the namespace for its labels),
// both through @kubernetes/client-node over HTTP to the simulator.
import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { chooseSeeded, countForMode, createTargetResolver, isPodReady, matchesSelector, selectorToString } from '../src/cluster/index.js';
import type { Target } from '../src/experiments/model.js';
import { startSimulator, type TopologyFile } from '../src/sim/index.js';
import type { BenchResult } from './types.js';

const NAMESPACES = 200;
const APPS = ['web', 'api', 'worker', 'cache', 'db'];
const REPLICAS = 10; // 200 × 5 × 10 = 10,000 pods
const CACHE_RUNS = 2000;
const LIST_RUNS = 200;

function topology(): TopologyFile {
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => ({ name: `team-${String(i).padStart(3, '0')}`, labels: { 'faultline.dev/chaos': 'enabled' } }));
  return {
    name: 'bench-10k',
    nodes: Array.from({ length: 50 }, (_, i) => ({ name: `node-${i + 1}` })),
    namespaces,
    workloads: namespaces.flatMap((ns) => APPS.map((app) => ({ namespace: ns.name, kind: 'Deployment' as const, name: app, replicas: REPLICAS }))),
  };
}

function stats(samples: number[]): { mean: number; p99: number } {
  const s = samples.slice().sort((a, b) => a - b);
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p99: s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)]! };
}

function randomTarget(i: number): Target {
  const ns = `team-${String((i * 7919) % NAMESPACES).padStart(3, '0')}`;
  const app = APPS[i % APPS.length]!;
  return { namespace: ns, selector: { matchLabels: { app } }, mode: { type: 'percent', value: 30 } };
}

export default async function (): Promise<BenchResult[]> {
  const t0 = performance.now();
  const sim = await startSimulator({ topology: topology() });
  const seedS = (performance.now() - t0) / 1000;
  const kc = sim.kubeConfig();
  try {
    const t1 = performance.now();
    const resolver = createTargetResolver(kc);
    await resolver.ready();
    const syncS = (performance.now() - t1) / 1000;
    const pods = resolver.podCount();

    // Cache: every resolution is in memory.
    const cache: number[] = [];
    let hits = 0;
    for (let i = 0; i < CACHE_RUNS; i++) {
      const start = performance.now();
      const r = resolver.resolve(randomTarget(i), i);
      resolver.namespaceLabels(r.pods[0]?.namespace ?? '');
      resolver.disruptionBudgets(randomTarget(i).namespace, r.pods);
      cache.push(performance.now() - start);
      hits += r.pods.length;
    }
    if (hits !== CACHE_RUNS * 3) throw new Error(`expected 3 of 10 pods per resolution, got ${hits / CACHE_RUNS}`);
    resolver.close();

    // LIST per run: what a resolver without a cache would do for each run.
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const list: number[] = [];
    for (let i = 0; i < LIST_RUNS; i++) {
      const target = randomTarget(i);
      const start = performance.now();
      const [podList, rsList, ns] = await Promise.all([
        core.listNamespacedPod({ namespace: target.namespace, labelSelector: selectorToString(target.selector) }),
        apps.listNamespacedReplicaSet({ namespace: target.namespace }),
        core.readNamespace({ name: target.namespace }),
      ]);
      const owners = new Map(rsList.items.map((rs) => [rs.metadata!.name!, rs.metadata?.ownerReferences?.[0]?.name]));
      const ready = podList.items
        .filter((p: V1Pod) => isPodReady(p) && matchesSelector(target.selector, p.metadata?.labels))
        .sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
      const chosen = chooseSeeded(ready, countForMode(target.mode, ready.length), i);
      void chosen.map((p) => owners.get(p.metadata!.ownerReferences?.[0]?.name ?? ''));
      void ns.metadata?.labels;
      list.push(performance.now() - start);
    }

    const c = stats(cache);
    const l = stats(list);
    return [
      { name: 'targets: simulated cluster', value: pods, unit: 'pods', note: `${NAMESPACES} namespaces; seeded in ${seedS.toFixed(1)} s, caches synced in ${syncS.toFixed(1)} s` },
      { name: 'targets: resolve from watch cache, mean', value: c.mean, unit: 'ms', target: '< 5 ms', note: `${CACHE_RUNS} resolutions (30% of 10 pods, incl. namespace labels and PDBs)` },
      { name: 'targets: resolve from watch cache, p99', value: c.p99, unit: 'ms', target: '< 5 ms' },
      { name: 'targets: LIST per run, mean', value: l.mean, unit: 'ms', note: `${LIST_RUNS} resolutions: pods by selector + replicasets + namespace, over HTTP` },
      { name: 'targets: LIST per run, p99', value: l.p99, unit: 'ms' },
      { name: 'targets: cache speed-up (mean)', value: l.mean / c.mean, unit: 'x' },
    ];
  } finally {
    await sim.close();
  }
}
