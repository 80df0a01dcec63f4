// CustomResourceDefinitions in the simulator, as kube-apiserver serves them: the CRD of
// deploy/crds applied with kubectl makes chaosexperiments served (discovery, list/watch, CRUD);
// bodies are pruned, defaulted and validated against the schema; the status subresource
// ignores status on the main endpoint and everything but status on /status.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiextensionsV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, Watch } from '@kubernetes/client-node';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { experimentCrd } from '../../src/crds/index.js';
import { statusOf, waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
let sim: Simulator;
let custom: CustomObjectsApi;
let kubeconfig: string;
const kubectl = (...args: string[]) => run('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: 60_000 });
const G = { group: 'faultline.dev', version: 'v1alpha1', plural: 'chaosexperiments' };
type Obj = Record<string, unknown>;

const experiment = (name: string, spec: Obj = {}) => ({
  apiVersion: 'faultline.dev/v1alpha1', kind: 'ChaosExperiment', metadata: { name },
  spec: { fault: { type: 'pod-kill', params: { gracePeriodSeconds: 0 } }, target: { namespace: 'shop', selector: { matchLabels: { app: 'checkout' } } }, duration: '30s', ...spec },
});

beforeAll(async () => {
  sim = await startSimulator({ recreateDelayMs: 50, readyDelayMs: 20 });
  custom = sim.kubeConfig().makeApiClient(CustomObjectsApi);
  const dir = mkdtempSync(join(tmpdir(), 'fl-crd-'));
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, sim.kubeconfigYaml());
}, 60_000);
afterAll(async () => {
  await sim?.close();
});

describe('a CRD makes its resource served', () => {
  it('before the CRD, the resource does not exist; kubectl apply -f deploy/crds serves it, Established', async () => {
    const before = await custom.listNamespacedCustomObject({ ...G, namespace: 'default' }).catch((e: unknown) => e);
    expect(statusOf(before).code).toBe(404);
    await kubectl('apply', '--validate=false', '-f', 'deploy/crds/chaosexperiments.yaml');
    const ext = sim.kubeConfig().makeApiClient(ApiextensionsV1Api);
    await waitFor('the CRD Established', async () => {
      const crd = await ext.readCustomResourceDefinition({ name: 'chaosexperiments.faultline.dev' });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    }, 10_000);
    const { stdout } = await kubectl('api-resources', '--api-group=faultline.dev', '-o', 'wide');
    expect(stdout).toMatch(/chaosexperiments\s+chaosexp,fexp\s+faultline.dev\/v1alpha1\s+true\s+ChaosExperiment/);
  }, 60_000);

  it('create prunes unknown fields, fills the CRD defaults, drops status; kubectl get shows the printer columns', async () => {
    const body = { ...experiment('checkout-kill'), status: { lastRun: { state: 'Succeeded' } } } as Obj;
    (body.spec as Obj).extra = 'pruned';
    ((body.spec as Obj).target as Obj).bogus = 1;
    const created = (await custom.createNamespacedCustomObject({ ...G, namespace: 'default', body })) as Obj & { spec: Obj; metadata: Obj };
    expect(created.spec.extra).toBeUndefined();
    expect(created.spec.target).toEqual({ namespace: 'shop', selector: { matchLabels: { app: 'checkout' } }, mode: { type: 'one' } });
    expect(created.spec.suspend).toBe(false);
    expect(created.status).toBeUndefined();
    expect(created.metadata.generation).toBe(1);
    const { stdout } = await kubectl('get', 'chaosexperiments', '-n', 'default');
    const [head, row] = stdout.trim().split('\n');
    expect(head!.split(/\s{2,}/)).toEqual(['NAME', 'FAULT', 'TARGET NAMESPACE', 'LAST RUN', 'LAST RUN TIME', 'SCORE', 'AGE']);
    // no run yet: the server sends null cells, kubectl prints them empty
    expect(row).toMatch(/^checkout-kill\s+pod-kill\s+shop\s+\d+s$/);
  }, 60_000);

  it('types, enums and required fields are checked with the API server wording (422)', async () => {
    const bad = experiment('bad', { duration: 30, suspend: 'no' }) as Obj;
    ((bad.spec as Obj).fault as Obj).type = 'pod-explode';
    delete (bad.spec as Obj).target;
    const err = await custom.createNamespacedCustomObject({ ...G, namespace: 'default', body: bad }).catch((e: unknown) => e);
    const { code, body } = statusOf(err);
    expect(code).toBe(422);
    expect(body).toMatchObject({ reason: 'Invalid' });
    const causes = ((body.details as Obj).causes as { field: string; message: string }[]).map((c) => `${c.field}: ${c.message}`);
    expect(causes).toEqual(expect.arrayContaining([
      'spec.target: Required value',
      'spec.duration: Invalid value: "integer": spec.duration in body must be of type string: "integer"',
      'spec.suspend: Invalid value: "string": spec.suspend in body must be of type boolean: "string"',
      expect.stringMatching(/^spec\.fault\.type: Unsupported value: "pod-explode": supported values: "pod-kill", "container-kill"/) as string,
    ]));
    expect(String(body.message)).toMatch(/^ChaosExperiment\.faultline\.dev "bad" is invalid: /);
  });

  it('the main endpoint ignores status; /status changes only status; generation follows the spec', async () => {
    const cur = (await custom.getNamespacedCustomObject({ ...G, namespace: 'default', name: 'checkout-kill' })) as Obj & { spec: Obj; metadata: Obj };
    const put = (await custom.replaceNamespacedCustomObject({ ...G, namespace: 'default', name: 'checkout-kill', body: { ...cur, spec: { ...cur.spec, duration: '1m' }, status: { score: 5 } } })) as Obj & { spec: Obj; metadata: Obj };
    expect(put.spec.duration).toBe('1m');
    expect(put.status).toBeUndefined();
    expect(put.metadata.generation).toBe(2);
    const st = (await custom.patchNamespacedCustomObjectStatus({ ...G, namespace: 'default', name: 'checkout-kill', body: { spec: { duration: '9m' }, status: { lastRun: { state: 'Running', id: 'r1' }, score: 0.5 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch))) as Obj & { spec: Obj; metadata: Obj };
    expect(st.spec.duration).toBe('1m');
    expect(st.status).toEqual({ lastRun: { state: 'Running', id: 'r1' }, score: 0.5 });
    expect(st.metadata.generation).toBe(2);
    // the status is validated too, and its unknown fields pruned
    const bad = await custom.patchNamespacedCustomObjectStatus({ ...G, namespace: 'default', name: 'checkout-kill', body: { status: { score: 'high' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)).catch((e: unknown) => e);
    expect(statusOf(bad).code).toBe(422);
    const { stdout } = await kubectl('get', 'chaosexp', 'checkout-kill', '-n', 'default', '--no-headers');
    expect(stdout).toMatch(/^checkout-kill\s+pod-kill\s+shop\s+Running\s+0\.5\s+\d+s\s*$/);
  }, 60_000);

  it('watch sees the custom objects; deleting the CRD removes them and stops serving', async () => {
    const events: string[] = [];
    const w = await new Watch(sim.kubeConfig()).watch('/apis/faultline.dev/v1alpha1/chaosexperiments', {}, (type, o: { metadata: { name: string } }) => events.push(`${type} ${o.metadata.name}`), () => undefined);
    await custom.createNamespacedCustomObject({ ...G, namespace: 'shop', body: experiment('second') });
    await waitFor('ADDED second', () => events.includes('ADDED second'), 10_000);
    await custom.deleteNamespacedCustomObject({ ...G, namespace: 'shop', name: 'second' });
    await waitFor('DELETED second', () => events.includes('DELETED second'), 10_000);
    await kubectl('delete', '-f', 'deploy/crds/chaosexperiments.yaml', '--wait=false');
    await waitFor('the CRD deletion removes its objects', () => events.includes('DELETED checkout-kill'), 10_000);
    w.abort();
    await waitFor('no longer served', async () => statusOf(await custom.listNamespacedCustomObject({ ...G, namespace: 'default' }).catch((e: unknown) => e)).code === 404, 10_000);
  }, 60_000);

  it('a CRD whose schema is not structural is refused, as apiextensions does', async () => {
    const crd = experimentCrd() as Obj & { spec: { versions: { schema: { openAPIV3Schema: Obj } }[] } };
    crd.metadata = { name: 'chaosexperiments.faultline.dev' };
    ((crd.spec.versions[0]!.schema.openAPIV3Schema.properties as Obj).spec as Obj).type = undefined;
    delete ((crd.spec.versions[0]!.schema.openAPIV3Schema.properties as Obj).spec as Obj).type;
    const err = await sim.kubeConfig().makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: crd as never }).catch((e: unknown) => e);
    expect(statusOf(err).code).toBe(422);
    expect(String(statusOf(err).body.message)).toContain('spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value');
  });
});
