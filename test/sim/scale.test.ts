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

describe('paged lists (limit / continue)', () => {
  it('pages through every pod once in key order; each page reports the first page\'s resourceVersion; a stale token is 410, a foreign one 400', async () => {
    sim = await startSimulator({ eventWindow: 20 });
    const core = sim.kubeConfig().makeApiClient(CoreV1Api);
    const all = (await core.listPodForAllNamespaces()).items.map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`).sort();
    expect(all.length).toBeGreaterThan(5);
    const seen: string[] = [];
    const versions = new Set<string>();
    let token: string | undefined;
    let first = true;
    do {
      const page = await core.listPodForAllNamespaces({ limit: 2, _continue: token });
      expect(page.items.length).toBeLessThanOrEqual(2);
      versions.add(page.metadata!.resourceVersion!);
      for (const p of page.items) seen.push(`${p.metadata!.namespace}/${p.metadata!.name}`);
      token = page.metadata?._continue || undefined;
      if (token) expect(page.metadata!.remainingItemCount).toBe(all.length - seen.length);
      if (first) sim.store.setPodReady(page.items[0]!.metadata!.namespace!, page.items[0]!.metadata!.name!, false); // a change between pages
      first = false;
    } while (token);
    expect(seen).toEqual(all);
    expect(versions.size).toBe(1);

    const one = await core.listPodForAllNamespaces({ limit: 1 });
    for (let i = 0; i < 30; i++) sim.store.setPodReady(one.items[0]!.metadata!.namespace!, one.items[0]!.metadata!.name!, i % 2 === 0);
    const stale = await fetch(`${sim.url}/api/v1/pods?limit=1&continue=${one.metadata!._continue}`);
    expect(stale.status).toBe(410);
    expect(await stale.json()).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    const foreign = await fetch(`${sim.url}/api/v1/pods?limit=1&continue=not-a-token`);
    expect(foreign.status).toBe(400);
  });
});
