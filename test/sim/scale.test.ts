// The simulator at sizes where its bookkeeping matters: big ReplicaSets and StatefulSets, the
// owner index kept right when ownerReferences change, the watch log trimmed in batches.
import { afterEach, describe, expect, it } from 'vitest';
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { isPodReady, SimStore, startSimulator, type Simulator } from '../../src/sim/index.js';
import { waitFor } from '../helpers/wait.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('simulator at scale', () => {
  it('seeds 20,000 pods in one namespace (a 15,000-replica Deployment, a 5,000-replica StatefulSet), all Running and counted', async () => {
    const t0 = performance.now();
    sim = await startSimulator({
      topology: {
        nodes: Array.from({ length: 20 }, (_, i) => ({ name: `node-${i}` })),
        namespaces: [{ name: 'big' }],
        workloads: [
          { namespace: 'big', kind: 'Deployment', name: 'web', replicas: 15_000 },
          { namespace: 'big', kind: 'StatefulSet', name: 'db', replicas: 5_000 },
        ],
      },
    });
    console.log(`[figure] sim seed: 20,000 pods in one namespace in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const pods = [...sim.store.scan('pods')];
    expect(pods).toHaveLength(20_000);
    expect(pods.filter((p) => isPodReady(p))).toHaveLength(20_000);
    const names = new Set(pods.map((p) => p.metadata.name));
    expect(names.has('db-0') && names.has('db-4999') && !names.has('db-5000')).toBe(true);
    // the scheduler spreads evenly: 1,000 pods per node
    const perNode = new Map<string, number>();
    for (const p of pods) {
      const n = (p.spec as { nodeName: string }).nodeName;
      perNode.set(n, (perNode.get(n) ?? 0) + 1);
    }
    expect([...perNode.values()]).toEqual(Array(20).fill(1000));
    const rs = sim.store.list('replicasets', { namespace: 'big' });
    expect(rs).toHaveLength(1);
    expect(rs[0]!.status).toMatchObject({ replicas: 15_000, readyReplicas: 15_000 });
    expect(sim.store.get('statefulsets', 'big', 'db')!.status).toMatchObject({ replicas: 5_000, readyReplicas: 5_000 });
  }, 120_000);

  it('a pod orphaned through the API (ownerReferences removed) stops counting for its ReplicaSet, which replaces it', async () => {
    sim = await startSimulator({ recreateDelayMs: 50, readyDelayMs: 10 });
    const core = sim.kubeConfig().makeApiClient(CoreV1Api);
    const before = (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' })).items;
    const orphan = before[0]!.metadata!.name!;
    await core.patchNamespacedPod(
      { namespace: 'shop', name: orphan, body: [{ op: 'remove', path: '/metadata/ownerReferences' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    const after = await waitFor('replacement for the orphan', async () => {
      const l = (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' })).items;
      const owned = l.filter((p) => p.metadata?.ownerReferences?.length && p.status?.phase === 'Running');
      return owned.length === before.length ? l : undefined;
    });
    expect(after).toHaveLength(before.length + 1);
    expect(after.find((p) => p.metadata!.name === orphan)!.metadata!.ownerReferences).toBeUndefined();
    const rs = sim.store.list('replicasets', { namespace: 'shop' }).find((r) => r.metadata.name.startsWith('checkout-'))!;
    await waitFor('rs status counts owned pods only', () => (rs && sim!.store.get('replicasets', 'shop', rs.metadata.name)!.status as { replicas?: number }).replicas === before.length);
  });

  it('the watch log keeps exactly the last eventWindow events however many pass (trimmed in batches)', () => {
    const store = new SimStore({ eventWindow: 100 });
    store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } });
    store.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'n' }, data: { v: '0' } });
    for (let i = 1; i <= 1234; i++) {
      store.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'n' }, data: { v: String(i) } });
      const now = store.currentResourceVersion();
      expect(store.oldestResumableVersion()).toBe(Math.max(0, now - 100));
      const oldest = store.oldestResumableVersion();
      const replay = store.eventsSince('configmaps', oldest);
      expect(replay).not.toBe('gone');
      expect((replay as { rv: number }[]).map((e) => e.rv)).toEqual(Array.from({ length: now - oldest }, (_, k) => oldest + 1 + k).filter((rv) => rv > 1));
      if (oldest > 0) expect(store.eventsSince('configmaps', oldest - 1)).toBe('gone');
    }
    store.close();
  });
});
