// Target resolution from a watch-backed cache: pods, replicasets, deployments, statefulsets,
// namespaces and PodDisruptionBudgets are listed once and then kept current by watches
// (client-node's ListWatch relists on 410 Gone), so a resolution is in-memory: no LIST per run.
import {
  AppsV1Api,
  CoreV1Api,
  ListWatch,
  PolicyV1Api,
  Watch,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ObjectCache,
  type V1Namespace,
  type V1ObjectMeta,
  type V1OwnerReference,
  type V1Pod,
  type V1PodDisruptionBudget,
  type V1ReplicaSet,
} from '@kubernetes/client-node';
import type { Target } from '../experiments/model.js';
import { silentLogger, type Logger } from '../log.js';
import type { BlastRadius, TargetRef } from '../runs/types.js';
import { chooseSeeded, countForMode } from './choose.js';
import { matchesSelector } from './selector.js';
import type { ClusterTargetResolver, PdbStatus, PodInfo, ResolvedTargets, WorkloadCount } from './types.js';

export interface TargetResolverOptions {
  log?: Logger;
  /** First delay before restarting a watch that failed (doubles up to 30 s). Default 500 ms. */
  retryDelayMs?: number;
}

/** Pods per list page. */
const POD_PAGE = 500;

type Cache<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

interface Feed {
  name: string;
  informer: Cache<KubernetesObject>;
  synced: Promise<void>;
}

/** Ready = condition Ready=True and not being deleted. */
export function isPodReady(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function controllerRef(refs: V1OwnerReference[] | undefined): V1OwnerReference | undefined {
  return refs?.find((r) => r.controller) ?? refs?.[0];
}

/**
 * What the resolver reads of a pod, and all its cache keeps: name, namespace, uid, version,
 * labels, deletion mark, owner references, node, container names and the Ready condition.
 * A full pod from the API server is several times that (100,000 of them added 423 MB).
 */
export function slimPod(pod: V1Pod): V1Pod {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  const spec: NonNullable<V1Pod['spec']> = { containers: (pod.spec?.containers ?? []).map((c) => ({ name: intern(c.name) })) };
  if (pod.spec?.nodeName) spec.nodeName = intern(pod.spec.nodeName);
  return { metadata: slimMeta(pod.metadata), spec, status: ready ? { conditions: [{ type: 'Ready', status: intern(ready.status) }] } : {} };
}

// Label keys and values, owner names, nodes and container names repeat across thousands of pods;
// each parsed copy is a separate string, so the cache keeps one of each (a bounded pool: names of
// pods and uids are not pooled).
const pool = new Map<string, string>();
function intern(s: string): string;
function intern(s: string | undefined): string | undefined;
function intern(s: string | undefined): string | undefined {
  if (s === undefined) return s;
  const hit = pool.get(s);
  if (hit !== undefined) return hit;
  if (pool.size < 100_000) pool.set(s, s);
  return s;
}

function internLabels(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) out[intern(k)] = intern(v);
  return out;
}

/** A workload (ReplicaSet, Deployment, StatefulSet) as the resolver reads it: owners and spec.replicas. */
export function slimWorkload<T extends { metadata?: V1ObjectMeta; spec?: { replicas?: number } }>(o: T): T {
  const out = { metadata: slimMeta(o.metadata) } as T;
  if (o.spec?.replicas !== undefined) out.spec = { replicas: o.spec.replicas };
  return out;
}

function slimMeta(m: V1ObjectMeta | undefined): V1ObjectMeta {
  const meta: V1ObjectMeta = { name: m?.name, namespace: intern(m?.namespace), uid: m?.uid, resourceVersion: m?.resourceVersion };
  if (m?.labels) meta.labels = internLabels(m.labels);
  if (m?.deletionTimestamp) meta.deletionTimestamp = m.deletionTimestamp;
  if (m?.ownerReferences?.length) {
    meta.ownerReferences = m.ownerReferences.map((r) => ({ apiVersion: intern(r.apiVersion), kind: intern(r.kind), name: intern(r.name), uid: intern(r.uid), ...(r.controller ? { controller: true } : {}) }));
  }
  return meta;
}

/** A Watch whose ADDED/MODIFIED/DELETED objects are slimmed before the cache stores them. */
class SlimWatch extends Watch {
  constructor(kc: KubeConfig, private readonly slim: (o: never) => KubernetesObject) {
    super(kc);
  }

  override watch(path: string, params: Record<string, string | number | boolean | undefined>, callback: (phase: string, obj: unknown, watchObj?: unknown) => void, done: (err: unknown) => void): Promise<AbortController> {
    return super.watch(path, params, (phase, obj: unknown, watchObj) => {
      callback(phase, phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED' ? this.slim(obj as never) : obj, watchObj);
    }, done);
  }
}

export function createTargetResolver(kc: KubeConfig, opts: TargetResolverOptions = {}): ClusterTargetResolver {
  const log = (opts.log ?? silentLogger).child({ component: 'target-resolver' });
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  let closed = false;

  const feed = <T extends KubernetesObject>(name: string, path: string, list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>, slim?: (o: T) => T): Feed => {
    const listLogged = async (): Promise<{ items: T[]; metadata?: { resourceVersion?: string } }> => {
      log.debug({ resource: name }, 'listing (initial sync or resync after 410 Gone)');
      const res = await list();
      return slim ? { items: res.items.map(slim), metadata: { resourceVersion: res.metadata?.resourceVersion } } : res;
    };
    const watch = slim ? new SlimWatch(kc, slim as (o: never) => KubernetesObject) : new Watch(kc);
    const informer = new ListWatch<T>(path, watch, listLogged as never, false) as unknown as Cache<KubernetesObject>;
    let delay = opts.retryDelayMs ?? 500;
    let markSynced: () => void = () => undefined;
    const synced = new Promise<void>((resolve) => (markSynced = resolve));
    const check = (): void => {
      // The list succeeded when the informer holds a resourceVersion.
      if ((informer as unknown as { latestResourceVersion(): string }).latestResourceVersion()) markSynced();
    };
    let lastError = 0;
    informer.on('error', (err: unknown) => {
      if (closed) return;
      // Back off while failures keep coming; start over after a quiet minute.
      if (Date.now() - lastError > 60_000) delay = opts.retryDelayMs ?? 500;
      lastError = Date.now();
      log.warn({ resource: name, err: (err as Error | undefined)?.message ?? String(err), retryInMs: delay }, 'watch failed; restarting');
      const t = setTimeout(() => {
        if (!closed) void informer.start().then(check, () => undefined);
      }, delay);
      t.unref();
      delay = Math.min(delay * 2, 30_000);
    });
    void informer.start().then(check, () => undefined);
    return { name, informer, synced };
  };

  // Pods are listed in pages, each slimmed before the next: a single list of 100,000 full pods
  // would hold them all (and their JSON text) at once.
  const listPods = async (): Promise<{ items: V1Pod[]; metadata?: { resourceVersion?: string } }> => {
    const items: V1Pod[] = [];
    let token: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await core.listPodForAllNamespaces({ limit: POD_PAGE, _continue: token });
      resourceVersion ??= page.metadata?.resourceVersion;
      for (const p of page.items) items.push(slimPod(p));
      token = page.metadata?._continue || undefined;
    } while (token);
    return { items, metadata: { resourceVersion } };
  };
  const pods = feed<V1Pod>('pods', '/api/v1/pods', listPods, slimPod);
  const replicaSets = feed<V1ReplicaSet>('replicasets', '/apis/apps/v1/replicasets', () => apps.listReplicaSetForAllNamespaces(), slimWorkload);
  const deployments = feed('deployments', '/apis/apps/v1/deployments', () => apps.listDeploymentForAllNamespaces(), slimWorkload);
  const statefulSets = feed('statefulsets', '/apis/apps/v1/statefulsets', () => apps.listStatefulSetForAllNamespaces(), slimWorkload);
  const namespaces = feed<V1Namespace>('namespaces', '/api/v1/namespaces', () => core.listNamespace());
  const pdbs = feed<V1PodDisruptionBudget>('poddisruptionbudgets', '/apis/policy/v1/poddisruptionbudgets', () => policy.listPodDisruptionBudgetForAllNamespaces());
  const feeds = [pods, replicaSets, deployments, statefulSets, namespaces, pdbs];

  /** The owning workload: ReplicaSet → its Deployment when it has one. */
  const ownerOf = (pod: V1Pod): { kind: string; name: string } | undefined => {
    const ref = controllerRef(pod.metadata?.ownerReferences);
    if (!ref) return undefined;
    if (ref.kind === 'ReplicaSet') {
      const rs = replicaSets.informer.get(ref.name, pod.metadata?.namespace) as V1ReplicaSet | undefined;
      const up = controllerRef(rs?.metadata?.ownerReferences);
      if (up?.kind === 'Deployment') return { kind: 'Deployment', name: up.name };
    }
    return { kind: ref.kind, name: ref.name };
  };

  /** The sum of spec.replicas of the distinct controllers owning these pods (a pod without one counts as 1). */
  const expectedScale = (namespace: string, selected: V1Pod[]): number => {
    const seen = new Map<string, number>();
    let loose = 0;
    for (const p of selected) {
      const owner = ownerOf(p);
      if (!owner) {
        loose++;
        continue;
      }
      const key = `${owner.kind}/${owner.name}`;
      if (seen.has(key)) continue;
      const feedOf = owner.kind === 'Deployment' ? deployments : owner.kind === 'StatefulSet' ? statefulSets : owner.kind === 'ReplicaSet' ? replicaSets : undefined;
      const obj = feedOf?.informer.get(owner.name, namespace) as { spec?: { replicas?: number } } | undefined;
      seen.set(key, obj?.spec?.replicas ?? 1);
    }
    let total = loose;
    for (const n of seen.values()) total += n;
    return total;
  };

  const toInfo = (pod: V1Pod): PodInfo => {
    const owner = ownerOf(pod);
    const info: PodInfo = {
      namespace: pod.metadata?.namespace ?? '',
      name: pod.metadata?.name ?? '',
      uid: pod.metadata?.uid ?? '',
      labels: { ...(pod.metadata?.labels ?? {}) },
      ready: isPodReady(pod),
      containers: (pod.spec?.containers ?? []).map((c) => c.name),
    };
    if (pod.spec?.nodeName) info.nodeName = pod.spec.nodeName;
    if (owner) info.owner = owner;
    return info;
  };

  const workloadKey = (p: PodInfo): string => (p.owner ? `${p.owner.kind}/${p.owner.name}` : `Pod/${p.name}`);
  const podsIn = (namespace: string): V1Pod[] => pods.informer.list(namespace) as V1Pod[];

  return {
    resolve(target: Target, seed: number): ResolvedTargets {
      const inNs = podsIn(target.namespace).filter((p) => !p.metadata?.deletionTimestamp);
      const infos = inNs.map(toInfo);
      const candidates = infos
        .filter((p) => p.ready && matchesSelector(target.selector, p.labels))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const chosen = chooseSeeded(candidates, countForMode(target.mode, candidates.length), seed);

      const counts = new Map<string, WorkloadCount>();
      const hits = new Map<string, number>();
      for (const p of chosen) hits.set(workloadKey(p), (hits.get(workloadKey(p)) ?? 0) + 1);
      for (const p of infos) {
        const key = workloadKey(p);
        if (!hits.has(key)) continue;
        const c = counts.get(key) ?? { workload: key, namespace: target.namespace, ready: 0, total: 0 };
        c.total++;
        if (p.ready) c.ready++;
        counts.set(key, c);
      }
      const workloads = [...counts.values()].sort((a, b) => (a.workload < b.workload ? -1 : 1));
      const blastRadius: BlastRadius[] = workloads.map((w) => {
        const hit = hits.get(w.workload) ?? 0;
        return { workload: w.workload, namespace: w.namespace, hit, ready: w.ready, percent: w.ready ? Math.round((hit / w.ready) * 10_000) / 100 : 100 };
      });
      const refs: TargetRef[] = chosen.map((p) => ({ kind: 'Pod', namespace: p.namespace, name: p.name, owner: workloadKey(p) }));
      return { seed, candidates: candidates.length, pods: chosen, refs, workloads, blastRadius };
    },

    namespaceLabels(namespace: string): Record<string, string> | undefined {
      const ns = namespaces.informer.get(namespace) as V1Namespace | undefined;
      return ns ? { ...(ns.metadata?.labels ?? {}) } : undefined;
    },

    disruptionBudgets(namespace: string, chosen: PodInfo[]): PdbStatus[] {
      const out: PdbStatus[] = [];
      const live = podsIn(namespace).filter((p) => !p.metadata?.deletionTimestamp);
      const chosenNames = new Set(chosen.filter((p) => p.namespace === namespace).map((p) => p.name));
      for (const pdb of pdbs.informer.list(namespace) as V1PodDisruptionBudget[]) {
        const selector = pdb.spec?.selector;
        // A PDB with no selector selects nothing (policy/v1 semantics for a nil selector).
        if (!selector) continue;
        const sel = { matchLabels: selector.matchLabels, matchExpressions: selector.matchExpressions as never };
        const selected = live.filter((p) => matchesSelector(sel, p.metadata?.labels));
        const hit = selected.filter((p) => chosenNames.has(p.metadata?.name ?? '') && isPodReady(p)).length;
        if (hit === 0) continue;
        // As the disruption controller does: an integer minAvailable counts the pods; a
        // maxUnavailable or a percentage counts the owning controllers' desired scale.
        const byScale = pdb.spec?.maxUnavailable !== undefined || typeof pdb.spec?.minAvailable === 'string';
        const status: PdbStatus = {
          name: pdb.metadata?.name ?? '',
          namespace,
          expected: byScale ? expectedScale(namespace, selected) : selected.length,
          healthy: selected.filter(isPodReady).length,
          hit,
        };
        if (pdb.spec?.minAvailable !== undefined) status.minAvailable = pdb.spec.minAvailable;
        if (pdb.spec?.maxUnavailable !== undefined) status.maxUnavailable = pdb.spec.maxUnavailable;
        out.push(status);
      }
      return out;
    },

    podCount(): number {
      return pods.informer.list().length;
    },

    async ready(): Promise<void> {
      await Promise.all(feeds.map((f) => f.synced));
    },

    close(): void {
      closed = true;
      for (const f of feeds) void f.informer.stop();
    },
  };
}
