// The validating admission webhook for ChaosExperiment and ChaosWorkflow resources: HTTPS with
// the certificate and key of a mounted Secret (re-read when the files change, as cert-manager
// rotates them), answering admission.k8s.io/v1 AdmissionReviews with the very problems
// `faultline validate` prints for the same content (same messages, their field paths as causes).
import { readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadExperimentFiles, type LoadOptions } from '../experiments/index.js';
import type { Problem } from '../experiments/model.js';
import type { Logger } from '../log.js';
import { crDocument, crPath, type CustomObject } from '../cluster/custom-resources.js';
import { applyCustomResourceScope, type CustomResourceTargets } from '../cluster/cr-scope.js';

export const ADMISSION_PATH = '/admission/validate';
const KINDS: Record<string, string> = { ChaosExperiment: 'chaosexperiments', ChaosWorkflow: 'chaosworkflows' };
const MAX_BODY = 3 * 1024 * 1024; // the API server's own request limit

interface Review {
  apiVersion?: string;
  kind?: string;
  request?: { uid?: string; operation?: string; namespace?: string; name?: string; object?: CustomObject | null };
}

/** `/spec/fault/type` → `spec.fault.type` (the API server's field path form). */
function fieldOf(pointer: string): string {
  return pointer.split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

function causeOf(p: Problem): { reason: string; field: string; message: string } {
  const field = fieldOf(p.pointer);
  return { reason: 'FieldValueInvalid', field, message: field && p.message.startsWith(`${field}: `) ? p.message.slice(field.length + 2) : p.message };
}

/** The problems `faultline validate` finds in the content of a resource. */
export function problemsOf(obj: CustomObject, namespace: string, load: LoadOptions = {}, targets: CustomResourceTargets = 'own-namespace'): Problem[] {
  const plural = KINDS[obj.kind ?? ''] ?? 'chaosexperiments';
  const path = crPath(namespace, plural, obj.metadata?.name ?? '');
  const result = loadExperimentFiles([{ path, content: new TextEncoder().encode(crDocument(obj)) }], { ...load, resolveReferences: false });
  // plus what a resource may not do that a file may (validate has no namespace to judge by)
  return applyCustomResourceScope(result, targets).problems;
}

/** The AdmissionReview answer to one review. */
export function review(body: Review, load: LoadOptions = {}, targets: CustomResourceTargets = 'own-namespace'): object {
  const req = body.request;
  const answer = (response: Record<string, unknown>) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: req?.uid ?? '', ...response } });
  if (body.apiVersion !== 'admission.k8s.io/v1' || body.kind !== 'AdmissionReview' || !req?.uid) {
    return answer({ allowed: false, status: { code: 400, message: 'expected an admission.k8s.io/v1 AdmissionReview with a request uid' } });
  }
  const obj = req.object;
  // deletes carry no object; other kinds are not ours to judge
  if (!obj || !KINDS[obj.kind ?? '']) return answer({ allowed: true });
  const problems = problemsOf(obj, req.namespace ?? obj.metadata?.namespace ?? 'default', load, targets);
  if (!problems.length) return answer({ allowed: true });
  return answer({
    allowed: false,
    status: {
      code: 422,
      reason: 'Invalid',
      message: problems.map((p) => p.message).join('\n'),
      // a cause's message without its field (kubectl prints `* <field>: <message>`: validate's line)
      details: { name: obj.metadata?.name, group: 'faultline.dev', kind: obj.kind, causes: problems.map((p) => causeOf(p)) },
    },
  });
}

export interface AdmissionServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the webhook; the certificate files are re-read when they change (checked every 30 s and on failure). */
export async function startAdmissionServer(opts: { host: string; port: number; certFile: string; keyFile: string; load?: LoadOptions; targets?: CustomResourceTargets; log: Logger }): Promise<AdmissionServer> {
  const read = () => ({ cert: readFileSync(opts.certFile), key: readFileSync(opts.keyFile) });
  const stamp = () => `${statSync(opts.certFile).mtimeMs}:${statSync(opts.keyFile).mtimeMs}`;
  let seen = stamp();
  const server: Server = createServer({ ...read(), minVersion: 'TLSv1.2' }, (req, res) => void handle(req, res));
  const reload = setInterval(() => {
    try {
      const now = stamp();
      if (now === seen) return;
      server.setSecureContext(read());
      seen = now;
      opts.log.info({ certFile: opts.certFile }, 'admission webhook certificate reloaded');
    } catch (err) {
      opts.log.warn({ err: (err as Error).message }, 'admission webhook certificate not reloaded; keeping the current one');
    }
  }, 30_000);
  reload.unref();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const send = (code: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    };
    const url = new URL(req.url ?? '/', 'https://admission');
    if (url.pathname === '/healthz') return send(200, { ok: true });
    if (url.pathname !== ADMISSION_PATH || req.method !== 'POST') return send(404, { error: 'not found' });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) return send(413, { error: 'request body too large' });
      chunks.push(c as Buffer);
    }
    let body: Review;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Review;
    } catch {
      return send(400, { error: 'the body is not JSON' });
    }
    const answer = review(body, opts.load, opts.targets) as { response: { allowed: boolean; status?: { message?: string } } };
    const r = body.request;
    opts.log.info({ experiment: r?.name, namespace: r?.namespace, operation: r?.operation, allowed: answer.response.allowed, ...(answer.response.allowed ? {} : { problems: answer.response.status?.message }) }, 'admission review');
    send(200, answer);
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `https://${host}:${addr.port}${ADMISSION_PATH}`,
    close: () => {
      clearInterval(reload);
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
