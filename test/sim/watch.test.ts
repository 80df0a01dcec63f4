import { afterEach, describe, expect, it } from 'vitest';
import { CoreV1Api, Watch, makeInformer, type V1Pod } from '@kubernetes/client-node';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { waitFor } from '../helpers/wait.js';

let sim: Simulator | undefined;
const aborts: AbortController[] = [];
afterEach(async () => {
  for (const a of aborts.splice(0)) a.abort();
  await sim?.close();
  sim = undefined;
});

type Ev = { type: string; object: { metadata?: { name?: string; resourceVersion?: string }; code?: number; reason?: string } };

async function watchPods(s: Simulator, path: string, query: Record<string, string | number | boolean | undefined>, events: Ev[]): Promise<{ done: Promise<unknown> }> {
  let finish!: (e: unknown) => void;
  const done = new Promise((r) => (finish = r));
  const ctl = await new Watch(s.kubeConfig()).watch(path, query, (type, object) => events.push({ type, object }), (err) => finish(err ?? 'closed'));
  aborts.push(ctl);
  return { done };
}

describe('watch', () => {
  it('streams ADDED/MODIFIED/DELETED from a resourceVersion with bookmarks', async () => {
    sim = await startSimulator({ recreateDelayMs: 60_000, bookmarkIntervalMs: 50 });
    const core = sim.kubeConfig().makeApiClient(CoreV1Api);
    const list = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=cart' });
    const events: Ev[] = [];
    await watchPods(sim, '/api/v1/namespaces/shop/pods', { labelSelector: 'app=cart', resourceVersion: list.metadata!.resourceVersion, allowWatchBookmarks: true }, events);

    const victim = list.items[0]!.metadata!.name!;
    await core.patchNamespacedPod({ namespace: 'shop', name: victim, body: [{ op: 'add', path: '/metadata/labels/seen', value: 'yes' }] });
    await core.deleteNamespacedPod({ namespace: 'shop', name: victim, gracePeriodSeconds: 0 });
    // a change elsewhere must not show up in this watch
    await core.patchNamespacedPod({ namespace: 'shop', name: 'orders-db-0', body: [{ op: 'add', path: '/metadata/labels/seen', value: 'yes' }] });

    await waitFor('DELETED and a later BOOKMARK', () => {
      const del = events.findIndex((e) => e.type === 'DELETED');
      return del >= 0 && events.slice(del).some((e) => e.type === 'BOOKMARK');
    });
    const changes = events.filter((e) => e.type !== 'BOOKMARK');
    expect(changes.map((e) => [e.type, e.object.metadata!.name])).toEqual([['MODIFIED', victim], ['DELETED', victim]]);
    const bookmark = events.filter((e) => e.type === 'BOOKMARK').at(-1)!;
    expect(Number(bookmark.object.metadata!.resourceVersion)).toBeGreaterThanOrEqual(Number(changes[1]!.object.metadata!.resourceVersion));
  });

  it('without a resourceVersion starts with ADDED for existing objects; a label change out of the selector is DELETED', async () => {
    sim = await startSimulator({ recreateDelayMs: 60_000 });
    const core = sim.kubeConfig().makeApiClient(CoreV1Api);
    const events: Ev[] = [];
    await watchPods(sim, '/api/v1/pods', { labelSelector: 'app=payments' }, events);
    await waitFor('initial ADDED', () => events.filter((e) => e.type === 'ADDED').length === 2);
    const name = events[0]!.object.metadata!.name!;
    await core.patchNamespacedPod({ namespace: 'shop', name, body: [{ op: 'replace', path: '/metadata/labels/app', value: 'moved' }] });
    await waitFor('DELETED by relabel', () => events.some((e) => e.type === 'DELETED' && e.object.metadata!.name === name));
  });

  it('answers a too-old resourceVersion with an ERROR event 410 Expired', async () => {
    sim = await startSimulator({ recreateDelayMs: 60_000, eventWindow: 5 });
    const core = sim.kubeConfig().makeApiClient(CoreV1Api);
    const list = await core.listNamespacedPod({ namespace: 'shop' });
    for (let i = 0; i < 10; i++) {
      await core.patchNamespacedPod({ namespace: 'shop', name: 'orders-db-0', body: [{ op: 'add', path: '/metadata/labels/n', value: String(i) }] });
    }
    const events: Ev[] = [];
    const { done } = await watchPods(sim, '/api/v1/namespaces/shop/pods', { resourceVersion: list.metadata!.resourceVersion }, events);
    await done;
    expect(events).toHaveLength(1);
    expect(events[0]!.type).toBe('ERROR');
    expect(events[0]!.object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
  });

  it('ends the stream after timeoutSeconds', async () => {
    sim = await startSimulator();
    const events: Ev[] = [];
    const { done } = await watchPods(sim, '/api/v1/nodes', { timeoutSeconds: 1 }, events);
    expect(await done).toBe('closed');
    expect(events.filter((e) => e.type === 'ADDED')).toHaveLength(3);
  });

  it('makeInformer lists and watches (and keeps watching across a log compaction)', async () => {
    sim = await startSimulator({ recreateDelayMs: 50, readyDelayMs: 20, eventWindow: 50 });
    const kc = sim.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const informer = makeInformer<V1Pod>(kc, '/api/v1/namespaces/shop/pods', () => core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' }), 'app=checkout');
    const added: string[] = [];
    const deleted: string[] = [];
    informer.on('add', (p) => added.push(p.metadata!.name!));
    informer.on('delete', (p) => deleted.push(p.metadata!.name!));
    await informer.start();
    try {
      expect(informer.list('shop')).toHaveLength(4);
      const victim = informer.list('shop')[0]!.metadata!.name!;
      await core.deleteNamespacedPod({ namespace: 'shop', name: victim, gracePeriodSeconds: 0 });
      await waitFor('informer sees delete and replacement', () => deleted.includes(victim) && informer.list('shop').length === 4 && !informer.get(victim, 'shop'));
      // the replacement becomes Ready in the cache too
      await waitFor('replacement ready in cache', () => informer.list('shop').every((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')));
      expect(added.length).toBeGreaterThanOrEqual(5);
      // compaction while the informer is connected: later changes still arrive
      sim.store.compact();
      await core.patchNamespacedPod({ namespace: 'shop', name: informer.list('shop')[0]!.metadata!.name!, body: [{ op: 'add', path: '/metadata/labels/after', value: 'compact' }] });
      await waitFor('change after compaction', () => informer.list('shop').some((p) => p.metadata!.labels!.after === 'compact'));
    } finally {
      await informer.stop();
    }
  });
});
