// Validating admission webhooks, called as kube-apiserver calls them: after the object passed
// schema validation, every webhook of every ValidatingWebhookConfiguration whose rules match
// gets an admission.k8s.io/v1 AdmissionReview over HTTPS, verified against its caBundle; a denial
// becomes `admission webhook "<name>" denied the request: <message>` (code < 400 → 400, as
// apiserver's webhook/errors ToStatusErr); a call that fails is a 500 unless failurePolicy: Ignore.
import { randomUUID } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { ApiError, type StatusBody } from './errors.js';
import type { ResourceDef } from './resources.js';
import { fromLabelSelectorObject, matchLabels } from './selectors.js';
import type { SimStore } from './store.js';
import type { KObject } from './types.js';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

interface Rule { operations?: string[]; apiGroups?: string[]; apiVersions?: string[]; resources?: string[]; scope?: string }
interface Webhook {
  name: string;
  clientConfig?: { url?: string; caBundle?: string; service?: { namespace: string; name: string; path?: string; port?: number } };
  rules?: Rule[];
  failurePolicy?: 'Fail' | 'Ignore';
  namespaceSelector?: unknown;
  objectSelector?: unknown;
  timeoutSeconds?: number;
  admissionReviewVersions?: string[];
}

export interface AdmissionRequest {
  def: ResourceDef;
  version: string;
  sub?: string;
  operation: Operation;
  namespace?: string;
  name: string;
  object?: KObject;
  oldObject?: KObject;
  dryRun: boolean;
}

const has = (list: string[] | undefined, v: string) => !!list && (list.includes('*') || list.includes(v));

function ruleMatches(r: Rule, a: AdmissionRequest): boolean {
  const resource = a.sub ? `${a.def.plural}/${a.sub}` : a.def.plural;
  const scope = r.scope ?? '*';
  if (scope !== '*' && scope !== (a.def.namespaced ? 'Namespaced' : 'Cluster')) return false;
  // '*' is every resource but no subresource; '*/*' every subresource too
  const names = a.sub ? [resource, `*/${a.sub}`, `${a.def.plural}/*`, '*/*'] : [resource, '*'];
  const resourceOk = !!r.resources && names.some((n) => r.resources!.includes(n));
  return has(r.operations, a.operation) && has(r.apiGroups, a.def.group) && has(r.apiVersions, a.version) && resourceOk;
}

function selectorMatches(selector: unknown, labels: Record<string, string> | undefined): boolean {
  if (!selector || typeof selector !== 'object' || Object.keys(selector).length === 0) return true;
  return matchLabels(fromLabelSelectorObject(selector), labels);
}

function post(url: string, caBundle: string | undefined, body: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    if (u.protocol !== 'https:') return reject(new Error(`unsupported scheme "${u.protocol.replace(':', '')}"`));
    const req = httpsRequest(u, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Content-Length': Buffer.byteLength(body) },
      // no caBundle: the system roots, as the API server does
      ...(caBundle ? { ca: Buffer.from(caBundle, 'base64').toString('utf8') } : {}),
      timeout: timeoutMs,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('context deadline exceeded')));
    req.on('error', reject);
    req.end(body);
  });
}

async function call(w: Webhook, a: AdmissionRequest): Promise<{ allowed: boolean; result?: Partial<StatusBody> }> {
  const url = w.clientConfig?.url;
  if (!url) {
    const s = w.clientConfig?.service;
    throw new Error(s ? `service ${s.namespace}/${s.name} cannot be reached from the simulator (give the webhook a url)` : 'no clientConfig');
  }
  const timeout = w.timeoutSeconds ?? 10;
  const uid = randomUUID();
  const gvk = { group: a.def.group, version: a.version, kind: a.def.kind };
  const gvr = { group: a.def.group, version: a.version, resource: a.def.plural };
  const review = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid, kind: gvk, resource: gvr, requestKind: gvk, requestResource: gvr,
      ...(a.sub ? { subResource: a.sub, requestSubResource: a.sub } : {}),
      name: a.name, ...(a.namespace ? { namespace: a.namespace } : {}),
      operation: a.operation,
      userInfo: { username: 'faultline-sim', groups: ['system:authenticated'] },
      object: a.object ?? null,
      oldObject: a.oldObject ?? null,
      dryRun: a.dryRun,
      options: { kind: a.operation === 'CREATE' ? 'CreateOptions' : a.operation === 'UPDATE' ? 'UpdateOptions' : 'DeleteOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  };
  const target = `${url}${url.includes('?') ? '&' : '?'}timeout=${timeout}s`;
  let res;
  try {
    res = await post(target, w.clientConfig?.caBundle, JSON.stringify(review), timeout * 1000);
  } catch (e) {
    throw new Error(`failed to call webhook: Post "${target}": ${(e as Error).message}`, { cause: e });
  }
  if (res.status < 200 || res.status >= 300) throw new Error(`received invalid webhook response: the server responded with status code ${res.status}`);
  let parsed: { apiVersion?: string; kind?: string; response?: { uid?: string; allowed?: boolean; status?: Partial<StatusBody> } };
  try {
    parsed = JSON.parse(res.text) as typeof parsed;
  } catch (e) {
    throw new Error(`received invalid webhook response: ${(e as Error).message}`, { cause: e });
  }
  if (parsed.apiVersion !== 'admission.k8s.io/v1' || parsed.kind !== 'AdmissionReview') {
    throw new Error(`received invalid webhook response: expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${parsed.apiVersion}, Kind=${parsed.kind}`);
  }
  const r = parsed.response;
  if (!r) throw new Error('received invalid webhook response: webhook response was absent');
  if (r.uid !== uid) throw new Error(`received invalid webhook response: expected response.uid="${uid}", got "${r.uid}"`);
  return { allowed: r.allowed === true, result: r.status };
}

/** Calls the matching validating webhooks; throws the API server's error on a denial or a failed call. */
export async function validatingAdmission(store: SimStore, a: AdmissionRequest): Promise<void> {
  // never for the webhook configurations themselves, so a broken webhook cannot lock them
  if (a.def.group === 'admissionregistration.k8s.io') return;
  const configs = store.peek('validatingwebhookconfigurations');
  if (!configs.length) return;
  const obj = a.object ?? a.oldObject;
  const nsLabels = a.def.namespaced && a.namespace ? store.peekOne('namespaces', undefined, a.namespace)?.metadata.labels : undefined;
  for (const cfg of configs) {
    for (const w of ((cfg as unknown as { webhooks?: Webhook[] }).webhooks ?? [])) {
      if (!(w.rules ?? []).some((r) => ruleMatches(r, a))) continue;
      if (a.def.namespaced && !selectorMatches(w.namespaceSelector, nsLabels)) continue;
      if (!selectorMatches(w.objectSelector, obj?.metadata.labels)) continue;
      let verdict;
      try {
        verdict = await call(w, a);
      } catch (e) {
        if (w.failurePolicy === 'Ignore') continue;
        throw new ApiError(500, 'InternalError', `Internal error occurred: failed calling webhook "${w.name}": ${(e as Error).message}`);
      }
      if (verdict.allowed) continue;
      const r = verdict.result ?? {};
      const denied = `admission webhook "${w.name}" denied the request`;
      const message = r.message ? `${denied}: ${r.message}` : r.reason ? `${denied}: ${r.reason}` : `${denied} without explanation`;
      const code = typeof r.code === 'number' && r.code >= 400 ? r.code : 400;
      throw new ApiError(code, r.reason ?? '', message, r.details);
    }
  }
}
