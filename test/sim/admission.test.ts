// Validating admission webhooks in the simulator, as kube-apiserver calls them: HTTPS checked
// against the webhook's caBundle, AdmissionReview v1 with the object after defaulting, a denial
// as `admission webhook "<name>" denied the request: <message>`, failurePolicy Fail and Ignore,
// rules that do not match are not called, and deletes are not sent unless a rule says DELETE.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdmissionregistrationV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { experimentCrd } from '../../src/crds/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import type { KObject } from '../../src/sim/types.js';
import { statusOf, waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
let sim: Simulator;
let hook: Server;
let url: string;
let ca: string;
let otherCa: string;
const reviews: { request: { operation: string; name: string; object: { spec: Record<string, unknown> } | null; uid: string } }[] = [];
const G = { group: 'faultline.dev', version: 'v1alpha1', plural: 'chaosexperiments', namespace: 'default' };
const body = (name: string) => ({ apiVersion: 'faultline.dev/v1alpha1', kind: 'ChaosExperiment', metadata: { name },
  spec: { fault: { type: 'pod-kill' }, target: { namespace: 'shop', selector: { matchLabels: { app: 'cart' } } }, duration: '1s' } });

async function cert(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const c = join(dir, `${name}.crt`);
  const k = join(dir, `${name}.key`);
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', k, '-out', c, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
  return { cert: readFileSync(c, 'utf8'), key: readFileSync(k, 'utf8') };
}

async function configure(webhooks: Record<string, unknown>[]): Promise<void> {
  const api = sim.kubeConfig().makeApiClient(AdmissionregistrationV1Api);
  await api.deleteValidatingWebhookConfiguration({ name: 'test' }).catch(() => undefined);
  await api.createValidatingWebhookConfiguration({ body: { metadata: { name: 'test' }, webhooks } as never });
}
const rules = (operations: string[]) => [{ apiGroups: ['faultline.dev'], apiVersions: ['v1alpha1'], operations, resources: ['chaosexperiments'], scope: 'Namespaced' }];
const webhook = (extra: Record<string, unknown> = {}) => ({
  name: 'check.example.dev', admissionReviewVersions: ['v1'], sideEffects: 'None', rules: rules(['CREATE', 'UPDATE']),
  clientConfig: { url, caBundle: Buffer.from(ca).toString('base64') }, ...extra,
});

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-adm-'));
  const tls = await cert(dir, 'hook');
  ca = tls.cert;
  otherCa = (await cert(dir, 'other')).cert;
  hook = createServer(tls, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as (typeof reviews)[number];
      reviews.push(review);
      const name = review.request.name;
      const response = name.startsWith('deny')
        ? { uid: review.request.uid, allowed: false, status: { message: 'spec.duration: too short for this team', code: 200 } }
        : name.startsWith('silent') ? { uid: review.request.uid, allowed: false } : name.startsWith('wronguid') ? { uid: 'x', allowed: true } : { uid: review.request.uid, allowed: true };
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  url = `https://127.0.0.1:${(hook.address() as AddressInfo).port}/validate`;
  sim = await startSimulator({ topology: { namespaces: [{ name: 'default' }], objects: [experimentCrd() as unknown as KObject] } });
  await waitFor('CRD served', () => sim.store.resources.find('faultline.dev', 'v1alpha1', 'chaosexperiments'), 10_000);
}, 60_000);
afterAll(async () => {
  await sim?.close();
  await new Promise<void>((r) => hook?.close(() => r()));
});

const create = (name: string) => sim.kubeConfig().makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ ...G, body: body(name) });

describe('validating admission webhooks', () => {
  it('the webhook gets an AdmissionReview v1 of the defaulted object; allowed creates go through', async () => {
    await configure([webhook()]);
    await create('ok-1');
    const r = reviews.find((x) => x.request.name === 'ok-1')!;
    expect(r).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { operation: 'CREATE', namespace: 'default', kind: { group: 'faultline.dev', version: 'v1alpha1', kind: 'ChaosExperiment' }, resource: { resource: 'chaosexperiments' } } });
    expect(r.request.object!.spec).toMatchObject({ suspend: false, target: { mode: { type: 'one' } } });
    expect(sim.store.get('faultline.dev/chaosexperiments', 'default', 'ok-1')).toBeDefined();
  });

  it('a denial is the ToStatusErr error: the webhook name, its message, a code of at least 400; nothing stored', async () => {
    await configure([webhook()]);
    const err = await create('deny-1').catch((e: unknown) => e);
    expect(statusOf(err)).toMatchObject({ code: 400, body: { message: 'admission webhook "check.example.dev" denied the request: spec.duration: too short for this team' } });
    const silent = await create('silent-1').catch((e: unknown) => e);
    expect(statusOf(silent).body.message).toBe('admission webhook "check.example.dev" denied the request without explanation');
    expect(sim.store.get('faultline.dev/chaosexperiments', 'default', 'deny-1')).toBeUndefined();
  });

  it('a caBundle that did not sign the webhook certificate fails the call: 500 under Fail, let through under Ignore', async () => {
    await configure([webhook({ clientConfig: { url, caBundle: Buffer.from(otherCa).toString('base64') } })]);
    const before = reviews.length;
    const err = await create('deny-2').catch((e: unknown) => e);
    expect(statusOf(err).code).toBe(500);
    expect(String(statusOf(err).body.message)).toMatch(/^Internal error occurred: failed calling webhook "check.example.dev": failed to call webhook: Post "https:\/\/127\.0\.0\.1:\d+\/validate\?timeout=10s": .*(self.signed|certificate)/);
    expect(reviews.length).toBe(before); // the TLS handshake failed: the hook never got it
    await configure([webhook({ clientConfig: { url, caBundle: Buffer.from(otherCa).toString('base64') }, failurePolicy: 'Ignore' })]);
    await create('deny-3'); // would be denied, but the call failed and Ignore lets it in
    expect(sim.store.get('faultline.dev/chaosexperiments', 'default', 'deny-3')).toBeDefined();
  });

  it('a response with another uid is an invalid response; a rule for other operations or resources is not called', async () => {
    await configure([webhook()]);
    const err = await create('wronguid-1').catch((e: unknown) => e);
    expect(String(statusOf(err).body.message)).toContain('received invalid webhook response: expected response.uid=');
    await configure([webhook({ rules: rules(['DELETE']) }), webhook({ name: 'other.example.dev', rules: [{ ...rules(['CREATE'])[0], resources: ['chaosworkflows'] }] })]);
    const before = reviews.length;
    await create('deny-4'); // neither matches a CREATE of chaosexperiments
    expect(reviews.length).toBe(before);
  });
});
