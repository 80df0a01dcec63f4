// Probes against real HTTP servers (port 0) and the Kubernetes simulator.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api } from '@kubernetes/client-node';
import { createProbe, measureRecovery, ProbeRunner } from '../../src/probes/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { waitFor } from '../helpers/wait.js';

let server: Server;
let base: string;
let health = 200;
let promValue = '0.5';
const hits: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    hits.push(`${url.pathname} ${url.searchParams.get('query') ?? ''}`);
    if (url.pathname === '/healthz') return void res.writeHead(health, { 'content-type': 'text/plain' }).end(health === 200 ? 'status: ok' : 'down');
    if (url.pathname === '/slow') return void setTimeout(() => res.writeHead(200).end('late'), 400);
    if (url.pathname === '/api/v1/query') {
      const q = url.searchParams.get('query');
      const body = q === 'two'
        ? { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, '1'] }, { metric: {}, value: [1, '2'] }] } }
        : q === 'bad' ? { status: 'error', errorType: 'bad_data', error: 'parse error' }
        : { status: 'success', data: { resultType: 'vector', result: [{ metric: { job: 'checkout' }, value: [1700000000, promValue] }] } };
      return void res.writeHead(q === 'bad' ? 400 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('http probe', () => {
  it('checks status, body match and latency, and times out', async () => {
    health = 200;
    expect(await createProbe({ name: 'h', http: { url: `${base}/healthz`, expectStatus: [200], bodyMatch: 'status: ok' } }).check()).toMatchObject({ ok: true });
    expect(await createProbe({ name: 'h', http: { url: `${base}/healthz`, bodyMatch: '^nope$' } }).check()).toMatchObject({ ok: false, error: expect.stringMatching(/body does not match/) });
    health = 503;
    expect(await createProbe({ name: 'h', http: { url: `${base}/healthz`, expectStatus: [200] } }).check()).toMatchObject({ ok: false, error: 'status 503, expected 200' });
    expect(await createProbe({ name: 'h', http: { url: `${base}/healthz`, expectStatus: [503] } }).check()).toMatchObject({ ok: true });
    expect(await createProbe({ name: 's', http: { url: `${base}/slow`, timeout: '100ms' } }).check()).toMatchObject({ ok: false, error: 'timed out after 100ms' });
    expect(await createProbe({ name: 's', http: { url: `${base}/slow`, maxLatency: '50ms', timeout: '5s' } }).check()).toMatchObject({ ok: false, error: expect.stringMatching(/^latency \d+ms over 50ms$/) });
    expect(await createProbe({ name: 'x', http: { url: 'http://127.0.0.1:1/' } }).check()).toMatchObject({ ok: false, error: expect.stringMatching(/request failed/) });
    health = 200;
  });
});

describe('prometheus probe', () => {
  it('compares one sample with the threshold', async () => {
    const prom = (query: string, op: '<' | '>=' | '==', threshold: number) => createProbe({ name: 'p', prometheus: { url: base, query, op, threshold } }).check();
    promValue = '0.5';
    expect(await prom('rate(errors[1m])', '<', 1)).toMatchObject({ ok: true });
    expect(hits).toContain('/api/v1/query rate(errors[1m])');
    // The sample and the server's words are content from the far side: shown only when config allows it.
    expect(await prom('rate(errors[1m])', '>=', 1)).toMatchObject({ ok: false, error: 'the sample >= 1 is false' });
    const exposed = createProbe({ name: 'p', prometheus: { url: base, query: 'rate(errors[1m])', op: '>=', threshold: 1 } }, { exposeResponses: true });
    expect(await exposed.check()).toMatchObject({ ok: false, error: '0.5 >= 1 is false' });
    expect(await createProbe({ name: 'p', prometheus: { url: base, query: 'bad', op: '<', threshold: 1 } }, { exposeResponses: true }).check()).toMatchObject({ ok: false, error: 'query failed: parse error' });
    expect(await prom('two', '<', 1)).toMatchObject({ ok: false, error: 'expected one sample, got 2' });
    expect(await prom('bad', '<', 1)).toMatchObject({ ok: false, error: expect.stringMatching(/^query failed: status \d+$/) });
    promValue = 'NaN';
    expect(await prom('x', '==', 0)).toMatchObject({ ok: false, error: expect.stringMatching(/not a number/) });
    promValue = '0.5';
  });
});

describe('kubernetes probe, runner and recovery (simulator)', () => {
  let sim: Simulator;
  beforeAll(async () => { sim = await startSimulator({ readyDelayMs: 20, recreateDelayMs: 50 }); });
  afterAll(async () => { await sim?.close(); });

  it('checks ready replicas', async () => {
    const kc = sim.kubeConfig();
    expect(await createProbe({ name: 'k', kubernetes: { namespace: 'shop', kind: 'Deployment', name: 'checkout', minReadyReplicas: 4 } }, { kc }).check()).toMatchObject({ ok: true });
    expect(await createProbe({ name: 'k', kubernetes: { namespace: 'shop', kind: 'StatefulSet', name: 'orders-db', minReadyReplicas: 2 } }, { kc }).check()).toMatchObject({ ok: false, error: 'StatefulSet/orders-db: 1 ready, want ≥ 2' });
    expect(await createProbe({ name: 'k', kubernetes: { namespace: 'shop', kind: 'Deployment', name: 'nope', minReadyReplicas: 1 } }, { kc }).check()).toMatchObject({ ok: false });
    expect(() => createProbe({ name: 'k', kubernetes: { namespace: 'shop', kind: 'Deployment', name: 'x', minReadyReplicas: 1 } })).toThrow(/KubeConfig/);
  });

  it('before: all must pass; during: threshold consecutive failures report once', async () => {
    health = 200;
    const runner = new ProbeRunner([
      createProbe({ name: 'up', http: { url: `${base}/healthz` }, interval: '20ms', failureThreshold: 3 }),
      createProbe({ name: 'replicas', kubernetes: { namespace: 'shop', kind: 'Deployment', name: 'checkout', minReadyReplicas: 1 }, interval: '20ms' }, { kc: sim.kubeConfig() }),
    ]);
    expect(await runner.before()).toMatchObject({ ok: true, summaries: [{ name: 'up', phase: 'before', ok: true, checks: 1 }, { name: 'replicas', ok: true }] });
    const reasons: string[] = [];
    const during = runner.during((r) => reasons.push(r));
    await waitFor('some ok during checks', () => during.summaries()[0]!.checks >= 2);
    health = 500;
    await waitFor('failure reported', () => reasons.length > 0);
    await waitFor('more failures', () => during.summaries()[0]!.failures >= 5);
    const summaries = await during.stop();
    expect(reasons).toEqual(['probe up failed 3 times in a row: status 500, expected 2xx']);
    expect(summaries[0]).toMatchObject({ name: 'up', phase: 'during', ok: false, lastError: 'status 500, expected 2xx' });
    expect(summaries[1]).toMatchObject({ name: 'replicas', ok: true, failures: 0 });
    expect(await runner.before()).toMatchObject({ ok: false, reason: 'steady state does not hold before injection: up: status 500, expected 2xx' });
    health = 200;
  });

  it('recovery: time until the workload is back at its pre-run ready count', async () => {
    const kc = sim.kubeConfig();
    const apps = kc.makeApiClient(AppsV1Api);
    const { mergePatch } = await import('../../src/faults/k8s.js');
    await apps.patchNamespacedDeploymentScale({ namespace: 'shop', name: 'cart', body: { spec: { replicas: 1 } } }, mergePatch());
    await waitFor('cart down', async () => (await apps.readNamespacedDeployment({ namespace: 'shop', name: 'cart' })).status?.readyReplicas === 1);
    const since = Date.now();
    const stuck = await measureRecovery({ kc, workloads: [{ workload: 'Deployment/cart', namespace: 'shop', ready: 3, total: 3 }], since, timeoutMs: 100, intervalMs: 20 });
    expect(stuck).toMatchObject({ recovered: false, pending: ['shop/Deployment/cart 1/3'] });
    await apps.patchNamespacedDeploymentScale({ namespace: 'shop', name: 'cart', body: { spec: { replicas: 3 } } }, mergePatch());
    const r = await measureRecovery({ kc, workloads: [{ workload: 'Deployment/cart', namespace: 'shop', ready: 3, total: 3 }], since, timeoutMs: 15_000, intervalMs: 20 });
    expect(r.recovered).toBe(true);
    expect(r.recoveryMs).toBeGreaterThan(0);
  });
});
