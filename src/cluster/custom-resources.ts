// Experiments as custom resources: ChaosExperiment and ChaosWorkflow objects (faultline.dev/v1alpha1)
// in every namespace, kept by a watch (client-node ListWatch, relist on 410), handed to the
// desired state as files so that they are loaded, validated, hashed, guarded, queued and
// reverted exactly as files from Git are. A resource's file path says where it lives:
// `k8s:<namespace>/<plural>/<name>` (a name clash with Git names both places).
import { createHash } from 'node:crypto';
import { CustomObjectsApi, ListWatch, PatchStrategy, setHeaderOptions, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { silentLogger, type Logger } from '../log.js';
import type { SourceFile } from '../source/types.js';

export const CR_PATH_PREFIX = 'k8s:';
const EXPERIMENTS = { group: 'faultline.dev', version: 'v1alpha1', plural: 'chaosexperiments' } as const;
const WORKFLOWS = { group: 'faultline.dev', version: 'v1alpha1', plural: 'chaosworkflows' } as const;

export interface CustomObject extends KubernetesObject {
  metadata: { name: string; namespace: string; labels?: Record<string, string>; generation?: number; uid?: string; resourceVersion?: string };
  spec?: unknown;
  status?: Record<string, unknown>;
}

export interface CustomResourceRef {
  namespace: string;
  plural: string;
  name: string;
}

export function crPath(namespace: string, plural: string, name: string): string {
  return `${CR_PATH_PREFIX}${namespace}/${plural}/${name}`;
}

/** The resource a desired-state path stands for, or undefined for a Git path. */
export function parseCrPath(path: string): CustomResourceRef | undefined {
  if (!path.startsWith(CR_PATH_PREFIX)) return undefined;
  const [namespace, plural, name] = path.slice(CR_PATH_PREFIX.length).split('/');
  return namespace && plural && name ? { namespace, plural, name } : undefined;
}

/**
 * The document a resource is loaded as: what a file in Git holding the same experiment says.
 * Only name and labels of the metadata (annotations carry tools' bookkeeping, such as kubectl's
 * last-applied-configuration, that is no part of the experiment).
 */
export function crDocument(o: CustomObject): string {
  const metadata: Record<string, unknown> = { name: o.metadata.name };
  if (o.metadata.labels && Object.keys(o.metadata.labels).length) metadata.labels = o.metadata.labels;
  return stringify({ apiVersion: o.apiVersion, kind: o.kind, metadata, spec: o.spec ?? null });
}

function fileOf(plural: string, o: CustomObject): SourceFile {
  const text = crDocument(o);
  const content = new TextEncoder().encode(text);
  // a blob id of its own kind: the parse cache keys on it, as on a Git blob's
  return { path: crPath(o.metadata.namespace, plural, o.metadata.name), oid: createHash('sha1').update(content).digest('hex'), content };
}

export interface CustomResourceSourceOptions {
  log?: Logger;
  /** Called after any change (debounced by the caller's queue). */
  onChange?: () => void;
  retryDelayMs?: number;
}

/** The custom resources as files; `diff()` says what changed since the last call. */
export class CustomResourceSource {
  private readonly log: Logger;
  private readonly informers: { plural: string; informer: ListWatch<CustomObject> }[] = [];
  private readonly custom: CustomObjectsApi;
  private taken = new Map<string, string>(); // path → oid as last handed out
  private closed = false;
  private readonly syncs: Promise<void>[] = [];

  constructor(kc: KubeConfig, private readonly opts: CustomResourceSourceOptions = {}) {
    this.log = (opts.log ?? silentLogger).child({ component: 'custom-resources' });
    this.custom = kc.makeApiClient(CustomObjectsApi);
    const lists = {
      chaosexperiments: () => this.custom.listClusterCustomObject({ ...EXPERIMENTS }) as Promise<{ items: CustomObject[] }>,
      chaosworkflows: () => this.custom.listClusterCustomObject({ ...WORKFLOWS }) as Promise<{ items: CustomObject[] }>,
    };
    this.watch(kc, 'chaosexperiments', '/apis/faultline.dev/v1alpha1/chaosexperiments', lists.chaosexperiments);
    this.watch(kc, 'chaosworkflows', '/apis/faultline.dev/v1alpha1/chaosworkflows', lists.chaosworkflows);
  }

  private watch(kc: KubeConfig, plural: string, path: string, list: () => Promise<{ items: CustomObject[] }>): void {
    const informer = new ListWatch<CustomObject>(path, new Watch(kc), list as never, false);
    let delay = this.opts.retryDelayMs ?? 1000;
    let markSynced: () => void = () => undefined;
    this.syncs.push(new Promise<void>((resolve) => (markSynced = resolve)));
    const changed = () => this.opts.onChange?.();
    // start() resolves after a failed list too: listed only when the informer holds a resourceVersion
    const listed = () => {
      if ((informer as unknown as { latestResourceVersion(): string }).latestResourceVersion()) {
        markSynced();
        changed();
      }
    };
    for (const ev of ['add', 'update', 'delete'] as const) informer.on(ev, changed);
    informer.on('error', (err: unknown) => {
      if (this.closed) return;
      this.log.warn({ resource: plural, err: (err as Error | undefined)?.message ?? String(err), retryInMs: delay }, 'custom resource watch failed; restarting');
      const t = setTimeout(() => {
        if (!this.closed) void informer.start().then(listed, () => undefined);
      }, delay);
      t.unref();
      delay = Math.min(delay * 2, 10_000);
    });
    void informer.start().then(listed, () => undefined);
    this.informers.push({ plural, informer });
  }

  /** Resolves when both resources have been listed once (or after `timeoutMs`, whichever first). */
  async synced(timeoutMs = 10_000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([Promise.all(this.syncs).then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]);
    clearTimeout(timer);
    return ok;
  }

  /** Every resource as a file. */
  files(): SourceFile[] {
    const out: SourceFile[] = [];
    for (const { plural, informer } of this.informers) for (const o of informer.list()) out.push(fileOf(plural, o));
    return out.sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  /** What changed since the last `diff()` (or `files()` taken with `reset`). */
  diff(): { changed: SourceFile[]; deleted: string[]; all: SourceFile[] } {
    const all = this.files();
    const now = new Map(all.map((f) => [f.path, f.oid]));
    const changed = all.filter((f) => this.taken.get(f.path) !== f.oid);
    const deleted = [...this.taken.keys()].filter((p) => !now.has(p));
    this.taken = now;
    return { changed, deleted, all };
  }

  /** Forget what was handed out: the next diff hands out everything (after a full reload). */
  forget(): void {
    this.taken = new Map();
  }

  get(ref: CustomResourceRef): CustomObject | undefined {
    return this.informers.find((i) => i.plural === ref.plural)?.informer.get(ref.name, ref.namespace);
  }

  /** Merge-patches the status subresource (never the spec: the status endpoint ignores it). */
  async patchStatus(ref: CustomResourceRef, status: Record<string, unknown>): Promise<void> {
    const opts = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const body = { status };
    if (ref.plural === 'chaosworkflows') await this.custom.patchNamespacedCustomObjectStatus({ ...WORKFLOWS, namespace: ref.namespace, name: ref.name, body }, opts);
    else await this.custom.patchNamespacedCustomObjectStatus({ ...EXPERIMENTS, namespace: ref.namespace, name: ref.name, body }, opts);
  }

  close(): void {
    this.closed = true;
    for (const { informer } of this.informers) void informer.stop();
  }
}
