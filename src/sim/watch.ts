// Watch streams: newline-delimited JSON events, resume from a resourceVersion, 410 Gone when the
// log no longer reaches back, periodic BOOKMARKs, timeoutSeconds.
import type { ServerResponse } from 'node:http';
import { gone } from './errors.js';
import { apiVersionOf, resourceKey, type ResourceDef } from './resources.js';
import { matchFields, matchLabels, type FieldRequirement, type LabelSelector } from './selectors.js';
import type { Store } from './store.js';
import type { KObject, StoreEvent } from './types.js';

export interface WatchRequest {
  def: ResourceDef;
  version: string;
  namespace?: string;
  labels: LabelSelector;
  fields: FieldRequirement[];
  resourceVersion?: string;
  allowBookmarks: boolean;
  timeoutSeconds?: number;
  bookmarkIntervalMs: number;
}

/** Rewrites the apiVersion to the version the client asked for (VirtualService v1 and v1beta1 share storage). */
export function present(def: ResourceDef, version: string, obj: KObject): KObject {
  return { ...obj, apiVersion: apiVersionOf(def, version), kind: def.kind };
}

export class WatchHub {
  private readonly open = new Set<() => void>();

  constructor(private readonly store: Store) {}

  serve(w: WatchRequest, res: ServerResponse): void {
    const key = resourceKey(w.def);
    const matches = (o: KObject): boolean =>
      (!w.namespace || o.metadata.namespace === w.namespace) && matchLabels(w.labels, o.metadata.labels) && matchFields(w.fields, o);
    const write = (type: string, object: unknown): void => {
      if (!res.writableEnded) res.write(JSON.stringify({ type, object }) + '\n');
    };
    const send = (e: StoreEvent): void => {
      const now = matches(e.object);
      const before = e.old ? matches(e.old) : false;
      let type: string | undefined;
      if (e.type === 'ADDED') type = now ? 'ADDED' : undefined;
      else if (e.type === 'DELETED') type = now ? 'DELETED' : undefined;
      else if (now && before) type = 'MODIFIED';
      else if (now) type = 'ADDED';
      else if (before) type = 'DELETED';
      if (type) write(type, present(w.def, w.version, e.object));
    };

    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();

    const rv = w.resourceVersion;
    if (rv && rv !== '0') {
      const n = Number(rv);
      const backlog = Number.isFinite(n) ? this.store.eventsSince(w.def, n) : 'gone';
      if (backlog === 'gone') {
        const oldest = this.store.oldestResumableVersion();
        write('ERROR', gone(`too old resource version: ${rv} (${oldest})`).toStatus());
        res.end();
        return;
      }
      for (const e of backlog) send(e);
    } else {
      for (const o of this.store.list(w.def, { namespace: w.namespace, labelSelector: w.labels, fieldSelector: w.fields })) {
        write('ADDED', present(w.def, w.version, o));
      }
    }

    const unsubscribe = this.store.onChange((e) => {
      if (e.resource === key) send(e);
    });
    const timers: NodeJS.Timeout[] = [];
    if (w.allowBookmarks) {
      const bookmark = (): void => write('BOOKMARK', {
        kind: w.def.kind, apiVersion: apiVersionOf(w.def, w.version),
        metadata: { resourceVersion: String(this.store.currentResourceVersion()) },
      });
      timers.push(setInterval(bookmark, w.bookmarkIntervalMs));
    }
    const finish = (): void => {
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      this.open.delete(finish);
      if (!res.writableEnded) res.end();
    };
    if (w.timeoutSeconds !== undefined && w.timeoutSeconds > 0) timers.push(setTimeout(finish, w.timeoutSeconds * 1000));
    this.open.add(finish);
    res.on('close', finish);
  }

  /** Ends every open watch (server shutdown). */
  closeAll(): void {
    for (const f of [...this.open]) f();
  }
}
