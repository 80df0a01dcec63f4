// The object store: one global resourceVersion counter, per-object metadata the way the API
// server fills it, an event log for watches (with a window: older resume points get 410 Gone),
// and graceful deletion.
import { randomUUID } from 'node:crypto';
import { alreadyExists, conflict, forbidden, notFound } from './errors.js';
import { apiVersionOf, resourceKey, ResourceTable, type ResourceDef } from './resources.js';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector, type FieldRequirement, type LabelSelector } from './selectors.js';
import type { KObject, StoreEvent } from './types.js';

export interface ListOptions {
  namespace?: string;
  labelSelector?: string | LabelSelector;
  fieldSelector?: string | FieldRequirement[];
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface StoreOptions {
  /** How many events the watch log keeps; a resume point older than that gets 410 Gone. */
  eventWindow?: number;
}

/** Sees every change; the event's objects are shared with the store: read them, never change them. */
export type StoreListener = (e: StoreEvent) => void;

/** Resource given as storage key ("apps/deployments"), plural ("deployments") or kind ("Deployment"). */
export type ResourceRef = string | ResourceDef;

function resolveIn(table: ResourceTable, ref: ResourceRef): ResourceDef {
  if (typeof ref !== 'string') return ref;
  if (ref.includes('/')) return table.byKey(ref);
  const all = table.all();
  const def = all.find((r) => r.plural === ref && !r.custom) ?? all.find((r) => r.kind === ref && !r.custom);
  if (!def) throw new Error(`unknown resource ${ref}`);
  return def;
}

function objKey(ns: string | undefined, name: string): string {
  return `${ns ?? ''}/${name}`;
}

function withoutMeta(o: KObject): string {
  const rest: Record<string, unknown> = { ...o };
  delete rest.metadata;
  delete rest.status;
  return JSON.stringify(rest);
}

/**
 * Objects of one resource by "<ns>/<name>", with a per-namespace index for namespaced lists and
 * an index by owner uid (controllers find their pods without scanning a namespace of 100,000).
 */
class Bucket {
  private readonly all = new Map<string, KObject>();
  private readonly byNs = new Map<string, Map<string, KObject>>();
  private readonly byOwner = new Map<string, Map<string, KObject>>();

  get(key: string): KObject | undefined {
    return this.all.get(key);
  }

  has(key: string): boolean {
    return this.all.has(key);
  }

  set(key: string, o: KObject): void {
    const old = this.all.get(key);
    if (old) this.unindexOwners(key, old, o);
    this.all.set(key, o);
    const ns = o.metadata.namespace ?? '';
    let m = this.byNs.get(ns);
    if (!m) this.byNs.set(ns, (m = new Map()));
    m.set(key, o);
    for (const ref of o.metadata.ownerReferences ?? []) {
      let owned = this.byOwner.get(ref.uid);
      if (!owned) this.byOwner.set(ref.uid, (owned = new Map()));
      owned.set(key, o);
    }
  }

  delete(key: string): void {
    const o = this.all.get(key);
    if (!o) return;
    this.all.delete(key);
    const ns = o.metadata.namespace ?? '';
    this.byNs.get(ns)?.delete(key);
    this.unindexOwners(key, o);
  }

  values(namespace?: string): Iterable<KObject> {
    return namespace === undefined ? this.all.values() : (this.byNs.get(namespace)?.values() ?? []);
  }

  owned(uid: string): Iterable<KObject> {
    return this.byOwner.get(uid)?.values() ?? [];
  }

  /** Drops `key` from the owner index for the owners of `old` that `next` (if given) no longer has. */
  private unindexOwners(key: string, old: KObject, next?: KObject): void {
    for (const ref of old.metadata.ownerReferences ?? []) {
      if (next?.metadata.ownerReferences?.some((r) => r.uid === ref.uid)) continue;
      const owned = this.byOwner.get(ref.uid);
      if (!owned) continue;
      owned.delete(key);
      if (!owned.size) this.byOwner.delete(ref.uid);
    }
  }
}

export class Store {
  private rv = 0;
  private readonly data = new Map<string, Bucket>();
  /** The watch log: entries before logStart are dropped (trimmed in batches, not one splice per event). */
  private log: StoreEvent[] = [];
  private logStart = 0;
  private readonly listeners = new Set<StoreListener>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly eventWindow: number;
  /** Events at or below this resourceVersion were dropped from the log. */
  private compactedRv = 0;
  private closed = false;

  /** What this store serves: built-ins and the custom resources of its CRDs. */
  readonly resources = new ResourceTable();

  constructor(opts: StoreOptions = {}) {
    this.eventWindow = opts.eventWindow ?? 10_000;
  }

  /** A resource given by key, plural or kind (built-ins), or its definition. */
  resolve(ref: ResourceRef): ResourceDef {
    return resolveIn(this.resources, ref);
  }

  /** Drops every object of a resource (its CRD was deleted), with a DELETED event each. */
  dropResource(def: ResourceDef): void {
    const bucket = this.data.get(resourceKey(def));
    if (!bucket) return;
    for (const o of [...bucket.values()]) this.remove(def, o.metadata.namespace, o.metadata.name);
    this.data.delete(resourceKey(def));
  }

  currentResourceVersion(): number {
    return this.rv;
  }

  oldestResumableVersion(): number {
    return this.compactedRv;
  }

  /** Drops the whole event log, as etcd compaction does: every older resume point is now Gone. */
  compact(): void {
    this.log = [];
    this.logStart = 0;
    this.compactedRv = this.rv;
  }

  onChange(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Events after `rv` for a resource, or 'gone' when the log no longer reaches back that far. */
  eventsSince(resource: ResourceRef, rv: number): StoreEvent[] | 'gone' {
    if (rv < this.compactedRv) return 'gone';
    const key = resourceKey(this.resolve(resource));
    const out: StoreEvent[] = [];
    for (let i = this.logStart; i < this.log.length; i++) {
      const e = this.log[i]!;
      if (e.rv > rv && e.resource === key) out.push(e);
    }
    return out;
  }

  get<T = KObject>(resource: ResourceRef, namespace: string | undefined, name: string): T | undefined {
    const def = this.resolve(resource);
    const o = this.bucket(def).get(objKey(def.namespaced ? namespace : undefined, name));
    return o ? (structuredClone(o) as T) : undefined;
  }

  /** Like get, without a copy: the stored object itself (controllers' hot paths). Never mutate it. */
  peekOne(resource: ResourceRef, namespace: string | undefined, name: string): KObject | undefined {
    const def = this.resolve(resource);
    return this.bucket(def).get(objKey(def.namespaced ? namespace : undefined, name));
  }

  /** Like get, but throws the API's NotFound. */
  mustGet(resource: ResourceRef, namespace: string | undefined, name: string): KObject {
    const def = this.resolve(resource);
    const o = this.get(def, namespace, name);
    if (!o) throw notFound(def.group, def.plural, name);
    return o;
  }

  /** Read-only view of stored objects without copying (controllers' hot paths). Never mutate them. */
  *scan(resource: ResourceRef): Iterable<Readonly<KObject>> {
    yield* this.bucket(this.resolve(resource)).values();
  }

  /**
   * Like list, without copies and unsorted: the stored objects themselves, for the controllers'
   * hot paths (100,000 pods). Never mutate them.
   */
  peek(resource: ResourceRef, opts: ListOptions = {}): KObject[] {
    const def = this.resolve(resource);
    const labels = typeof opts.labelSelector === 'string' || opts.labelSelector === undefined ? parseLabelSelector(opts.labelSelector) : opts.labelSelector;
    const fields = typeof opts.fieldSelector === 'string' || opts.fieldSelector === undefined ? parseFieldSelector(opts.fieldSelector, def.plural) : opts.fieldSelector;
    const out: KObject[] = [];
    for (const o of this.bucket(def).values(opts.namespace || undefined)) {
      if (!matchLabels(labels, o.metadata.labels)) continue;
      if (!matchFields(fields, o)) continue;
      out.push(o);
    }
    return out;
  }

  /** Like peek: the stored objects in `namespace` with an ownerReference to `uid`. Never mutate them. */
  peekOwned(resource: ResourceRef, namespace: string, uid: string | undefined): KObject[] {
    if (!uid) return [];
    const out: KObject[] = [];
    for (const o of this.bucket(this.resolve(resource)).owned(uid)) if ((o.metadata.namespace ?? '') === namespace) out.push(o);
    return out;
  }

  /**
   * One page of a list in key order ("<ns>/<name>", bytewise as etcd keys): up to `limit` copies
   * after the key `after`, with how many matching objects remain.
   */
  listPage(resource: ResourceRef, opts: ListOptions, limit: number, after = ''): { items: KObject[]; remaining: number; lastKey?: string } {
    const matches = this.peek(resource, opts).map((o) => [objKey(o.metadata.namespace, o.metadata.name), o] as const).filter(([k]) => k > after);
    matches.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const page = matches.slice(0, limit);
    return { items: page.map(([, o]) => structuredClone(o)), remaining: matches.length - page.length, lastKey: page[page.length - 1]?.[0] };
  }

  list<T = KObject>(resource: ResourceRef, opts: ListOptions = {}): T[] {
    const def = this.resolve(resource);
    const labels = typeof opts.labelSelector === 'string' || opts.labelSelector === undefined ? parseLabelSelector(opts.labelSelector) : opts.labelSelector;
    const fields = typeof opts.fieldSelector === 'string' || opts.fieldSelector === undefined ? parseFieldSelector(opts.fieldSelector, def.plural) : opts.fieldSelector;
    const out: KObject[] = [];
    for (const o of this.bucket(def).values(opts.namespace || undefined)) {
      if (!matchLabels(labels, o.metadata.labels)) continue;
      if (!matchFields(fields, o)) continue;
      out.push(structuredClone(o));
    }
    out.sort((a, b) => objKey(a.metadata.namespace, a.metadata.name).localeCompare(objKey(b.metadata.namespace, b.metadata.name)));
    return out as T[];
  }

  /** Creates an object; fills uid, resourceVersion, creationTimestamp, generation. */
  create(resource: ResourceRef, input: KObject): KObject {
    const def = this.resolve(resource);
    const obj = structuredClone(input);
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomSuffix();
    if (!def.namespaced) delete meta.namespace;
    else if (def.plural !== 'namespaces') this.checkNamespaceWritable(meta.namespace ?? 'default', def);
    const bucket = this.bucket(def);
    const key = objKey(meta.namespace, meta.name);
    if (bucket.has(key)) throw alreadyExists(def.group, def.plural, meta.name);
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    meta.uid = randomUUID();
    meta.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    meta.generation = 1;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    meta.resourceVersion = String(++this.rv);
    bucket.set(key, obj);
    // stored objects are replaced, never changed in place, so events can share them
    this.emit({ type: 'ADDED', resource: resourceKey(def), rv: this.rv, object: obj });
    return structuredClone(obj);
  }

  /**
   * Replaces an object. With `checkVersion`, a resourceVersion in the input that is not the
   * stored one is a 409 Conflict (optimistic concurrency, as PUT does).
   */
  update(resource: ResourceRef, input: KObject, opts: { checkVersion?: boolean; internal?: boolean; owned?: boolean; noCopy?: boolean } = {}): KObject {
    const def = this.resolve(resource);
    const bucket = this.bucket(def);
    const ns = def.namespaced ? input.metadata.namespace : undefined;
    const key = objKey(ns, input.metadata.name);
    const old = bucket.get(key);
    if (!old) throw notFound(def.group, def.plural, input.metadata.name);
    if (opts.checkVersion !== false && input.metadata.resourceVersion && input.metadata.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(def.group, def.plural, input.metadata.name);
    }
    const obj = opts.owned ? input : structuredClone(input);
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    const meta = obj.metadata;
    if (ns === undefined) delete meta.namespace;
    meta.uid = old.metadata.uid;
    meta.creationTimestamp = old.metadata.creationTimestamp;
    // deletion state is owned by the server, not by the writer
    if (opts.internal) {
      // the store's own deletion logic sets these
    } else if (old.metadata.deletionTimestamp) {
      meta.deletionTimestamp = old.metadata.deletionTimestamp;
      meta.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
    } else {
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
    }
    meta.generation = (old.metadata.generation ?? 1) + (withoutMeta(old) !== withoutMeta(obj) ? 1 : 0);
    if (JSON.stringify(old) === JSON.stringify({ ...obj, metadata: { ...meta, resourceVersion: old.metadata.resourceVersion } })) {
      return structuredClone(old); // no-op writes do not bump the version, like the real server
    }
    meta.resourceVersion = String(++this.rv);
    bucket.set(key, obj);
    this.emit({ type: 'MODIFIED', resource: resourceKey(def), rv: this.rv, object: obj, old });
    // an object waiting only for its finalizers goes once they are cleared
    if (meta.deletionTimestamp && !(meta.finalizers ?? []).length && def.plural !== 'pods' && def.plural !== 'namespaces') {
      return this.remove(def, ns, meta.name);
    }
    return opts.noCopy ? obj : structuredClone(obj);
  }

  /** Read-modify-write helper for controllers; returns the stored object (never mutate it), undefined when gone. */
  mutate(resource: ResourceRef, namespace: string | undefined, name: string, fn: (o: KObject) => void): KObject | undefined {
    const o = this.get(resource, namespace, name);
    if (!o) return undefined;
    fn(o);
    return this.update(resource, o, { checkVersion: false, owned: true, noCopy: true });
  }

  /** mutate for the store's own deletion bookkeeping (may set deletionTimestamp). */
  private mark(def: ResourceDef, namespace: string | undefined, name: string, fn: (o: KObject) => void): KObject {
    const o = this.get(def, namespace, name)!;
    fn(o);
    return this.update(def, o, { checkVersion: false, internal: true, owned: true });
  }

  /**
   * Deletes as the API server does: pods bound to a node get a grace period (deletionTimestamp
   * now, gone after the grace); unbound pods and grace 0 go at once; a namespace turns
   * Terminating (the namespace controller empties and removes it); finalizers hold an object.
   */
  delete(resource: ResourceRef, namespace: string | undefined, name: string, opts: DeleteOptions = {}): KObject {
    const def = this.resolve(resource);
    const ns = def.namespaced ? namespace : undefined;
    const cur = this.bucket(def).get(objKey(ns, name));
    if (!cur) throw notFound(def.group, def.plural, name);
    const pre = opts.preconditions ?? {};
    if (pre.uid && pre.uid !== cur.metadata.uid) {
      throw conflict(def.group, def.plural, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata.uid}`);
    }
    if (pre.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion) {
      throw conflict(def.group, def.plural, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion}`);
    }
    if (def.plural === 'namespaces' && !def.group) {
      if (cur.metadata.deletionTimestamp) return structuredClone(cur);
      return this.mark(def, undefined, name, (o) => {
        o.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        o.status = { ...(o.status ?? {}), phase: 'Terminating' };
      });
    }
    if (def.plural === 'pods' && !def.group) {
      const spec = (cur.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
      let grace = opts.gracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30;
      if (!spec.nodeName) grace = 0;
      if (grace > 0) return this.startGracefulDeletion(def, cur, grace);
    }
    if ((cur.metadata.finalizers ?? []).length) {
      if (cur.metadata.deletionTimestamp) return structuredClone(cur);
      return this.mark(def, ns, name, (o) => {
        o.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        o.metadata.deletionGracePeriodSeconds = 0;
      });
    }
    return this.remove(def, ns, name);
  }

  private startGracefulDeletion(def: ResourceDef, cur: KObject, grace: number): KObject {
    const prev = cur.metadata.deletionTimestamp ? Date.parse(cur.metadata.deletionTimestamp) : Infinity;
    const due = Date.now() + grace * 1000;
    if (due >= prev) return structuredClone(cur); // a grace can only be shortened
    const ns = cur.metadata.namespace;
    const name = cur.metadata.name;
    const uid = cur.metadata.uid;
    const updated = this.mark(def, ns, name, (o) => {
      o.metadata.deletionTimestamp = new Date(due).toISOString().replace(/\.\d+Z$/, 'Z');
      o.metadata.deletionGracePeriodSeconds = grace;
    });
    this.later(grace * 1000, () => {
      const now = this.bucket(def).get(objKey(ns, name));
      if (!now || now.metadata.uid !== uid) return;
      if (Date.parse(now.metadata.deletionTimestamp ?? '') > Date.now() + 1000) return; // a later, longer timer
      this.remove(def, ns, name);
    });
    return updated;
  }

  /** Removes an object now (the end of any deletion). */
  remove(resource: ResourceRef, namespace: string | undefined, name: string): KObject {
    const def = this.resolve(resource);
    const bucket = this.bucket(def);
    const key = objKey(def.namespaced ? namespace : undefined, name);
    const cur = bucket.get(key);
    if (!cur) throw notFound(def.group, def.plural, name);
    bucket.delete(key);
    const gone = structuredClone(cur);
    gone.metadata.resourceVersion = String(++this.rv);
    this.emit({ type: 'DELETED', resource: resourceKey(def), rv: this.rv, object: gone });
    return structuredClone(gone);
  }

  /** Runs `fn` after `ms` unless the store is closed first. */
  later(ms: number, fn: () => void): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(t);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.listeners.clear();
  }

  isClosed(): boolean {
    return this.closed;
  }

  private checkNamespaceWritable(ns: string, def: ResourceDef): void {
    const nsObj = this.bucket(this.resolve('namespaces')).get(objKey(undefined, ns));
    if (!nsObj) throw notFound('', 'namespaces', ns);
    if (nsObj.metadata.deletionTimestamp) {
      throw forbidden(`${def.plural} is forbidden: unable to create new content in namespace ${ns} because it is being terminated`, {
        name: ns, group: def.group, kind: def.plural, causes: [{ reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace' }],
      });
    }
  }

  private bucket(def: ResourceDef): Bucket {
    const key = resourceKey(def);
    let b = this.data.get(key);
    if (!b) this.data.set(key, (b = new Bucket()));
    return b;
  }

  private emit(e: StoreEvent): void {
    this.log.push(e);
    if (this.log.length - this.logStart > this.eventWindow) {
      this.logStart = this.log.length - this.eventWindow;
      this.compactedRv = this.log[this.logStart - 1]!.rv;
      if (this.logStart >= this.eventWindow) {
        this.log = this.log.slice(this.logStart);
        this.logStart = 0;
      }
    }
    for (const l of [...this.listeners]) l(e);
  }
}

const ALNUM = 'bcdfghjklmnpqrstvwxz2456789';
export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[Math.floor(Math.random() * ALNUM.length)];
  return s;
}

/** Test and seeding conveniences on top of the store. */
export class SimStore extends Store {
  /** Creates or replaces an object, found by its apiVersion/kind (no version check). */
  put(obj: KObject): KObject {
    const def = this.resources.all().find((r) => r.kind === obj.kind && (obj.apiVersion ?? '').startsWith(r.group ? `${r.group}/` : 'v'));
    if (!def) throw new Error(`unknown kind ${obj.apiVersion}/${obj.kind}`);
    const ns = def.namespaced ? (obj.metadata.namespace ?? 'default') : undefined;
    const o = structuredClone(obj);
    if (ns) o.metadata.namespace = ns;
    return this.get(def, ns, obj.metadata.name) ? this.update(def, o, { checkVersion: false }) : this.create(def, o);
  }

  /** Flips a pod's readiness the way a failing/passing readiness probe would. */
  setPodReady(namespace: string, name: string, ready: boolean): KObject {
    const pod = this.mutate('pods', namespace, name, (p) => {
      const status = (p.status ??= {}) as { phase?: string; conditions?: { type: string; status: string; lastTransitionTime?: string }[]; containerStatuses?: { ready?: boolean }[] };
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      if (ready) status.phase = 'Running';
      const conds = (status.conditions ??= []);
      for (const type of ['Ready', 'ContainersReady']) {
        const c = conds.find((x) => x.type === type);
        const value = ready ? 'True' : 'False';
        if (c) {
          if (c.status !== value) c.lastTransitionTime = now;
          c.status = value;
        } else conds.push({ type, status: value, lastTransitionTime: now });
      }
      for (const cs of status.containerStatuses ?? []) cs.ready = ready;
    });
    if (!pod) throw notFound('', 'pods', name);
    return structuredClone(pod);
  }
}
