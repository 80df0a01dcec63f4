// The Eviction API in the simulator, through client-node, as the real API server answers it
// (pkg/registry/core/pod/storage/eviction.go): the server itself spends the PodDisruptionBudget,
// so a second eviction cannot take a disruption the first one already took; a spent budget is a
// 429 TooManyRequests with a DisruptionBudget cause; the pod stays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, PolicyV1Api, type V1Eviction, type V1Pod } from '@kubernetes/client-node';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { statusOf, waitFor } from '../helpers/wait.js';

let sim: Simulator;
let core: CoreV1Api;
let policy: PolicyV1Api;

beforeAll(async () => {
  sim = await startSimulator({ recreateDelayMs: 50, readyDelayMs: 20 });
  const kc = sim.kubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  policy = kc.makeApiClient(PolicyV1Api);
});
afterAll(async () => {
  await sim.close();
});

const eviction = (pod: V1Pod, extra: Partial<V1Eviction> = {}): V1Eviction => ({
  apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata!.name, namespace: pod.metadata!.namespace },
  deleteOptions: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata!.uid } }, ...extra,
});
const evict = (pod: V1Pod, extra: Partial<V1Eviction> = {}) =>
  core.createNamespacedPodEviction({ namespace: pod.metadata!.namespace!, name: pod.metadata!.name!, body: eviction(pod, extra) });
const pods = async (app: string) => (await core.listNamespacedPod({ namespace: 'shop', labelSelector: `app=${app}` })).items.filter((p) => !p.metadata!.deletionTimestamp);
const pdbStatus = async (name: string) => (await policy.readNamespacedPodDisruptionBudget({ namespace: 'shop', name })).status!;
const refusal = async (p: Promise<unknown>) => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err, 'the eviction was refused').toBeDefined();
  return statusOf(err);
};

describe('POST pods/<name>/eviction', () => {
  it('spends the budget server-side: one of two back-to-back evictions goes, the other is a 429 with the DisruptionBudget cause', async () => {
    // checkout: 4 ready, checkout-pdb minAvailable 3 → one disruption allowed.
    await waitFor('checkout-pdb allows one', async () => (await pdbStatus('checkout-pdb')).disruptionsAllowed === 1);
    const [a, b] = await pods('checkout');
    // Sent together: the server takes the one disruption for whichever comes first.
    const results = await Promise.allSettled([evict(a!), evict(b!)]);
    const ok = results.findIndex((r) => r.status === 'fulfilled');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const [gone, kept] = ok === 0 ? [a!, b!] : [b!, a!];
    const { code, body } = statusOf((results[1 - ok] as PromiseRejectedResult).reason);
    expect(code).toBe(429);
    expect(body).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 429, reason: 'TooManyRequests',
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: { causes: [{ reason: 'DisruptionBudget', message: expect.stringMatching(/^The disruption budget checkout-pdb needs 3 healthy pods and has [34] currently$/) }] },
    });
    // The refused pod is still there and running; the evicted one is gone.
    expect((await core.readNamespacedPod({ namespace: 'shop', name: kept.metadata!.name! })).metadata!.deletionTimestamp).toBeUndefined();
    await expect(core.readNamespacedPod({ namespace: 'shop', name: gone.metadata!.name! })).rejects.toMatchObject({ code: 404 });
    // Once the replacement is ready the budget has room again.
    await waitFor('checkout-pdb allows one again', async () => (await pdbStatus('checkout-pdb')).disruptionsAllowed === 1);
    await evict(kept);
  });

  it('a pod without a budget is evicted; dry run changes nothing; a wrong uid is a 409', async () => {
    const [cart] = await pods('cart');
    await evict(cart!, { deleteOptions: { dryRun: ['All'] } });
    expect((await core.readNamespacedPod({ namespace: 'shop', name: cart!.metadata!.name! })).metadata!.uid).toBe(cart!.metadata!.uid);
    const { code } = await refusal(evict(cart!, { deleteOptions: { preconditions: { uid: 'not-this-one' } } }));
    expect(code).toBe(409);
    await evict(cart!);
    await expect(core.readNamespacedPod({ namespace: 'shop', name: cart!.metadata!.name! })).rejects.toMatchObject({ code: 404 });
  });

  it('a budget the PDB controller has not processed yet refuses; two budgets on one pod are a 500', async () => {
    await waitFor('checkout-pdb allows one', async () => (await policy.readNamespacedPodDisruptionBudget({ namespace: 'shop', name: 'checkout-pdb' })).status?.disruptionsAllowed === 1);
    await policy.createNamespacedPodDisruptionBudget({
      namespace: 'shop', body: { metadata: { name: 'checkout-extra' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'checkout' } } } },
    });
    const [pod] = await pods('checkout');
    const { code, body } = await refusal(evict(pod!));
    expect(code).toBe(500);
    expect(body.message).toBe('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    await policy.deleteNamespacedPodDisruptionBudget({ namespace: 'shop', name: 'checkout-extra' });
    // The body names the pod: a different name than the URL's is refused.
    const [other] = await pods('frontend');
    const wrong = await refusal(core.createNamespacedPodEviction({ namespace: 'shop', name: pod!.metadata!.name!, body: eviction(other!) }));
    expect(wrong.code).toBe(400);
  });

  it('a minAvailable budget with every pod needed refuses at once', async () => {
    await policy.createNamespacedPodDisruptionBudget({
      namespace: 'shop', body: { metadata: { name: 'payments-all' }, spec: { minAvailable: '100%', selector: { matchLabels: { app: 'payments' } } } },
    });
    await waitFor('payments-all processed', async () => (await pdbStatus('payments-all')).expectedPods === 2);
    const [pod] = await pods('payments');
    const { code, body } = await refusal(evict(pod!));
    expect(code).toBe(429);
    expect((body.details as { causes: { message: string }[] }).causes[0]!.message).toBe('The disruption budget payments-all needs 2 healthy pods and has 2 currently');
    await policy.deleteNamespacedPodDisruptionBudget({ namespace: 'shop', name: 'payments-all' });
  });
});
