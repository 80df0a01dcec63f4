// Through the real queue: enqueueRun → runs worker (BullMQ) → the run executor → simulator.
// A pod-kill completes with its record in the run store; an abort request reverts a scale-down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api } from '@kubernetes/client-node';
import { createQueues, enqueueRun, type Queues } from '../../src/queue/queues.js';
import { requestAbort } from '../../src/queue/abort.js';
import { RedisRunStore } from '../../src/queue/run-store.js';
import { startRunWorker, type RunWorker } from '../../src/queue/run-worker.js';
import { runJobId } from '../../src/queue/keys.js';
import { job, startWorld, type World } from './helpers.js';
import { waitFor } from '../helpers/wait.js';

describe('runs through the queue', () => {
  let w: World;
  let queues: Queues;
  let worker: RunWorker;
  let store: RedisRunStore;
  beforeAll(async () => {
    w = await startWorld({ withoutPdb: true });
    queues = createQueues(w.redis, w.prefix);
    store = new RedisRunStore(w.redis, w.prefix);
    worker = await startRunWorker({ connection: w.redis, prefix: w.prefix, executor: w.executor({ runStore: store }), runStore: store });
  });
  afterAll(async () => {
    await worker?.close({ abortActive: true });
    await queues?.close();
    await w?.close();
  });

  const queued = (j: ReturnType<typeof job>) => ({ ...j, runId: runJobId(j.experiment, j.specHash, j.occurrence) });

  it('a pod-kill hits the computed share and its record reaches the store', async () => {
    const j = queued(job('q-kill', { type: 'pod-kill' }, { namespace: 'shop', selector: { matchLabels: { app: 'checkout' } }, mode: { type: 'percent', value: 30 } }));
    await enqueueRun(queues, j);
    const rec = await waitFor('run finished', async () => { const r = await store.get(j.runId); return r?.endedAt ? r : undefined; }, 30_000);
    expect(rec).toMatchObject({ state: 'Succeeded', targets: [{ kind: 'Pod' }, { kind: 'Pod' }] });
    expect(rec.recoveryMs).toBeGreaterThan(0);
  });

  it('an abort request reaches the running executor and the scale-down is reverted', async () => {
    const apps = w.sim.kubeConfig().makeApiClient(AppsV1Api);
    const j = queued(job('q-scale', { type: 'scale-down', params: { replicas: 2 } }, { namespace: 'shop', selector: { matchLabels: { app: 'cart' } }, mode: { type: 'one' } }, { duration: '5m' }));
    await enqueueRun(queues, j);
    await waitFor('running', async () => (await store.get(j.runId))?.state === 'Running', 30_000);
    expect((await apps.readNamespacedDeployment({ namespace: 'shop', name: 'cart' })).spec?.replicas).toBe(2);
    await requestAbort(w.redis, w.prefix, { experiment: 'q-scale', reason: 'stop from the API' });
    const rec = await waitFor('run ended', async () => { const r = await store.get(j.runId); return r?.endedAt ? r : undefined; }, 30_000);
    expect(rec).toMatchObject({ state: 'Aborted', reason: 'aborted: stop from the API' });
    expect((await apps.readNamespacedDeployment({ namespace: 'shop', name: 'cart' })).spec?.replicas).toBe(3);
  });
});
