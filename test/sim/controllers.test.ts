import { afterEach, describe, expect, it } from 'vitest';
import {
  AppsV1Api, CoreV1Api, PatchStrategy, PolicyV1Api, setHeaderOptions, type V1Pod,
} from '@kubernetes/client-node';
import { isPodReady, startSimulator, type KObject, type Simulator } from '../../src/sim/index.js';
import { statusOf, waitFor } from '../helpers/wait.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(opts: Parameters<typeof startSimulator>[0] = {}): Promise<{ core: CoreV1Api; apps: AppsV1Api; s: Simulator }> {
  sim = await startSimulator({ recreateDelayMs: 100, readyDelayMs: 20, ...opts });
  const kc = sim.kubeConfig();
  return { core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), s: sim };
}

const ready = (p: V1Pod): boolean => !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && p.status?.phase === 'Running';

describe('ReplicaSet and StatefulSet controllers', () => {
  it('a deleted pod is replaced after the delay and becomes Ready; status counts follow', async () => {
    const { core, apps } = await start();
    const before = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' });
    const victim = before.items[0]!.metadata!.name!;
    await core.deleteNamespacedPod({ namespace: 'shop', name: victim, gracePeriodSeconds: 0 });
    const gone = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' });
    expect(gone.items.map((p) => p.metadata!.name)).not.toContain(victim);

    const after = await waitFor('replacement Ready', async () => {
      const l = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' });
      return l.items.length === 4 && l.items.every(ready) ? l : undefined;
    });
    const fresh = after.items.filter((p) => !before.items.some((b) => b.metadata!.name === p.metadata!.name));
    expect(fresh).toHaveLength(1);
    expect(fresh[0]!.spec!.nodeName).toMatch(/^node-/);
    expect(fresh[0]!.status!.containerStatuses![0]).toMatchObject({ ready: true, restartCount: 0 });
    await waitFor('deployment ready 4', async () => (await apps.readNamespacedDeployment({ namespace: 'shop', name: 'checkout' })).status?.readyReplicas === 4);
  });

  it('graceful deletion keeps the pod Terminating until the grace ends; the ReplicaSet replaces it meanwhile', async () => {
    const { core } = await start();
    const pods = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=cart' });
    const victim = pods.items[0]!.metadata!.name!;
    const res = await core.deleteNamespacedPod({ namespace: 'shop', name: victim, gracePeriodSeconds: 1 });
    expect(res.metadata?.deletionTimestamp).toBeDefined();
    const terminating = await core.readNamespacedPod({ namespace: 'shop', name: victim });
    expect(terminating.metadata!.deletionGracePeriodSeconds).toBe(1);
    await waitFor('replacement while terminating', async () => {
      const l = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=cart' });
      return l.items.filter((p) => !p.metadata!.deletionTimestamp && ready(p)).length === 3;
    });
    await waitFor('terminated pod gone', async () => !(await core.listNamespacedPod({ namespace: 'shop', fieldSelector: `metadata.name=${victim}` })).items.length);
  });

  it('an unbound pod is deleted at once even with a grace period', async () => {
    const { core } = await start({ topology: { nodes: [], namespaces: [{ name: 'x' }] } });
    await core.createNamespacedPod({ namespace: 'x', body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i' }] } } });
    const p = await core.readNamespacedPod({ namespace: 'x', name: 'p' });
    expect(p.spec!.nodeName).toBeUndefined();
    expect(p.status!.conditions!.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable' });
    await core.deleteNamespacedPod({ namespace: 'x', name: 'p', gracePeriodSeconds: 30 });
    expect((await core.listNamespacedPod({ namespace: 'x' })).items).toHaveLength(0);
  });

  it('scales Deployments via /scale and spec.replicas, StatefulSets via /scale', async () => {
    const { core, apps } = await start();
    const scale = await apps.readNamespacedDeploymentScale({ namespace: 'shop', name: 'frontend' });
    expect(scale).toMatchObject({ kind: 'Scale', spec: { replicas: 3 }, status: { replicas: 3, selector: 'app=frontend' } });
    await apps.patchNamespacedDeploymentScale({ namespace: 'shop', name: 'frontend', body: { spec: { replicas: 1 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await waitFor('frontend at 1', async () => {
      const l = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=frontend' });
      return l.items.filter((p) => !p.metadata!.deletionTimestamp).length === 1;
    });
    await waitFor('status 1', async () => (await apps.readNamespacedDeployment({ namespace: 'shop', name: 'frontend' })).status?.replicas === 1);

    const cur = await apps.readNamespacedDeploymentScale({ namespace: 'shop', name: 'frontend' });
    cur.spec = { replicas: 5 };
    await apps.replaceNamespacedDeploymentScale({ namespace: 'shop', name: 'frontend', body: cur });
    // the same (now stale) Scale again is a conflict
    const err = await apps.replaceNamespacedDeploymentScale({ namespace: 'shop', name: 'frontend', body: cur }).catch((e: unknown) => e);
    expect(statusOf(err).code).toBe(409);
    await waitFor('frontend 5 ready', async () => {
      const d = await apps.readNamespacedDeployment({ namespace: 'shop', name: 'frontend' });
      return d.status?.readyReplicas === 5 && d.status.availableReplicas === 5;
    });

    await apps.patchNamespacedDeployment({ namespace: 'shop', name: 'catalog', body: [{ op: 'replace', path: '/spec/replicas', value: 0 }] });
    // scale-down deletes gracefully (30 s in the template): the pods turn Terminating at once
    await waitFor('catalog 0', async () => (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=catalog' })).items.every((p) => p.metadata!.deletionTimestamp));

    await apps.patchNamespacedStatefulSetScale({ namespace: 'shop', name: 'orders-db', body: [{ op: 'replace', path: '/spec/replicas', value: 3 }] });
    const sts = await waitFor('orders-db 3', async () => {
      const l = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=orders-db' });
      return l.items.length === 3 && l.items.every(ready) ? l : undefined;
    });
    expect(sts.items.map((p) => p.metadata!.name)).toEqual(['orders-db-0', 'orders-db-1', 'orders-db-2']);
    await waitFor('sts status', async () => (await apps.readNamespacedStatefulSet({ namespace: 'shop', name: 'orders-db' })).status?.readyReplicas === 3);
  });

  it('a deleted StatefulSet pod comes back with the same name', async () => {
    const { core } = await start();
    const old = await core.readNamespacedPod({ namespace: 'shop', name: 'orders-db-0' });
    await core.deleteNamespacedPod({ namespace: 'shop', name: 'orders-db-0', gracePeriodSeconds: 0 });
    const back = await waitFor('orders-db-0 back', async () => {
      const p = await core.readNamespacedPod({ namespace: 'shop', name: 'orders-db-0' });
      return p.metadata!.uid !== old.metadata!.uid && ready(p) ? p : undefined;
    });
    expect(back.metadata!.labels!['statefulset.kubernetes.io/pod-name']).toBe('orders-db-0');
  });
});

describe('scheduler', () => {
  it('never places a new pod on a cordoned node, and leaves it Pending when all are cordoned', async () => {
    const { core, apps } = await start();
    for (const n of ['node-1', 'node-2']) {
      await core.patchNode({ name: n, body: { spec: { unschedulable: true } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    }
    const before = new Set((await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=cart' })).items.map((p) => p.metadata!.name!));
    await apps.patchNamespacedDeployment({ namespace: 'shop', name: 'cart', body: [{ op: 'replace', path: '/spec/replicas', value: 6 }] });
    const placed = await waitFor('cart 6 ready', async () => {
      const l = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=cart' });
      return l.items.length === 6 && l.items.every(ready) ? l : undefined;
    });
    const fresh = placed.items.filter((p) => !before.has(p.metadata!.name!));
    expect(fresh).toHaveLength(3);
    for (const p of fresh) expect(p.spec!.nodeName).toBe('node-3');

    await core.patchNode({ name: 'node-3', body: [{ op: 'add', path: '/spec/unschedulable', value: true }] });
    await apps.patchNamespacedDeployment({ namespace: 'shop', name: 'cart', body: [{ op: 'replace', path: '/spec/replicas', value: 7 }] });
    // As on a real cluster, the ReplicaSet creates the pod before the scheduler has looked at it:
    // wait for the scheduler's verdict, not only for the pod.
    const pending = await waitFor('a pending cart pod the scheduler has judged', async () => {
      const l = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=cart', fieldSelector: 'spec.nodeName=' });
      return l.items.length === 1 && l.items[0]!.status?.conditions?.some((c) => c.type === 'PodScheduled') ? l.items[0] : undefined;
    });
    expect(pending.status!.phase).toBe('Pending');
    expect(pending.status!.conditions!.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable' });

    await core.patchNode({ name: 'node-1', body: { spec: { unschedulable: false } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const bound = await waitFor('pending pod scheduled after uncordon', async () => {
      const p = await core.readNamespacedPod({ namespace: 'shop', name: pending.metadata!.name! });
      return ready(p) ? p : undefined;
    });
    expect(bound.spec!.nodeName).toBe('node-1');
  });
});

describe('PodDisruptionBudget status', () => {
  it('follows pod readiness', async () => {
    const { core, s } = await start({ recreateDelayMs: 60_000 });
    const policy = s.kubeConfig().makeApiClient(PolicyV1Api);
    const pods = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' });
    s.store.setPodReady('shop', pods.items[0]!.metadata!.name!, false);
    const pdb = await waitFor('pdb at 3 healthy', async () => {
      const p = await policy.readNamespacedPodDisruptionBudget({ namespace: 'shop', name: 'checkout-pdb' });
      return p.status?.currentHealthy === 3 ? p : undefined;
    });
    expect(pdb.status).toMatchObject({ desiredHealthy: 3, disruptionsAllowed: 0, expectedPods: 4 });
    expect(pdb.status!.conditions!.find((c) => c.type === 'DisruptionAllowed')!.status).toBe('False');
    expect(isPodReady(s.store.get<KObject>('pods', 'shop', pods.items[0]!.metadata!.name!)!)).toBe(false);
  });
});

describe('ephemeral containers', () => {
  it('added by a strategic-merge patch of pods/ephemeralcontainers, reported running, and never removable', async () => {
    const { core } = await start();
    const name = (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=payments' })).items[0]!.metadata!.name!;
    await core.patchNamespacedPodEphemeralcontainers({ namespace: 'shop', name, body: { spec: { ephemeralContainers: [
      { name: 'faultline-net', image: 'injector:1', command: ['sh', '-c', 'tc qdisc add; sleep 3600'], securityContext: { capabilities: { add: ['NET_ADMIN'] } } },
    ] } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    const p = await waitFor('ephemeral running', async () => {
      const pod = await core.readNamespacedPodEphemeralcontainers({ namespace: 'shop', name });
      return pod.status?.ephemeralContainerStatuses?.[0]?.state?.running ? pod : undefined;
    });
    expect(p.spec!.ephemeralContainers!.map((c) => c.name)).toEqual(['faultline-net']);
    expect(p.spec!.containers).toHaveLength(1);

    // a second one merges by name next to the first
    await core.patchNamespacedPodEphemeralcontainers({ namespace: 'shop', name, body: { spec: { ephemeralContainers: [
      { name: 'faultline-cpu', image: 'injector:1', command: ['stress-ng', '--cpu', '1', '--timeout', '1s'] },
    ] } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    const two = await core.readNamespacedPod({ namespace: 'shop', name });
    expect(two.spec!.ephemeralContainers!.map((c) => c.name)).toEqual(['faultline-net', 'faultline-cpu']);

    const err = await core.patchNamespacedPodEphemeralcontainers({ namespace: 'shop', name, body: [{ op: 'remove', path: '/spec/ephemeralContainers/0' }] })
      .catch((e: unknown) => e);
    expect(statusOf(err)).toMatchObject({ code: 422, body: { reason: 'Invalid' } });
  });

  it('an ephemeral container whose command sleeps N seconds terminates on its own', async () => {
    const { core } = await start();
    await core.patchNamespacedPodEphemeralcontainers({ namespace: 'shop', name: 'orders-db-0', body: [
      { op: 'add', path: '/spec/ephemeralContainers', value: [{ name: 'fx', image: 'injector:1', command: ['sh', '-c', 'trap cleanup EXIT; sleep 1'] }] },
    ] });
    const st = await waitFor('terminated', async () => {
      const p = await core.readNamespacedPod({ namespace: 'shop', name: 'orders-db-0' });
      return p.status?.ephemeralContainerStatuses?.[0]?.state?.terminated;
    });
    expect(st.exitCode).toBe(0);
  });
});

describe('namespaces', () => {
  it('a deleted namespace stays Terminating until its pods are gone, and refuses new content', async () => {
    const { core, apps } = await start();
    await core.createNamespace({ body: { metadata: { name: 'tmp' } } });
    await apps.createNamespacedDeployment({ namespace: 'tmp', body: {
      metadata: { name: 'web' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } },
        spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'web', image: 'web:1' }] } } },
    } });
    await waitFor('web ready', async () => (await core.listNamespacedPod({ namespace: 'tmp' })).items.filter(ready).length === 2);

    await core.deleteNamespace({ name: 'tmp' });
    const ns = await core.readNamespace({ name: 'tmp' });
    expect(ns.status!.phase).toBe('Terminating');
    expect(ns.metadata!.deletionTimestamp).toBeDefined();
    const err = await core.createNamespacedPod({ namespace: 'tmp', body: { metadata: { name: 'late' }, spec: { containers: [{ name: 'c', image: 'i' }] } } })
      .catch((e: unknown) => e);
    expect(statusOf(err)).toMatchObject({ code: 403, body: { reason: 'Forbidden' } });
    // pods are terminating with their grace period, the namespace waits for them
    const stillThere = await core.listNamespacedPod({ namespace: 'tmp' });
    expect(stillThere.items.length).toBeGreaterThan(0);
    expect(stillThere.items.every((p) => p.metadata!.deletionTimestamp)).toBe(true);
    expect((await core.readNamespace({ name: 'tmp' })).status!.phase).toBe('Terminating');

    await waitFor('namespace gone', async () => !(await core.listNamespace()).items.some((n) => n.metadata!.name === 'tmp'));
    expect(sim!.store.list('pods', { namespace: 'tmp' })).toHaveLength(0);
    expect(sim!.store.list('replicasets', { namespace: 'tmp' })).toHaveLength(0);
  });

  it('deleting a Deployment cascades to its ReplicaSet and pods', async () => {
    const { core, apps } = await start();
    await apps.deleteNamespacedDeployment({ namespace: 'legacy', name: 'billing' });
    await waitFor('billing pods gone', async () => (await core.listNamespacedPod({ namespace: 'legacy' })).items.every((p) => p.metadata!.deletionTimestamp));
    expect((await apps.listNamespacedReplicaSet({ namespace: 'legacy' })).items).toHaveLength(0);
  });
});
