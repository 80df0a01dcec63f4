// ChaosExperiment resources as a second source, through kubectl against the simulator with the
// CRDs of deploy/crds: an applied resource runs (real executor, real fault) and its status
// subresource shows the run; deleting a resource mid-run reverts the fault; a name in both Git
// and the cluster is refused naming both places; the admission webhook (HTTPS, caBundle checked
// by the simulator) refuses an invalid resource with the messages `faultline validate` prints.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { Controller } from '../../src/controller/index.js';
import { loadExperimentFiles } from '../../src/experiments/index.js';
import type { KObject } from '../../src/sim/types.js';
import { reconciled, runsOf, startIn, startWorld, waitFor, type World } from './harness.js';

const run = promisify(execFile);
let world: World | undefined;
const controllers: Controller[] = [];

afterEach(async () => {
  for (const c of controllers.splice(0)) await c.close();
  await world?.close();
  world = undefined;
}, 120_000);

async function kubectl(w: World, args: string[], input?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  const kubeconfig = await w.kubeconfigFile();
  return new Promise((resolve) => {
    // the simulator serves no /openapi documents: client-side validation off, the server validates
    const all = args[0] === 'apply' ? ['apply', '--validate=false', ...args.slice(1)] : args;
    const child = execFile('kubectl', ['--kubeconfig', kubeconfig, ...all], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

async function withCrds(w: World): Promise<void> {
  const r = await kubectl(w, ['apply', '-f', 'deploy/crds/chaosexperiments.yaml', '-f', 'deploy/crds/chaosworkflows.yaml']);
  expect(r.code, r.stderr).toBe(0);
}

const resource = (name: string, spec: string[]) => [
  'apiVersion: faultline.dev/v1alpha1', 'kind: ChaosExperiment', `metadata: { name: ${name}, namespace: shop }`, 'spec:', ...spec.map((l) => `  ${l}`), '',
].join('\n');

const statusOf = (w: World, name: string) => (w.sim.store.get<KObject>('faultline.dev/chaosexperiments', 'shop', name)?.status ?? {}) as {
  lastRun?: { state?: string; id?: string; outcome?: string; targets?: number }; conditions?: { type: string; status: string; reason: string; message: string }[]; specHash?: string;
};
const condition = (w: World, name: string, type: string) => statusOf(w, name).conditions?.find((c) => c.type === type);

describe('ChaosExperiment resources', () => {
  it('an applied resource runs like a file: the pod is killed and the status subresource shows the run', async () => {
    world = await startWorld();
    const w = world;
    await withCrds(w);
    const controller = await startIn(w, { env: { FAULTLINE_CUSTOM_RESOURCES: 'true' } });
    controllers.push(controller);
    await reconciled(w, await w.work.git('rev-parse', 'HEAD'));
    const killedBefore = w.podDeletions.get('cart') ?? 0;
    const applied = await kubectl(w, ['apply', '-f', '-'], resource('cart-kill', [
      'fault: { type: pod-kill, params: { gracePeriodSeconds: 0 } }',
      'target: { namespace: shop, selector: { matchLabels: { app: cart } } }',
      'duration: 1s',
    ]));
    expect(applied.code, applied.stderr).toBe(0);
    const done = await waitFor(async () => {
      const r = (await runsOf(controller, 'cart-kill'))[0];
      return r?.outcome ? r : undefined;
    }, 'the resource run ended', 90_000);
    expect(done.state).toBe('Succeeded');
    expect(done.file).toBe('k8s:shop/chaosexperiments/cart-kill');
    expect(w.podDeletions.get('cart') ?? 0).toBe(killedBefore + 1);
    // the status subresource, as kubectl shows it
    await waitFor(() => statusOf(w, 'cart-kill').lastRun?.state === 'Succeeded', 'lastRun in the status', 30_000);
    const st = statusOf(w, 'cart-kill');
    expect(st.lastRun).toMatchObject({ id: done.id, state: 'Succeeded', outcome: 'succeeded', targets: 1 });
    expect(st.specHash).toBe(done.specHash);
    expect(condition(w, 'cart-kill', 'Accepted')).toMatchObject({ status: 'True', reason: 'Valid' });
    expect(condition(w, 'cart-kill', 'Succeeded')).toMatchObject({ status: 'True' });
    expect(condition(w, 'cart-kill', 'Running')).toMatchObject({ status: 'False', reason: 'RunEnded' });
    const get = await kubectl(w, ['get', 'chaosexperiments', '-n', 'shop', '--no-headers']);
    // the resilience score of the run (README "Resilience score") in the SCORE column
    const score = (w.sim.store.get<KObject>('faultline.dev/chaosexperiments', 'shop', 'cart-kill')!.status as { score?: number }).score;
    expect(score).toBeTypeOf('number');
    expect(score).toBeGreaterThan(0);
    expect(get.stdout).toMatch(new RegExp(`^cart-kill\\s+pod-kill\\s+shop\\s+Succeeded\\s+\\d+s\\s+${String(score).replace('.', '\\.')}\\s+\\d+s\\s*$`, 'm'));
    // the same spec from Git would hash the same: a resource is a file of its own
    const jsonPath = await kubectl(w, ['get', 'chaosexperiment', 'cart-kill', '-n', 'shop', '-o', 'jsonpath={.status.lastRun.state}']);
    expect(jsonPath.stdout).toBe('Succeeded');
  }, 180_000);

  it('deleting a resource mid-run aborts the run and reverts the fault (replicas restored)', async () => {
    world = await startWorld();
    const w = world;
    await withCrds(w);
    const controller = await startIn(w, { env: { FAULTLINE_CUSTOM_RESOURCES: 'true', FAULTLINE_MAX_BLAST_RADIUS_PERCENT: '100' } });
    controllers.push(controller);
    await reconciled(w, await w.work.git('rev-parse', 'HEAD'));
    const replicas = () => (w.sim.store.get<KObject>('apps/deployments', 'shop', 'catalog')!.spec as { replicas: number }).replicas;
    const before = replicas();
    expect(before).toBe(2);
    expect((await kubectl(w, ['apply', '-f', '-'], resource('catalog-down', [
      'fault: { type: scale-down, params: { replicas: 0 } }',
      'target: { namespace: shop, selector: { matchLabels: { app: catalog } }, mode: { type: all } }',
      'duration: 10m', 'safety: { maxBlastRadiusPercent: 100 }',
    ]))).code).toBe(0);
    await waitFor(async () => (await runsOf(controller, 'catalog-down'))[0]?.state === 'Running', 'the run is Running', 90_000);
    expect(replicas()).toBe(0);
    await waitFor(() => statusOf(w, 'catalog-down').lastRun?.state === 'Running', 'Running in the status', 30_000);
    expect(condition(w, 'catalog-down', 'Running')).toMatchObject({ status: 'True' });

    const del = await kubectl(w, ['delete', 'chaosexperiment', 'catalog-down', '-n', 'shop']);
    expect(del.code, del.stderr).toBe(0);
    const ended = await waitFor(async () => {
      const r = (await runsOf(controller, 'catalog-down'))[0];
      return r?.outcome ? r : undefined;
    }, 'the run ended', 90_000);
    expect(ended.state).toBe('Aborted');
    expect(ended.reason).toMatch(/its resource shop\/chaosexperiments\/catalog-down was deleted from the cluster/);
    await waitFor(() => replicas() === before, 'replicas restored', 30_000);
  }, 180_000);

  it('a name defined in Git and in the cluster is an error naming both places; the Git one is not run twice', async () => {
    world = await startWorld({ seed: { 'experiments/dup.yaml': [
      'apiVersion: faultline.dev/v1alpha1', 'kind: ChaosExperiment', 'metadata: { name: dup }', 'spec:',
      '  fault: { type: pod-kill }', '  target: { namespace: shop, selector: { matchLabels: { app: cart } } }', '  duration: 1s', '  suspend: true', '',
    ].join('\n') } });
    const w = world;
    await withCrds(w);
    const controller = await startIn(w, { env: { FAULTLINE_CUSTOM_RESOURCES: 'true' } });
    controllers.push(controller);
    await reconciled(w, await w.work.git('rev-parse', 'HEAD'));
    expect((await kubectl(w, ['apply', '-f', '-'], resource('dup', [
      'fault: { type: pod-kill }', 'target: { namespace: shop, selector: { matchLabels: { app: cart } } }', 'duration: 1s',
    ]))).code).toBe(0);
    const c = await waitFor(() => condition(w, 'dup', 'Accepted')?.status === 'False' ? condition(w, 'dup', 'Accepted') : undefined, 'the clash in the status', 60_000);
    expect(c.reason).toBe('DuplicateName');
    expect(c.message).toContain('experiments/dup.yaml');
    expect(c.message).toContain('k8s:shop/chaosexperiments/dup');
    expect(await runsOf(controller, 'dup')).toEqual([]);
  }, 180_000);
});

describe('ChaosExperiment resources across a restart', () => {
  it('a ChaosWorkflow resource runs with its status; a restarted controller waits for the resources before reconciling: no abort, no second run; the hash is the file\'s', async () => {
    world = await startWorld();
    const w = world;
    await withCrds(w);
    const env = { FAULTLINE_CUSTOM_RESOURCES: 'true' };
    const first = await startIn(w, { env, identity: 'first' });
    controllers.push(first);
    const seed = await w.work.git('rev-parse', 'HEAD');
    await reconciled(w, seed);
    const spec = ['fault: { type: pod-kill }', 'target: { namespace: shop, selector: { matchLabels: { app: cart } } }', 'duration: 1s'];
    expect((await kubectl(w, ['apply', '-f', '-'], resource('once', spec))).code).toBe(0);
    const wf = ['apiVersion: faultline.dev/v1alpha1', 'kind: ChaosWorkflow', 'metadata: { name: gameday, namespace: shop }', 'spec:',
      '  steps:', '    - { name: wait, pause: 1s }', ''].join('\n');
    expect((await kubectl(w, ['apply', '-f', '-'], wf)).code).toBe(0);
    const done = await waitFor(async () => {
      const r = (await runsOf(first, 'once'))[0];
      return r?.outcome ? r : undefined;
    }, 'the one-off ran', 90_000);
    expect(done.state).toBe('Succeeded');
    // CRD defaults (mode, suspend) do not move the hash: the same content as a Git file hashes the same
    const asFile = loadExperimentFiles([{ path: 'experiments/once.yaml', content: new TextEncoder().encode(resource('once', spec).replace(', namespace: shop', '')) }]);
    expect(asFile.experiments[0]!.specHash).toBe(done.specHash);
    // the workflow resource is accepted and runs like a workflow file; its run in its status
    const wfStatus = () => (w.sim.store.get<KObject>('faultline.dev/chaosworkflows', 'shop', 'gameday')?.status ?? {}) as { conditions?: { type: string; status: string }[]; lastRun?: { id?: string; state?: string } };
    await waitFor(() => wfStatus().lastRun?.state === 'Succeeded', 'the workflow resource run in its status', 60_000);
    expect(wfStatus().conditions?.find((c) => c.type === 'Accepted')?.status).toBe('True');
    expect(wfStatus().conditions?.find((c) => c.type === 'Succeeded')?.status).toBe('True');
    const wfRun = wfStatus().lastRun!.id;

    await first.close();
    controllers.splice(0);
    // the resources cannot be listed when the next controller starts: it must not reconcile
    // without them (they would look deleted: schedules removed, runs aborted, one-offs re-run)
    w.sim.failRequests(/\/chaos(experiments|workflows)/);
    const second = await startIn(w, { env, identity: 'second' });
    controllers.push(second);
    await expect(second.reconcileNow('manual')).rejects.toThrow(/custom resources not listed yet/);
    expect(await second.status.list().then((m) => m.get('once')?.specHash)).toBe(done.specHash);
    w.sim.failRequests();
    await waitFor(async () => (await second.reconcileNow('manual').then(() => true, () => false)), 'a pass once listed', 90_000);
    await second.reconcileNow('manual');
    const runs = await runsOf(second, 'once');
    expect(runs.map((r) => r.id)).toEqual([done.id]);
    expect(condition(w, 'once', 'Accepted')).toMatchObject({ status: 'True' });
    expect(statusOf(w, 'once').lastRun).toMatchObject({ id: done.id, state: 'Succeeded' });
    const applied = await second.status.list();
    expect(applied.get('once')?.specHash).toBe(done.specHash);
    expect(wfStatus().lastRun?.id).toBe(wfRun); // the workflow did not run again either
  }, 180_000);
});

describe('the admission webhook', () => {
  it('refuses an invalid resource (kubectl apply) with the messages validate prints for the same file; a valid one passes', async () => {
    world = await startWorld();
    const w = world;
    await withCrds(w);
    const dir = w.workdir;
    const cert = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
    const controller = await startIn(w, { env: { FAULTLINE_CUSTOM_RESOURCES: 'true', FAULTLINE_ADMISSION_PORT: '0', FAULTLINE_ADMISSION_CERT_FILE: cert, FAULTLINE_ADMISSION_KEY_FILE: key } });
    controllers.push(controller);
    const url = controller.admissionUrl!;
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/admission\/validate$/);
    // the deploy/ configuration, pointed at this controller (not the Service) with its CA
    const vwc = parse(readFileSync('deploy/base/validatingwebhook.yaml', 'utf8')) as { webhooks: { clientConfig: Record<string, unknown> }[] };
    vwc.webhooks[0]!.clientConfig = { url, caBundle: readFileSync(cert).toString('base64') };
    const reg = await kubectl(w, ['apply', '-f', '-'], stringify(vwc));
    expect(reg.code, reg.stderr).toBe(0);

    const bad = resource('bad-kill', [
      'fault: { type: container-kill, params: { container: app, signal: SIGKILL } }',
      'target: { namespace: shop, selector: { matchLabels: { app: cart } } }',
      'duration: 30s',
      'schedule: { cron: "61 * * * *" }',
    ]);
    const refused = await kubectl(w, ['apply', '-f', '-'], bad);
    expect(refused.code).not.toBe(0);
    // what `faultline validate` prints for the same content as a file
    const file = join(dir, 'bad-kill.yaml');
    writeFileSync(file, bad.replace(', namespace: shop', ''));
    const validate = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'validate', file]).then(() => ({ stdout: '' }), (e: { stdout: string }) => e);
    const messages = validate.stdout.trim().split('\n').map((l) => l.replace(/^.*?:\d+:\d+: /, ''));
    expect(messages.length).toBeGreaterThanOrEqual(2);
    expect(messages.some((m) => /SIGKILL/.test(m))).toBe(true);
    expect(messages.some((m) => /schedule\.cron/.test(m))).toBe(true);
    // kubectl prints a 422's causes as `* <field>: <message>`: each is validate's line
    for (const m of messages) expect(refused.stderr).toContain(`* ${m}\n`);
    // the API server's Status names the webhook and carries validate's messages, one a line
    const asObject = { ...(parse(bad) as Record<string, unknown>) };
    const err = await w.sim.kubeConfig().makeApiClient(CustomObjectsApi)
      .createNamespacedCustomObject({ group: 'faultline.dev', version: 'v1alpha1', plural: 'chaosexperiments', namespace: 'shop', body: asObject }).catch((e: unknown) => e);
    const status = JSON.parse((err as { body: string }).body) as { code: number; message: string; details: { causes: { field: string }[] } };
    expect(status.code).toBe(422);
    expect(status.message).toBe(`admission webhook "validate.faultline.dev" denied the request: ${messages.join('\n')}`);
    expect(status.details.causes.map((c) => c.field).sort()).toEqual(['spec.fault.params.signal', 'spec.schedule.cron']);
    expect(w.sim.store.get('faultline.dev/chaosexperiments', 'shop', 'bad-kill')).toBeUndefined();

    const good = await kubectl(w, ['apply', '-f', '-'], resource('good-kill', [
      'fault: { type: pod-kill }', 'target: { namespace: shop, selector: { matchLabels: { app: cart } } }', 'duration: 1s', 'suspend: true',
    ]));
    expect(good.code, good.stderr).toBe(0);
    // a resource faults only its own namespace (customResourceTargets: own-namespace, the default)
    const elsewhere = await kubectl(w, ['apply', '-f', '-'], resource('far-kill', [
      'fault: { type: pod-kill }', 'target: { namespace: shop, selector: { matchLabels: { app: cart } } }', 'duration: 1s', 'suspend: true',
    ]).replace('namespace: shop }', 'namespace: default }'));
    expect(elsewhere.code).not.toBe(0);
    expect(elsewhere.stderr).toContain('targets namespace "shop", but a resource in namespace "default" may only fault its own namespace');
    const cordon = await kubectl(w, ['apply', '-f', '-'], resource('own-cordon', [
      'fault: { type: node-cordon }', 'target: { namespace: shop, selector: { matchLabels: { app: cart } } }', 'duration: 1s', 'suspend: true',
    ]));
    expect(cordon.code).not.toBe(0);
    expect(cordon.stderr).toContain('a node-cordon fault reaches every namespace on the node');
    // the webhook gone: failurePolicy Fail refuses rather than letting unchecked experiments in
    await controller.close();
    controllers.splice(0);
    const down = await kubectl(w, ['apply', '-f', '-'], resource('later', ['fault: { type: pod-kill }', 'target: { namespace: shop, selector: { matchLabels: { app: cart } } }', 'duration: 1s']));
    expect(down.code).not.toBe(0);
    expect(down.stderr).toMatch(/failed calling webhook "validate\.faultline\.dev"/);
  }, 180_000);
});
