// The ClusterRole and the leader-election Role grant exactly the Kubernetes API calls the code
// makes: a new call without RBAC fails here, and so does a permission nothing uses.
import { describe, expect, it } from 'vitest';
import { clientNodeMethods, compare, grants, key, permissionFor, scanSources, sourceFiles, type ApiCall, type Permission } from './api-calls.js';
import { allManifests } from './manifests.js';

type Obj = Record<string, unknown>;
const manifests = allManifests();
const roleRules = (kind: string) => {
  const docs = manifests.filter((d) => d.obj.kind === kind);
  expect(docs, `one ${kind} in deploy/`).toHaveLength(1);
  return { obj: docs[0]!.obj, rules: docs[0]!.obj.rules as Parameters<typeof grants>[0] };
};
const where = (calls: ApiCall[], p: Permission) => calls.filter((c) => key(c) === key(p)).map((c) => `${c.file}:${c.line} ${c.call}`).join(', ');
const p = (group: string, resource: string, verb: string): Permission => ({ group, resource, verb });

describe('RBAC against the API calls in src/', () => {
  const scan = scanSources(sourceFiles());
  const cluster = roleRules('ClusterRole');
  const role = roleRules('Role');
  const namespace = (manifests.find((d) => d.obj.kind === 'Deployment' && (d.obj.metadata as Obj).name === 'faultline')!.obj.metadata as Obj).namespace;

  it('the scan maps every client-node call it sees', () => {
    expect(scan.problems).toEqual([]);
    // Not vacuous: the pod-kill fault's delete and the resolver's pod informer are found.
    expect(scan.calls.map(key)).toEqual(expect.arrayContaining([key(p('', 'pods', 'delete')), key(p('', 'pods', 'watch'))]));
  });

  it('every call is granted', () => {
    const { granted, problems } = grants([...cluster.rules, ...role.rules]);
    expect(problems).toEqual([]);
    const { missing } = compare(scan.calls, granted);
    expect(missing.map((m) => `${key(m)} (${where(scan.calls, m)})`)).toEqual([]);
  });

  it('nothing is granted that no call uses (watch only next to list)', () => {
    const { unused } = compare(scan.calls, grants([...cluster.rules, ...role.rules]).granted);
    expect(unused.map(key)).toEqual([]);
  });

  it('leases and the kill-switch ConfigMap are only writable in the controller namespace (Role), not cluster-wide', () => {
    expect((role.obj.metadata as Obj).namespace).toBe(namespace);
    const clusterGrants = grants(cluster.rules).granted;
    expect(clusterGrants.filter((g) => g.resource === 'leases' || g.resource === 'configmaps')).toEqual([]);
    expect(grants(role.rules).granted.every((g) => (g.group === 'coordination.k8s.io' && g.resource === 'leases') || (g.group === '' && g.resource === 'configmaps')
      || (g.group === '' && g.resource === 'secrets' && (g.verb === 'list' || g.verb === 'watch')))).toBe(true);
  });

  it('cluster Secrets (several clusters) are listed and watched in the controller namespace only, never read cluster-wide', () => {
    expect(grants(cluster.rules).granted.filter((g) => g.resource === 'secrets')).toEqual([]);
    expect(grants(role.rules).granted.filter((g) => g.resource === 'secrets').map(key).sort()).toEqual(['core secrets list', 'core secrets watch']);
    expect(scan.calls.filter((c) => c.resource === 'secrets').map((c) => c.file)).toEqual(expect.arrayContaining(['src/cluster/registry.ts']));
  });
});

describe('the scanner and the comparison can fail', () => {
  const granted = grants([
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'delete'] },
    { apiGroups: ['networking.istio.io'], resources: ['virtualservices'], verbs: ['get'] },
  ]).granted;
  const scan = (text: string) => scanSources([{ path: 'src/x.ts', text }]);

  it('a new call without RBAC is reported as missing', () => {
    const { calls, problems } = scan(`
      import { CoreV1Api, makeInformer, type KubeConfig } from '@kubernetes/client-node';
      export async function f(kc: KubeConfig) {
        const core = kc.makeApiClient(CoreV1Api);
        await core.deleteNamespacedPod({ namespace: 'a', name: 'b' });
        await core.listNamespacedSecret({ namespace: 'a' });
        await core.patchNamespacedPodEphemeralcontainers({ namespace: 'a', name: 'b', body: {} });
        makeInformer(kc, '/api/v1/configmaps', () => core.listConfigMapForAllNamespaces());
      }`);
    expect(problems).toEqual([]);
    expect(compare(calls, granted).missing.map(key).sort()).toEqual([
      'core configmaps list', 'core configmaps watch', 'core pods/ephemeralcontainers patch', 'core secrets list',
    ]);
    expect(calls.find((c) => c.resource === 'secrets')).toMatchObject({ file: 'src/x.ts', line: 6, call: 'CoreV1Api.listNamespacedSecret' });
  });

  it('a permission nothing uses is reported', () => {
    const { calls } = scan(`
      import { CoreV1Api } from '@kubernetes/client-node';
      const core = kc.makeApiClient(CoreV1Api);
      await core.readNamespacedPod({ namespace: 'a', name: 'b' });`);
    // Only get is used: delete, list, watch (no list needs it) and the VirtualService get are not.
    expect(compare(calls, granted).unused.map(key).sort()).toEqual(['core pods delete', 'core pods list', 'core pods watch', 'networking.istio.io virtualservices get']);
  });

  it('CustomObjects calls take group and plural from literals or a same-file const', () => {
    const { calls, problems } = scan(`
      import { CustomObjectsApi } from '@kubernetes/client-node';
      const VS = { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' } as const;
      const custom = kc.makeApiClient(CustomObjectsApi);
      await custom.getNamespacedCustomObject({ ...VS, namespace: 'a', name: 'b' });
      await custom.patchNamespacedCustomObject({ group: 'chaos.example', version: 'v1', plural: 'things', namespace: 'a', name: 'b', body: {} });
      await custom.deleteNamespacedCustomObject({ group: someVariable, version: 'v1', plural: 'x', namespace: 'a', name: 'b' });`);
    expect(calls.map(key)).toEqual(['networking.istio.io virtualservices get', 'chaos.example things patch']);
    expect(problems).toEqual([expect.stringMatching(/^src\/x\.ts:7: CustomObjectsApi\.deleteNamespacedCustomObject without literal group\/plural/)]);
  });

  it('exec needs create and get on pods/exec; unmapped helpers and computed watch paths are problems', () => {
    expect(scan(`import { Exec } from '@kubernetes/client-node'; new Exec(kc).exec('a', 'b', 'c', ['true'], null, null, null, false);`).calls.map(key))
      .toEqual(['core pods/exec create', 'core pods/exec get']);
    expect(scan(`import { KubernetesObjectApi } from '@kubernetes/client-node'; KubernetesObjectApi.makeApiClient(kc);`).problems[0]).toMatch(/KubernetesObjectApi/);
    expect(scan('import { makeInformer } from \'@kubernetes/client-node\'; makeInformer(kc, `/api/v1/${kind}`, list);').problems.join('\n')).toMatch(/template/);
    expect(scan(`import { Watch } from '@kubernetes/client-node'; new Watch(kc).watch('/api/v1/namespaces/' + ns + '/pods', {}, cb, done);`).problems.join('\n')).toMatch(/concatenation/);
    expect(scan(`import { CoreV1Api } from '@kubernetes/client-node'; const core = kc.makeApiClient(CoreV1Api); await core['deleteCollectionNamespacedPod']({ namespace: 'a' });`).calls.map(key))
      .toEqual(['core pods deletecollection']);
    // Types only: nothing is called.
    expect(scan(`import type { CoreV1Api } from '@kubernetes/client-node'; declare const c: CoreV1Api; c.readNamespacedPod({ namespace: 'a', name: 'b' });`).calls).toEqual([]);
  });

  it('maps request paths to permissions like the API server does', () => {
    expect(permissionFor('/api/v1/namespaces/{namespace}/pods/{name}/ephemeralcontainers', 'PATCH')).toEqual(p('', 'pods/ephemeralcontainers', 'patch'));
    expect(permissionFor('/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale', 'GET')).toEqual(p('apps', 'deployments/scale', 'get'));
    expect(permissionFor('/api/v1/namespaces/{namespace}/pods', 'DELETE')).toEqual(p('', 'pods', 'deletecollection'));
    expect(permissionFor('/api/v1/namespaces/{name}/status', 'PUT')).toEqual(p('', 'namespaces/status', 'update'));
    expect(permissionFor('/api/v1/namespaces', 'GET')).toEqual(p('', 'namespaces', 'list'));
    expect(permissionFor('/api/v1/watch/namespaces/faultline/pods', 'GET')).toEqual(p('', 'pods', 'watch'));
    expect(permissionFor('/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}', 'PUT')).toEqual(p('coordination.k8s.io', 'leases', 'update'));
    expect(permissionFor('/apis/apps/', 'GET')).toBeUndefined(); // discovery
    // The table comes from client-node itself and knows the calls the faults use.
    expect(clientNodeMethods().get('readNamespacedDeploymentScale')).toEqual([{ cls: 'AppsV1Api', path: '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale', method: 'GET' }]);
  });
});
