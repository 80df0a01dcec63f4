import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, EventsV1Api, PatchStrategy, V1MicroTime, setHeaderOptions, type V1Pod,
} from '@kubernetes/client-node';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { statusOf } from '../helpers/wait.js';

let sim: Simulator;
let core: CoreV1Api;
let apps: AppsV1Api;

beforeAll(async () => {
  sim = await startSimulator({ recreateDelayMs: 50, readyDelayMs: 20 });
  const kc = sim.kubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
});
afterAll(async () => {
  await sim.close();
});

async function expectStatus(p: Promise<unknown>, code: number, reason: string): Promise<Record<string, unknown>> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err, `expected ${code} ${reason}`).toBeDefined();
  const { code: got, body } = statusOf(err);
  expect(got).toBe(code);
  expect(body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code });
  return body;
}

describe('shop topology through client-node', () => {
  it('has the agreed namespaces, labels, workloads and pods', async () => {
    const ns = await core.listNamespace({ labelSelector: 'faultline.dev/chaos=enabled' });
    expect(ns.items.map((n) => n.metadata!.name).sort()).toEqual(['kube-system', 'shop']);
    const all = await core.listNamespace();
    expect(all.items.map((n) => n.metadata!.name)).toEqual(expect.arrayContaining(['shop', 'legacy', 'kube-system', 'faultline', 'default']));

    const deps = await apps.listNamespacedDeployment({ namespace: 'shop' });
    const replicas = Object.fromEntries(deps.items.map((d) => [d.metadata!.name, d.status?.readyReplicas]));
    expect(replicas).toEqual({ frontend: 3, checkout: 4, cart: 3, catalog: 2, payments: 2 });
    const sts = await apps.readNamespacedStatefulSet({ namespace: 'shop', name: 'orders-db' });
    expect(sts.status?.readyReplicas).toBe(1);
    const billing = await apps.readNamespacedDeployment({ namespace: 'legacy', name: 'billing' });
    expect(billing.status?.readyReplicas).toBe(2);
    const dns = await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' });
    expect(dns.items).toHaveLength(2);

    const nodes = await core.listNode();
    expect(nodes.items.map((n) => n.metadata!.labels!['kubernetes.io/hostname'])).toEqual(['node-1', 'node-2', 'node-3']);

    const pods = await core.listPodForAllNamespaces();
    expect(pods.items.length).toBe(3 + 4 + 3 + 2 + 2 + 1 + 2 + 2);
    for (const p of pods.items) {
      expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(p.spec?.nodeName).toMatch(/^node-[123]$/);
    }
  });

  it('links Deployment → ReplicaSet → Pods by ownerReferences, pods named <rs>-<5 chars>', async () => {
    const dep = await apps.readNamespacedDeployment({ namespace: 'shop', name: 'checkout' });
    const rss = await apps.listNamespacedReplicaSet({ namespace: 'shop', labelSelector: 'app=checkout' });
    expect(rss.items).toHaveLength(1);
    const rs = rss.items[0]!;
    expect(rs.metadata!.ownerReferences![0]).toMatchObject({ kind: 'Deployment', name: 'checkout', uid: dep.metadata!.uid, controller: true });
    const pods = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' });
    expect(pods.items).toHaveLength(4);
    for (const p of pods.items) {
      expect(p.metadata!.name).toMatch(new RegExp(`^${rs.metadata!.name}-[a-z0-9]{5}$`));
      expect(p.metadata!.ownerReferences![0]).toMatchObject({ kind: 'ReplicaSet', uid: rs.metadata!.uid });
    }
    const db = await core.readNamespacedPod({ namespace: 'shop', name: 'orders-db-0' });
    expect(db.metadata!.ownerReferences![0]).toMatchObject({ kind: 'StatefulSet', name: 'orders-db' });
  });

  it('PDB status is computed from ready pods', async () => {
    const pdb = await (sim.kubeConfig().makeApiClient((await import('@kubernetes/client-node')).PolicyV1Api))
      .readNamespacedPodDisruptionBudget({ namespace: 'shop', name: 'checkout-pdb' });
    expect(pdb.status).toMatchObject({ currentHealthy: 4, desiredHealthy: 3, disruptionsAllowed: 1, expectedPods: 4 });
  });
});

describe('selectors', () => {
  it('label selectors: =, ==, !=, in, notin, exists, !key', async () => {
    const names = async (labelSelector: string): Promise<string[]> =>
      [...new Set((await core.listNamespacedPod({ namespace: 'shop', labelSelector })).items.map((p) => p.metadata!.labels!.app!))].sort();
    expect(await names('app=cart')).toEqual(['cart']);
    expect(await names('app==cart')).toEqual(['cart']);
    expect(await names('app in (cart, catalog)')).toEqual(['cart', 'catalog']);
    expect(await names('app notin (cart,catalog,frontend),app!=checkout')).toEqual(['orders-db', 'payments']);
    expect(await names('statefulset.kubernetes.io/pod-name')).toEqual(['orders-db']);
    expect(await names('!statefulset.kubernetes.io/pod-name,app in (orders-db,payments)')).toEqual(['payments']);
  });

  it('field selectors: metadata.name, metadata.namespace, spec.nodeName, status.phase', async () => {
    const byName = await core.listPodForAllNamespaces({ fieldSelector: 'metadata.name=orders-db-0' });
    expect(byName.items.map((p) => p.metadata!.namespace)).toEqual(['shop']);
    const legacy = await core.listPodForAllNamespaces({ fieldSelector: 'metadata.namespace=legacy,status.phase=Running' });
    expect(legacy.items).toHaveLength(2);
    const onNode1 = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node-1' });
    expect(onNode1.items.length).toBeGreaterThan(0);
    expect(onNode1.items.every((p) => p.spec!.nodeName === 'node-1')).toBe(true);
    const notNode1 = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName!=node-1' });
    expect(onNode1.items.length + notNode1.items.length).toBe(19);
  });

  it('rejects a bad selector with 400', async () => {
    await expectStatus(core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app in (a' }), 400, 'BadRequest');
    await expectStatus(core.listNamespacedPod({ namespace: 'shop', fieldSelector: 'spec.bogus=1' }), 400, 'BadRequest');
  });

  it('list carries the current resourceVersion', async () => {
    const a = await core.listNamespacedPod({ namespace: 'shop' });
    expect(Number(a.metadata!.resourceVersion)).toBe(sim.store.currentResourceVersion());
  });
});

describe('errors with Status bodies', () => {
  it('404 NotFound', async () => {
    const body = await expectStatus(core.readNamespacedPod({ namespace: 'shop', name: 'nope' }), 404, 'NotFound');
    expect(body.message).toBe('pods "nope" not found');
    expect(body.details).toMatchObject({ name: 'nope', kind: 'pods' });
    await expectStatus(apps.readNamespacedDeployment({ namespace: 'shop', name: 'nope' }), 404, 'NotFound');
  });

  it('409 AlreadyExists on create and Conflict on a stale resourceVersion', async () => {
    const dep = await apps.readNamespacedDeployment({ namespace: 'shop', name: 'frontend' });
    const again = { ...dep, metadata: { name: 'frontend', namespace: 'shop', labels: dep.metadata!.labels } };
    await expectStatus(apps.createNamespacedDeployment({ namespace: 'shop', body: again }), 409, 'AlreadyExists');

    const stale = structuredClone(dep);
    dep.metadata!.annotations = { touched: 'yes' };
    const updated = await apps.replaceNamespacedDeployment({ namespace: 'shop', name: 'frontend', body: dep });
    expect(Number(updated.metadata!.resourceVersion)).toBeGreaterThan(Number(stale.metadata!.resourceVersion));
    stale.metadata!.annotations = { touched: 'stale' };
    const body = await expectStatus(apps.replaceNamespacedDeployment({ namespace: 'shop', name: 'frontend', body: stale }), 409, 'Conflict');
    expect(String(body.message)).toContain('the object has been modified');
  });

  it('422 Invalid with causes', async () => {
    const pod: V1Pod = { metadata: { name: 'Bad_Name', namespace: 'shop' }, spec: { containers: [] } };
    const body = await expectStatus(core.createNamespacedPod({ namespace: 'shop', body: pod }), 422, 'Invalid');
    const causes = (body.details as { causes: { field: string }[] }).causes.map((c) => c.field);
    expect(causes).toEqual(expect.arrayContaining(['metadata.name', 'spec.containers']));
    await expectStatus(apps.patchNamespacedDeployment({ namespace: 'shop', name: 'cart', body: [{ op: 'replace', path: '/spec/replicas', value: -1 }] }), 422, 'Invalid');
  });

  it('creating in a missing namespace is 404', async () => {
    const pod: V1Pod = { metadata: { name: 'x' }, spec: { containers: [{ name: 'x', image: 'x' }] } };
    await expectStatus(core.createNamespacedPod({ namespace: 'nowhere', body: pod }), 404, 'NotFound');
  });
});

describe('patches', () => {
  it('json-patch, merge-patch and strategic-merge-patch on a node (cordon)', async () => {
    await core.patchNode({ name: 'node-3', body: [{ op: 'add', path: '/metadata/labels/zone', value: 'a' }] });
    await core.patchNode({ name: 'node-3', body: { spec: { unschedulable: true } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    let n = await core.readNode({ name: 'node-3' });
    expect(n.metadata!.labels!.zone).toBe('a');
    expect(n.spec!.unschedulable).toBe(true);
    await core.patchNode({ name: 'node-3', body: { spec: { unschedulable: null }, metadata: { labels: { zone: null } } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    n = await core.readNode({ name: 'node-3' });
    expect(n.spec!.unschedulable).toBeUndefined();
    expect(n.metadata!.labels!.zone).toBeUndefined();
  });
});

describe('leases', () => {
  it('accepts MicroTime and rejects a plain Date with 400, as a real apiserver does', async () => {
    const coord = sim.kubeConfig().makeApiClient(CoordinationV1Api);
    const t = new V1MicroTime();
    const lease = await coord.createNamespacedLease({ namespace: 'faultline', body: {
      metadata: { name: 'faultline-leader' },
      spec: { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: t, renewTime: t },
    } });
    expect(lease.spec!.holderIdentity).toBe('a');
    const raw = sim.store.get('leases', 'faultline', 'faultline-leader') as { spec: { renewTime: string } };
    expect(raw.spec.renewTime).toMatch(/\.\d{6}Z$/);

    await expectStatus(coord.createNamespacedLease({ namespace: 'faultline', body: {
      metadata: { name: 'plain-date' }, spec: { holderIdentity: 'b', renewTime: new Date() as V1MicroTime },
    } }), 400, 'BadRequest');

    lease.spec!.holderIdentity = 'b';
    lease.spec!.renewTime = new V1MicroTime();
    const next = await coord.replaceNamespacedLease({ namespace: 'faultline', name: 'faultline-leader', body: lease });
    expect(next.spec!.holderIdentity).toBe('b');
    // the first writer still holds the old resourceVersion: it loses
    await expectStatus(coord.replaceNamespacedLease({ namespace: 'faultline', name: 'faultline-leader', body: lease }), 409, 'Conflict');
  });
});

describe('events', () => {
  it('core/v1 and events.k8s.io/v1 Events are stored and selectable by involved object', async () => {
    await core.createNamespacedEvent({ namespace: 'shop', body: {
      metadata: { generateName: 'faultline-' }, involvedObject: { kind: 'Pod', namespace: 'shop', name: 'orders-db-0' },
      reason: 'ChaosInjected', message: 'pod-kill', type: 'Warning', eventTime: new V1MicroTime(), reportingComponent: 'faultline', reportingInstance: 'x', action: 'Inject',
    } });
    const found = await core.listNamespacedEvent({ namespace: 'shop', fieldSelector: 'involvedObject.name=orders-db-0,reason=ChaosInjected' });
    expect(found.items).toHaveLength(1);
    expect(found.items[0]!.metadata!.name).toMatch(/^faultline-[a-z0-9]{5}$/);
    const ev = sim.kubeConfig().makeApiClient(EventsV1Api);
    await ev.createNamespacedEvent({ namespace: 'shop', body: {
      metadata: { name: 'e1' }, eventTime: new V1MicroTime(), reportingController: 'faultline.dev/controller', reportingInstance: 'x',
      action: 'Inject', reason: 'ChaosInjected', regarding: { kind: 'Pod', namespace: 'shop', name: 'orders-db-0' }, type: 'Normal',
    } });
    expect((await ev.listNamespacedEvent({ namespace: 'shop' })).items.map((e) => e.metadata!.name)).toEqual(['e1']);
    await expectStatus(core.createNamespacedEvent({ namespace: 'shop', body: {
      metadata: { name: 'bad-time' }, involvedObject: { name: 'x' }, eventTime: new Date() as V1MicroTime,
    } }), 400, 'BadRequest');
  });
});

describe('Istio VirtualService via CustomObjectsApi', () => {
  it('get, list, patch (merge and json), replace, create, delete in v1beta1 and v1', async () => {
    const co = sim.kubeConfig().makeApiClient(CustomObjectsApi);
    const base = { group: 'networking.istio.io', version: 'v1beta1', namespace: 'shop', plural: 'virtualservices' };
    type VS = { apiVersion: string; metadata: { name: string; resourceVersion: string }; spec: { hosts: string[]; http: Record<string, unknown>[] } };
    const vs = (await co.getNamespacedCustomObject({ ...base, name: 'checkout' })) as VS;
    expect(vs.spec.hosts).toEqual(['checkout']);
    expect(vs.spec.http).toHaveLength(1);

    await co.patchNamespacedCustomObject({ ...base, name: 'checkout', body: [
      { op: 'add', path: '/spec/http/0/fault', value: { abort: { httpStatus: 503, percentage: { value: 50 } } } },
    ] });
    const v1 = (await co.getNamespacedCustomObject({ ...base, version: 'v1', name: 'checkout' })) as VS;
    expect(v1.apiVersion).toBe('networking.istio.io/v1');
    expect(v1.spec.http[0]!.fault).toEqual({ abort: { httpStatus: 503, percentage: { value: 50 } } });

    await co.patchNamespacedCustomObject({ ...base, name: 'checkout', body: { metadata: { annotations: { 'faultline.dev/run': 'r1' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const listed = (await co.listNamespacedCustomObject(base)) as { items: VS[] };
    expect(listed.items.map((i) => i.metadata.name)).toEqual(['checkout']);

    const cur = (await co.getNamespacedCustomObject({ ...base, name: 'checkout' })) as VS;
    delete cur.spec.http[0]!.fault;
    const replaced = (await co.replaceNamespacedCustomObject({ ...base, name: 'checkout', body: cur })) as VS;
    expect(replaced.spec.http[0]!.fault).toBeUndefined();
    await expectStatus(co.replaceNamespacedCustomObject({ ...base, name: 'checkout', body: cur }), 409, 'Conflict');

    await co.createNamespacedCustomObject({ ...base, body: { apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService',
      metadata: { name: 'cart' }, spec: { hosts: ['cart'], http: [{ route: [{ destination: { host: 'cart' } }] }] } } });
    await expectStatus(co.createNamespacedCustomObject({ ...base, body: { apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService',
      metadata: { name: 'cart' }, spec: {} } }), 409, 'AlreadyExists');
    await co.deleteNamespacedCustomObject({ ...base, name: 'cart' });
    await expectStatus(co.getNamespacedCustomObject({ ...base, name: 'cart' }), 404, 'NotFound');
  });
});

describe('discovery', () => {
  it('serves /api, /apis and resource lists', async () => {
    const get = async (path: string): Promise<Record<string, unknown>> => (await fetch(sim.url + path)).json() as Promise<Record<string, unknown>>;
    expect(await get('/api')).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await get('/apis')) as { groups: { name: string }[] };
    expect(groups.groups.map((g) => g.name)).toEqual(expect.arrayContaining(['apps', 'policy', 'coordination.k8s.io', 'networking.istio.io', 'events.k8s.io']));
    const core1 = (await get('/api/v1')) as { resources: { name: string }[] };
    expect(core1.resources.map((r) => r.name)).toEqual(expect.arrayContaining(['pods', 'pods/ephemeralcontainers', 'pods/exec', 'nodes', 'namespaces', 'events']));
    const appsRes = (await get('/apis/apps/v1')) as { resources: { name: string }[] };
    expect(appsRes.resources.map((r) => r.name)).toEqual(expect.arrayContaining(['deployments/scale', 'statefulsets/scale']));
  });
});
