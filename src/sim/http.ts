// HTTP front of the simulator: routes REST paths to the store with the API server's semantics.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, VERSION_INFO } from './discovery.js';
import { ApiError, badRequest, gone, invalid, methodNotAllowed, unsupportedMediaType } from './errors.js';
import { applyPatch } from './patch.js';
import { apiVersionOf, type ResourceDef, type ResourceTable } from './resources.js';
import { formatLabelSelector, fromLabelSelectorObject, parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { SimStore } from './store.js';
import { toTable, wantsTable } from './table.js';
import type { KObject } from './types.js';
import { admitPod } from './podsecurity.js';
import { evictPod } from './eviction.js';
import { checkDecodable, validate, type WriteTarget } from './validate.js';
import { present, type WatchHub } from './watch.js';
import { admitCustomObject, validateCrd } from './crd.js';
import { validatingAdmission, type Operation } from './admission.js';

export interface HttpContext {
  store: SimStore;
  hub: WatchHub;
  bookmarkIntervalMs: number;
  /** Test hook: requests whose path matches get this error (an API server failing one resource). */
  failing?: { pattern: RegExp; code: number };
}

/** A parsed resource path. */
export interface ResourcePath {
  def: ResourceDef;
  version: string;
  namespace?: string;
  name?: string;
  sub?: string;
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `Internal error occurred: ${(err as Error)?.message ?? String(err)}`);
  send(res, e.code, e.toStatus());
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`the body of the request could not be decoded: ${(e as Error).message}`);
  }
}

/** Splits /api/v1/... and /apis/<group>/<version>/... into a resource path, or undefined. */
export function parseResourcePath(table: ResourceTable, pathname: string): ResourcePath | undefined {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else return undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const def = table.find(group, version, rest[2]!);
    if (def?.namespaced) return { def, version, namespace: rest[1], name: rest[3], sub: rest[4] };
  }
  const def = table.find(group, version, rest[0]!);
  if (!def) return undefined;
  return { def, version, name: rest[1], sub: rest[2] };
}

function discovery(table: ResourceTable, pathname: string, host: string): object | undefined {
  const parts = pathname.split('/').filter(Boolean);
  if (parts.length === 1 && parts[0] === 'api') return apiVersions(host);
  if (parts.length === 1 && parts[0] === 'apis') return apiGroupList(table);
  if (parts.length === 2 && parts[0] === 'api') return apiResourceList(table, '', parts[1]!);
  if (parts.length === 2 && parts[0] === 'apis') return apiGroup(table, parts[1]!);
  if (parts.length === 3 && parts[0] === 'apis') return apiResourceList(table, parts[1]!, parts[2]!);
  if (parts.length === 1 && parts[0] === 'version') return VERSION_INFO;
  return undefined;
}

export async function handle(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://sim');
    if (['/healthz', '/readyz', '/livez'].includes(url.pathname)) return send(res, 200, 'ok');
    if (ctx.failing?.pattern.test(url.pathname)) throw new ApiError(ctx.failing.code, 'ServiceUnavailable', 'the server is currently unable to handle the request');
    const p = parseResourcePath(ctx.store.resources, url.pathname);
    if (!p) {
      const doc = req.method === 'GET' ? discovery(ctx.store.resources, url.pathname, req.headers.host ?? '') : undefined;
      if (doc) return send(res, 200, doc);
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    await route(ctx, p, url.searchParams, req, res);
  } catch (err) {
    if (!res.headersSent) sendError(res, err);
    else res.end();
  }
}

async function route(ctx: HttpContext, p: ResourcePath, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { def } = p;
  const method = req.method ?? 'GET';
  const dryRun = q.getAll('dryRun').includes('All');
  if (p.sub === 'exec' || p.sub === 'attach' || p.sub === 'portforward') {
    throw badRequest('Upgrade request required');
  }
  if (p.name === undefined) {
    if (method === 'GET') return list(ctx, p, q, req, res);
    if (method === 'POST') return send(res, 201, await create(ctx, p, await readJson(req), dryRun));
    if (method === 'DELETE') return send(res, 200, deleteCollection(ctx, p, q));
    throw methodNotAllowed();
  }
  const ns = def.namespaced ? p.namespace : undefined;
  if (def.namespaced && !ns) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  switch (p.sub) {
    case undefined:
      if (method === 'GET') {
        const o = present(def, p.version, ctx.store.mustGet(def, ns, p.name));
        return send(res, 200, wantsTable(req.headers.accept) ? toTable(def, [o], String(ctx.store.currentResourceVersion()), p.version) : o);
      }
      if (method === 'PUT') return send(res, 200, await replace(ctx, p, await readJson(req), 'main', dryRun));
      if (method === 'PATCH') return send(res, 200, await patch(ctx, p, req.headers['content-type'] ?? '', await readJson(req), 'main', dryRun));
      if (method === 'DELETE') return send(res, 200, del(ctx, p, q, await readJson(req), dryRun));
      throw methodNotAllowed();
    case 'status':
      if (!def.status) break;
      if (method === 'GET') return send(res, 200, present(def, p.version, ctx.store.mustGet(def, ns, p.name)));
      if (method === 'PUT') return send(res, 200, await replace(ctx, p, await readJson(req), 'status', dryRun));
      if (method === 'PATCH') return send(res, 200, await patch(ctx, p, req.headers['content-type'] ?? '', await readJson(req), 'status', dryRun));
      throw methodNotAllowed();
    case 'ephemeralcontainers':
      if (def.kind !== 'Pod') break;
      if (method === 'GET') return send(res, 200, present(def, p.version, ctx.store.mustGet(def, ns, p.name)));
      if (method === 'PUT') return send(res, 200, await replace(ctx, p, await readJson(req), 'ephemeralcontainers', dryRun));
      if (method === 'PATCH') return send(res, 200, await patch(ctx, p, req.headers['content-type'] ?? '', await readJson(req), 'ephemeralcontainers', dryRun));
      throw methodNotAllowed();
    case 'eviction':
      if (def.kind !== 'Pod') break;
      if (method === 'POST') return send(res, 201, evictPod(ctx.store, ns!, p.name, await readJson(req), dryRun));
      throw methodNotAllowed();
    case 'scale':
      if (!def.subresources?.some((s) => s.name === 'scale')) break;
      if (method === 'GET') return send(res, 200, toScale(ctx.store.mustGet(def, ns, p.name)));
      if (method === 'PUT') return send(res, 200, await writeScale(ctx, p, () => readJson(req).then((b) => b as KObject), dryRun));
      if (method === 'PATCH') {
        const ct = req.headers['content-type'] ?? '';
        const body = await readJson(req);
        const current = toScale(ctx.store.mustGet(def, ns, p.name));
        return send(res, 200, await writeScale(ctx, p, async () => applyPatch(ct, current, body) as KObject, dryRun));
      }
      throw methodNotAllowed();
  }
  throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
}

function list(ctx: HttpContext, p: ResourcePath, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
  const labels = parseLabelSelector(q.get('labelSelector'));
  const fields = parseFieldSelector(q.get('fieldSelector'), p.def.plural);
  const watch = q.get('watch');
  if (watch === 'true' || watch === '1') {
    const timeout = q.get('timeoutSeconds');
    ctx.hub.serve({
      def: p.def, version: p.version, namespace: p.namespace, labels, fields,
      resourceVersion: q.get('resourceVersion') ?? undefined,
      allowBookmarks: q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1',
      timeoutSeconds: timeout ? Number(timeout) : undefined,
      bookmarkIntervalMs: ctx.bookmarkIntervalMs,
    }, res);
    return;
  }
  const limit = Number(q.get('limit') ?? 0);
  if (limit > 0 || q.get('continue')) return listPage(ctx, p, q, labels, fields, req, res);
  const items = ctx.store.list(p.def, { namespace: p.namespace, labelSelector: labels, fieldSelector: fields }).map((o) => present(p.def, p.version, o));
  const rv = String(ctx.store.currentResourceVersion());
  if (wantsTable(req.headers.accept)) return send(res, 200, toTable(p.def, items, rv, p.version));
  send(res, 200, { kind: `${p.def.kind}List`, apiVersion: apiVersionOf(p.def, p.version), metadata: { resourceVersion: rv }, items });
}

/**
 * limit/continue as the API server pages a list: the continue token carries the first page's
 * resourceVersion (every page reports it, so a watch from it misses nothing) and the last key
 * served; a token older than the watch window is 410 Expired, a token that is not ours 400.
 */
function listPage(ctx: HttpContext, p: ResourcePath, q: URLSearchParams, labels: ReturnType<typeof parseLabelSelector>, fields: ReturnType<typeof parseFieldSelector>, req: IncomingMessage, res: ServerResponse): void {
  const limit = Number(q.get('limit') ?? 0);
  if (!Number.isInteger(limit) || limit < 0) throw badRequest(`invalid limit: ${q.get('limit')}`);
  let rv = ctx.store.currentResourceVersion();
  let after = '';
  const token = q.get('continue');
  if (token) {
    let parsed: { rv?: unknown; start?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof parsed;
    } catch {
      throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
    }
    if (typeof parsed.rv !== 'number' || typeof parsed.start !== 'string') throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
    if (parsed.rv < ctx.store.oldestResumableVersion()) {
      throw gone('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
    }
    rv = parsed.rv;
    after = parsed.start;
  }
  const page = ctx.store.listPage(p.def, { namespace: p.namespace, labelSelector: labels, fieldSelector: fields }, limit || Number.MAX_SAFE_INTEGER, after);
  const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
  if (page.remaining > 0 && page.lastKey !== undefined) {
    metadata.continue = Buffer.from(JSON.stringify({ rv, start: page.lastKey })).toString('base64url');
    if (!labels.length && !fields.length) metadata.remainingItemCount = page.remaining;
  }
  const items = page.items.map((o) => present(p.def, p.version, o));
  // kubectl asks for Tables with limit=500 and follows continue tokens
  if (wantsTable(req.headers.accept)) return send(res, 200, { ...toTable(p.def, items, String(rv), p.version), metadata });
  send(res, 200, { kind: `${p.def.kind}List`, apiVersion: apiVersionOf(p.def, p.version), metadata, items });
}

function checkIdentity(p: ResourcePath, body: KObject, forCreate: boolean): void {
  const meta = body.metadata;
  if (p.def.namespaced) {
    if (meta.namespace && meta.namespace !== p.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    meta.namespace = p.namespace;
  }
  if (!forCreate && meta.name !== p.name) {
    throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${p.name})`);
  }
  if (body.kind && body.kind !== p.def.kind) throw badRequest(`${body.kind} is not a ${p.def.kind}`);
}

/** Kind-specific checks of a whole object: a custom resource against its schema, a CRD's own rules. */
function validateKind(p: ResourcePath, obj: KObject): void {
  if (p.def.custom) admitCustomObject(p.def, p.version, obj);
  if (p.def.kind === 'CustomResourceDefinition' && p.def.group === 'apiextensions.k8s.io') validateCrd(obj);
}

function admit(ctx: HttpContext, p: ResourcePath, operation: Operation, object: KObject, oldObject: KObject | undefined, target: WriteTarget, dryRun: boolean): Promise<void> {
  return validatingAdmission(ctx.store, {
    def: p.def, version: p.version, sub: target === 'main' ? undefined : target, operation,
    namespace: p.namespace, name: object.metadata.name, object: present(p.def, p.version, object),
    oldObject: oldObject ? present(p.def, p.version, oldObject) : undefined, dryRun,
  });
}

async function create(ctx: HttpContext, p: ResourcePath, raw: unknown, dryRun: boolean): Promise<KObject> {
  const body = (raw ?? {}) as KObject;
  checkDecodable(p.def, body);
  checkIdentity(p, body, true);
  // with a status subresource, a create ignores the status it is given (as for built-ins)
  if (p.def.status && (p.def.custom || p.def.kind === 'CustomResourceDefinition')) delete body.status;
  validateKind(p, body);
  validate(p.def, body);
  if (p.def.kind === 'Pod') admitPod(body, ctx.store.get('namespaces', undefined, p.namespace!));
  await admit(ctx, p, 'CREATE', body, undefined, 'main', dryRun);
  if (dryRun) return present(p.def, p.version, body);
  return present(p.def, p.version, ctx.store.create(p.def, body));
}


/** Which parts of the incoming object a write may change, by endpoint. */
function merge(def: ResourceDef, old: KObject, incoming: KObject, target: WriteTarget): KObject {
  if (target === 'status') return { ...old, metadata: { ...old.metadata, resourceVersion: incoming.metadata.resourceVersion }, status: incoming.status };
  if (target === 'ephemeralcontainers') {
    return { ...old, metadata: { ...old.metadata, resourceVersion: incoming.metadata.resourceVersion },
      spec: { ...(old.spec ?? {}), ephemeralContainers: incoming.spec?.ephemeralContainers ?? [] } };
  }
  if (def.status) return { ...incoming, status: old.status };
  return incoming;
}

async function commit(ctx: HttpContext, p: ResourcePath, old: KObject, next: KObject, dryRun: boolean, target: WriteTarget): Promise<KObject> {
  validateKind(p, next);
  validate(p.def, next, old, target);
  if (target === 'ephemeralcontainers') admitPod(next, ctx.store.get('namespaces', undefined, p.namespace!));
  await admit(ctx, p, 'UPDATE', next, old, target, dryRun);
  if (dryRun) return present(p.def, p.version, next);
  return present(p.def, p.version, ctx.store.update(p.def, next, { checkVersion: true }));
}

function replace(ctx: HttpContext, p: ResourcePath, raw: unknown, target: WriteTarget, dryRun: boolean): Promise<KObject> {
  const body = (raw ?? {}) as KObject;
  checkDecodable(p.def, body);
  checkIdentity(p, body, false);
  const old = ctx.store.mustGet(p.def, p.namespace, p.name!);
  return commit(ctx, p, old, merge(p.def, old, body, target), dryRun, target);
}

function patch(ctx: HttpContext, p: ResourcePath, contentType: string, body: unknown, target: WriteTarget, dryRun: boolean): Promise<KObject> {
  const type = contentType.split(';')[0]!.trim();
  // custom resources have no strategic merge schema, as on a real server
  if (type === 'application/strategic-merge-patch+json' && (p.def.group === 'networking.istio.io' || p.def.custom)) throw unsupportedMediaType(type);
  const old = ctx.store.mustGet(p.def, p.namespace, p.name!);
  const patched = applyPatch(contentType, present(p.def, p.version, old), body) as KObject;
  if (patched === null || typeof patched !== 'object' || !patched.metadata) throw badRequest('patch removed the object metadata');
  checkDecodable(p.def, patched);
  patched.metadata.name = old.metadata.name;
  if (p.def.namespaced) patched.metadata.namespace = old.metadata.namespace;
  return commit(ctx, p, old, merge(p.def, old, patched, target), dryRun, target);
}

function del(ctx: HttpContext, p: ResourcePath, q: URLSearchParams, raw: unknown, dryRun: boolean): object {
  const body = (raw ?? {}) as { gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string } };
  const qGrace = q.get('gracePeriodSeconds');
  const grace = qGrace !== null ? Number(qGrace) : body.gracePeriodSeconds;
  if (grace !== undefined && (!Number.isInteger(grace) || grace < 0)) throw badRequest('gracePeriodSeconds must be a non-negative integer');
  const current = ctx.store.mustGet(p.def, p.namespace, p.name!);
  if (dryRun) return present(p.def, p.version, current);
  const after = ctx.store.delete(p.def, p.namespace, p.name!, { gracePeriodSeconds: grace, preconditions: body.preconditions });
  if (ctx.store.get(p.def, p.namespace, p.name!)) return present(p.def, p.version, after);
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success',
    details: { name: p.name, group: p.def.group, kind: p.def.plural, uid: current.metadata.uid } };
}

function deleteCollection(ctx: HttpContext, p: ResourcePath, q: URLSearchParams): object {
  const items = ctx.store.list(p.def, { namespace: p.namespace, labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined });
  const qGrace = q.get('gracePeriodSeconds');
  for (const o of items) {
    try {
      ctx.store.delete(p.def, o.metadata.namespace, o.metadata.name, { gracePeriodSeconds: qGrace !== null ? Number(qGrace) : undefined });
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
  }
  return { kind: `${p.def.kind}List`, apiVersion: apiVersionOf(p.def, p.version), metadata: { resourceVersion: String(ctx.store.currentResourceVersion()) }, items };
}

export function toScale(o: KObject): KObject {
  const spec = (o.spec ?? {}) as { replicas?: number; selector?: unknown };
  const status = (o.status ?? {}) as { replicas?: number };
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: { name: o.metadata.name, namespace: o.metadata.namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
    spec: { replicas: spec.replicas ?? 1 },
    status: { replicas: status.replicas ?? 0, selector: formatLabelSelector(fromLabelSelectorObject(spec.selector)) },
  };
}

async function writeScale(ctx: HttpContext, p: ResourcePath, body: () => Promise<KObject>, dryRun: boolean): Promise<KObject> {
  const scale = await body();
  if (!scale || typeof scale !== 'object') throw badRequest('the body of the request must be a Scale');
  const replicas = (scale.spec as { replicas?: unknown } | undefined)?.replicas;
  if (!Number.isInteger(replicas) || (replicas as number) < 0) {
    throw invalid('autoscaling', 'Scale', p.name!, [{ field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
  }
  const old = ctx.store.mustGet(p.def, p.namespace, p.name!);
  const rv = scale.metadata?.resourceVersion;
  const next: KObject = { ...old, metadata: { ...old.metadata, resourceVersion: rv ?? old.metadata.resourceVersion }, spec: { ...(old.spec ?? {}), replicas } };
  if (dryRun) return toScale(next);
  return toScale(ctx.store.update(p.def, next, { checkVersion: true }));
}

