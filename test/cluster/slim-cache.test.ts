// The resolver's watch cache keeps a slim record per pod and workload; what it answers must be
// the same as from full objects, through list and through watch events (readiness, owner changes,
// deletion marks), over HTTP against the simulator.
import { CoreV1Api, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetResolver, isPodReady } from '../../src/cluster/index.js';
import { slimPod, slimWorkload } from '../../src/cluster/resolver.js';
import type { ClusterTargetResolver } from '../../src/cluster/types.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { waitFor } from '../helpers/wait.js';

let sim: Simulator;
let resolver: ClusterTargetResolver;
let core: CoreV1Api;
const target = { namespace: 'shop', selector: { matchLabels: { app: 'checkout' } }, mode: { type: 'all' as const } };

beforeAll(async () => {
  sim = await startSimulator({ recreateDelayMs: 60_000, readyDelayMs: 10 });
  core = sim.kubeConfig().makeApiClient(CoreV1Api);
  resolver = createTargetResolver(sim.kubeConfig());
  await resolver.ready();
});
afterAll(async () => {
  resolver.close();
  await sim.close();
});

describe('slim watch cache', () => {
  it('a slim pod keeps exactly what the resolver reads, and reads the same', async () => {
    const full = (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' })).items[0]!;
    const slim = slimPod(full);
    expect(Object.keys(slim).sort()).toEqual(['metadata', 'spec', 'status']);
    expect(Object.keys(slim.metadata!).sort()).toEqual(['labels', 'name', 'namespace', 'ownerReferences', 'resourceVersion', 'uid']);
    expect(slim.metadata!.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: full.metadata!.ownerReferences![0]!.name, uid: full.metadata!.ownerReferences![0]!.uid, controller: true }]);
    expect(slim.spec).toEqual({ nodeName: full.spec!.nodeName, containers: full.spec!.containers.map((c) => ({ name: c.name })) });
    expect(slim.status).toEqual({ conditions: [{ type: 'Ready', status: 'True' }] });
    expect(isPodReady(slim)).toBe(isPodReady(full));
    expect(JSON.stringify(slim).length * 3).toBeLessThan(JSON.stringify(full).length);
    const rs = slimWorkload({ metadata: { name: 'r', uid: 'u', annotations: { a: 'b' } }, spec: { replicas: 3, selector: {} } });
    expect(rs).toEqual({ metadata: { name: 'r', namespace: undefined, uid: 'u', resourceVersion: undefined }, spec: { replicas: 3 } });
  });

  it('resolves as before from the slim records: owners through ReplicaSets, containers, nodes', () => {
    const r = resolver.resolve(target, 1);
    expect(r.pods).toHaveLength(4);
    for (const p of r.pods) {
      expect(p.owner).toEqual({ kind: 'Deployment', name: 'checkout' });
      expect(p.containers).toEqual(['checkout']);
      expect(p.nodeName).toMatch(/^node-/);
      expect(p.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(p.labels.app).toBe('checkout');
    }
    expect(r.blastRadius).toEqual([{ workload: 'Deployment/checkout', namespace: 'shop', hit: 4, ready: 4, percent: 100 }]);
  });

  it('watch events reach the slim cache: readiness, a removed owner, a deletion mark', async () => {
    const names = resolver.resolve(target, 1).pods.map((p) => p.name).sort();
    sim.store.setPodReady('shop', names[0]!, false);
    await waitFor('not ready in cache', () => resolver.resolve(target, 1).candidates === 3);
    await core.patchNamespacedPod(
      { namespace: 'shop', name: names[1]!, body: [{ op: 'remove', path: '/metadata/ownerReferences' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    await waitFor('orphan in cache', () => resolver.resolve(target, 1).pods.some((p: { name: string; owner?: unknown }) => p.name === names[1] && !p.owner));
    await core.deleteNamespacedPod({ namespace: 'shop', name: names[2]!, gracePeriodSeconds: 30 });
    await waitFor('terminating pod left out', () => !resolver.resolve(target, 1).pods.some((p) => p.name === names[2]));
    const left: V1Pod[] = (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' })).items;
    expect(resolver.resolve(target, 1).candidates).toBe(left.filter(isPodReady).length);
  });
});
