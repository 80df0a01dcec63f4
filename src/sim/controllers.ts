// Controller behaviour the way a cluster shows it: Deployment → ReplicaSet → Pods, StatefulSets,
// a scheduler that skips cordoned nodes, a kubelet that starts pods and ephemeral containers,
// PDB status, garbage collection by ownerReferences and namespace termination.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { silentLogger } from '../log.js';
import { ApiError } from './errors.js';
import { injectorCommand, InjectorSim, type InjectorBehaviour } from './injector.js';
import { fromLabelSelectorObject, matchLabels } from './selectors.js';
import { randomSuffix, type SimStore } from './store.js';
import type { KObject, OwnerReference, StoreEvent } from './types.js';

export interface ControllerOptions {
  /** Delay before a controller creates a missing pod (default 1000 ms). */
  recreateDelayMs?: number;
  /** Delay between a pod being bound to a node and it running Ready (default 300 ms). */
  readyDelayMs?: number;
  log?: Logger;
  /** Faultline injector behaviour (results, test hooks). */
  injectors?: InjectorSim;
}

interface EphemeralSpec { name: string; image?: string; command?: string[]; args?: string[]; targetContainerName?: string }
interface PodSpec { nodeName?: string; nodeSelector?: Record<string, string>; containers?: { name: string; image?: string }[]; ephemeralContainers?: EphemeralSpec[] }
interface Condition { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string; lastProbeTime?: string | null }
interface ContainerStatus { name: string; ready?: boolean; state?: Record<string, Record<string, unknown>>; [k: string]: unknown }
interface PodStatus { phase?: string; conditions?: Condition[]; containerStatuses?: ContainerStatus[]; ephemeralContainerStatuses?: ContainerStatus[]; [k: string]: unknown }

const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export function isPodReady(p: KObject): boolean {
  const st = (p.status ?? {}) as PodStatus;
  return st.phase === 'Running' && !!st.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

function isActive(p: KObject): boolean {
  const phase = (p.status as PodStatus | undefined)?.phase;
  return !p.metadata.deletionTimestamp && phase !== 'Failed' && phase !== 'Succeeded';
}

function controllerOf(o: KObject): OwnerReference | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller);
}

function ownedBy(o: KObject, uid: string | undefined): boolean {
  return !!uid && !!o.metadata.ownerReferences?.some((r) => r.uid === uid);
}

function ownerRef(o: KObject): OwnerReference {
  return { apiVersion: o.apiVersion ?? 'apps/v1', kind: o.kind ?? '', name: o.metadata.name, uid: o.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

function templateHash(template: unknown): string {
  const h = createHash('sha256').update(JSON.stringify(template ?? {})).digest();
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (let i = 0; i < 10; i++) s += alphabet[h[i]! % alphabet.length];
  return s;
}

function setCondition(conds: Condition[], c: Condition): void {
  const cur = conds.find((x) => x.type === c.type);
  if (!cur) conds.push({ ...c, lastTransitionTime: now() });
  else {
    if (cur.status !== c.status) cur.lastTransitionTime = now();
    cur.status = c.status;
    if (c.reason !== undefined) cur.reason = c.reason;
    if (c.message !== undefined) cur.message = c.message;
  }
}

const SLICE = 5_000;

export class Controllers {
  // FIFO of keys with a set for de-duplication. A Set alone is quadratic here: taking its first
  // entry walks over every slot deleted since its last rehash (100,000 pods = minutes).
  private queue: string[] = [];
  private queueHead = 0;
  private readonly queued = new Set<string>();
  private drainScheduled = false;
  private seeding = false;
  private readonly starting = new Set<string>();
  private readonly pendingCreates = new Map<string, number>();
  private readonly ephemeralTimers = new Set<string>();
  private ipCounter = 10;
  /** Pods per node, counted once per drain and kept up to date by the scheduler's own bindings. */
  private nodeLoad?: Map<string, number>;
  private readonly recreateDelayMs: number;
  private readonly readyDelayMs: number;
  private readonly log: Logger;
  readonly injectors: InjectorSim;
  private unsubscribe?: () => void;

  constructor(private readonly store: SimStore, opts: ControllerOptions = {}) {
    this.recreateDelayMs = opts.recreateDelayMs ?? 1000;
    this.readyDelayMs = opts.readyDelayMs ?? 300;
    this.log = opts.log ?? silentLogger;
    this.injectors = opts.injectors ?? new InjectorSim();
  }

  start(): void {
    this.unsubscribe = this.store.onChange((e) => this.observe(e));
  }

  stop(): void {
    this.unsubscribe?.();
  }

  /** Seeds: every delay is zero and all work is done before this returns. */
  settleNow(fn: () => void): void {
    this.seeding = true;
    try {
      fn();
      this.drain();
    } finally {
      this.seeding = false;
    }
  }

  private later(ms: number, fn: () => void): void {
    if (this.seeding) fn();
    else this.store.later(ms, fn);
  }

  private enqueue(key: string): void {
    if (!this.queued.has(key)) {
      this.queued.add(key);
      this.queue.push(key);
    }
    if (this.seeding || this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      if (!this.store.isClosed()) this.drain();
    });
  }

  // Works the queue until it is empty. Outside seeding it yields to the event loop every
  // SLICE keys (the API keeps answering while 100,000 pods start); seeding runs to the end.
  private drain(): void {
    this.nodeLoad = undefined;
    let done = 0;
    while (this.queued.size) {
      if (!this.seeding && done++ >= SLICE) {
        this.drainScheduled = true;
        setImmediate(() => {
          this.drainScheduled = false;
          if (!this.store.isClosed()) this.drain();
        });
        return;
      }
      const key = this.queue[this.queueHead++]!;
      this.queued.delete(key);
      if (this.queueHead >= 4096 && this.queueHead * 2 >= this.queue.length) {
        this.queue = this.queue.slice(this.queueHead);
        this.queueHead = 0;
      }
      try {
        this.reconcile(key);
      } catch (err) {
        // Conflicts and vanished objects are normal races; the next event re-queues the key.
        if (!(err instanceof ApiError)) this.log.error({ err, key }, 'sim controller failed');
      }
    }
  }

  private observe(e: StoreEvent): void {
    const o = e.object;
    const ns = o.metadata.namespace ?? '';
    const name = o.metadata.name;
    switch (e.resource) {
      case 'apps/deployments': this.enqueue(`dep|${ns}|${name}`); break;
      case 'apps/replicasets': {
        this.enqueue(`rs|${ns}|${name}`);
        const owner = controllerOf(o);
        if (owner?.kind === 'Deployment') this.enqueue(`dep|${ns}|${owner.name}`);
        break;
      }
      case 'apps/statefulsets': this.enqueue(`sts|${ns}|${name}`); break;
      case 'pods': {
        // the old owner too when the controller reference changed, as the ReplicaSet controller does
        for (const owner of [controllerOf(o), e.old ? controllerOf(e.old) : undefined]) {
          if (owner?.kind === 'ReplicaSet') this.enqueue(`rs|${ns}|${owner.name}`);
          if (owner?.kind === 'StatefulSet') this.enqueue(`sts|${ns}|${owner.name}`);
        }
        if (e.type !== 'DELETED') this.enqueue(`pod|${ns}|${name}`);
        for (const pdb of this.store.peek('poddisruptionbudgets', { namespace: ns })) this.enqueue(`pdb|${ns}|${pdb.metadata.name}`);
        break;
      }
      case 'policy/poddisruptionbudgets': if (e.type !== 'DELETED') this.enqueue(`pdb|${ns}|${name}`); break;
      case 'nodes': this.enqueue('nodes'); break;
      case 'namespaces': if (e.type !== 'DELETED' && o.metadata.deletionTimestamp) this.enqueue(`ns||${name}`); break;
    }
    if (e.type === 'DELETED') {
      if (['apps/deployments', 'apps/replicasets', 'apps/statefulsets'].includes(e.resource)) this.enqueue(`gc|${ns}|${o.metadata.uid}`);
      if (ns) {
        const nsObj = this.store.peekOne('namespaces', undefined, ns);
        if (nsObj?.metadata.deletionTimestamp) this.enqueue(`ns||${ns}`);
      }
    }
  }

  private reconcile(key: string): void {
    const [kind, ns, name] = key.split('|') as [string, string, string];
    switch (kind) {
      case 'dep': return this.deployment(ns, name);
      case 'rs': return this.replicaSet(ns, name);
      case 'sts': return this.statefulSet(ns, name);
      case 'pod': return this.pod(ns, name);
      case 'pdb': return this.pdb(ns, name);
      case 'nodes':
        for (const p of this.store.peek('pods', { fieldSelector: 'spec.nodeName=' })) this.enqueue(`pod|${p.metadata.namespace}|${p.metadata.name}`);
        return;
      case 'ns': return this.namespace(name);
      case 'gc': return this.collect(ns, name);
    }
  }

  private deployment(ns: string, name: string): void {
    const dep = this.store.peekOne('deployments', ns, name);
    if (!dep || dep.metadata.deletionTimestamp) return;
    const spec = dep.spec as { replicas?: number; selector?: { matchLabels?: Record<string, string> }; template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: unknown } };
    const replicas = spec.replicas ?? 1;
    const hash = templateHash(spec.template);
    const rsName = `${name}-${hash}`;
    const owned = this.store.peekOwned('replicasets', ns, dep.metadata.uid);
    let current = owned.find((rs) => rs.metadata.name === rsName);
    if (!current) {
      const labels = { ...(spec.template?.metadata?.labels ?? {}), 'pod-template-hash': hash };
      const revision = String(owned.length + 1);
      current = this.store.create('replicasets', {
        apiVersion: 'apps/v1', kind: 'ReplicaSet',
        metadata: { name: rsName, namespace: ns, labels, annotations: { 'deployment.kubernetes.io/desired-replicas': String(replicas), 'deployment.kubernetes.io/revision': revision }, ownerReferences: [ownerRef(dep)] },
        spec: { replicas, selector: { ...(spec.selector ?? {}), matchLabels: { ...(spec.selector?.matchLabels ?? {}), 'pod-template-hash': hash } },
          template: { ...(spec.template ?? {}), metadata: { ...(spec.template?.metadata ?? {}), labels } } },
      });
    } else if ((current.spec as { replicas?: number }).replicas !== replicas) {
      current = this.store.mutate('replicasets', ns, rsName, (rs) => {
        rs.spec = { ...rs.spec, replicas };
        rs.metadata.annotations = { ...(rs.metadata.annotations ?? {}), 'deployment.kubernetes.io/desired-replicas': String(replicas) };
      })!;
    }
    // A changed template rolls at once: old ReplicaSets go to zero.
    for (const rs of owned) {
      if (rs.metadata.name !== rsName && (rs.spec as { replicas?: number }).replicas !== 0) {
        this.store.mutate('replicasets', ns, rs.metadata.name, (o) => { o.spec = { ...o.spec, replicas: 0 }; });
      }
    }
    const all = this.store.peekOwned('replicasets', ns, dep.metadata.uid);
    const sum = (f: string): number => all.reduce((n, rs) => n + Number((rs.status as Record<string, number> | undefined)?.[f] ?? 0), 0);
    const cur = (current.status ?? {}) as Record<string, number>;
    const ready = sum('readyReplicas');
    this.store.mutate('deployments', ns, name, (d) => {
      const st = (d.status ?? {}) as Record<string, unknown>;
      const conds = [...((st.conditions as Condition[] | undefined) ?? [])];
      setCondition(conds, { type: 'Available', status: ready >= replicas ? 'True' : 'False', reason: ready >= replicas ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', message: ready >= replicas ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.' });
      setCondition(conds, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` });
      const status: Record<string, unknown> = {
        observedGeneration: d.metadata.generation, replicas: sum('replicas'), updatedReplicas: cur.replicas ?? 0,
        readyReplicas: ready, availableReplicas: sum('availableReplicas'), conditions: conds,
      };
      const unavailable = Math.max(0, replicas - ready);
      if (unavailable) status.unavailableReplicas = unavailable;
      d.status = status;
    });
  }

  private podFromTemplate(owner: KObject, name: string, extraLabels: Record<string, string> = {}): KObject {
    const tpl = ((owner.spec as { template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> } }).template) ?? {};
    return {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name, namespace: owner.metadata.namespace, labels: { ...(tpl.metadata?.labels ?? {}), ...extraLabels },
        ...(tpl.metadata?.annotations ? { annotations: tpl.metadata.annotations } : {}), ownerReferences: [ownerRef(owner)] },
      spec: { restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', ...(structuredClone(tpl.spec) ?? {}) },
      status: { phase: 'Pending', qosClass: 'BestEffort' },
    };
  }

  private replicaSet(ns: string, name: string): void {
    const rs = this.store.peekOne('replicasets', ns, name);
    if (!rs || rs.metadata.deletionTimestamp) return;
    const want = (rs.spec as { replicas?: number }).replicas ?? 1;
    const pods = this.store.peekOwned('pods', ns, rs.metadata.uid);
    const active = pods.filter(isActive);
    const uid = rs.metadata.uid!;
    const inFlight = this.pendingCreates.get(uid) ?? 0;
    const missing = want - active.length - inFlight;
    // Seeding runs each delayed create at once, so the pods alive are the active ones plus those
    // created in this loop; counting them again per create would be quadratic in the replicas.
    let created = 0;
    for (let i = 0; i < missing; i++) {
      this.pendingCreates.set(uid, (this.pendingCreates.get(uid) ?? 0) + 1);
      this.later(this.recreateDelayMs, () => {
        this.pendingCreates.set(uid, (this.pendingCreates.get(uid) ?? 1) - 1);
        const now = this.store.peekOne('replicasets', ns, name);
        if (!now || now.metadata.uid !== uid || now.metadata.deletionTimestamp) return;
        const alive = this.seeding ? active.length + created : this.store.peekOwned('pods', ns, uid).filter(isActive).length;
        if (alive >= ((now.spec as { replicas?: number }).replicas ?? 1)) return;
        try {
          this.store.create('pods', this.podFromTemplate(now, `${name}-${randomSuffix()}`));
          created++;
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
        }
      });
    }
    if (active.length > want) {
      // Scale down: unscheduled first, then not ready, then the newest.
      const victims = [...active].sort((a, b) => {
        const score = (p: KObject): number => ((p.spec as PodSpec).nodeName ? 2 : 0) + (isPodReady(p) ? 1 : 0);
        return score(a) - score(b) || (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '');
      }).slice(0, active.length - want);
      for (const v of victims) this.store.delete('pods', ns, v.metadata.name);
    }
    const ready = active.filter(isPodReady).length;
    this.store.mutate('replicasets', ns, name, (o) => {
      o.status = { replicas: active.length, fullyLabeledReplicas: active.length, readyReplicas: ready, availableReplicas: ready, observedGeneration: o.metadata.generation };
    });
  }

  private statefulSet(ns: string, name: string): void {
    const sts = this.store.peekOne('statefulsets', ns, name);
    if (!sts || sts.metadata.deletionTimestamp) return;
    const want = (sts.spec as { replicas?: number }).replicas ?? 1;
    const uid = sts.metadata.uid!;
    const pods = this.store.peekOwned('pods', ns, uid);
    const revision = `${name}-${templateHash((sts.spec as { template?: unknown }).template)}`;
    const names = new Set(pods.map((p) => p.metadata.name));
    for (let i = 0; i < want; i++) {
      const podName = `${name}-${i}`;
      const flightKey = `${uid}/${i}`;
      if (names.has(podName) || this.pendingCreates.get(flightKey)) continue;
      // a pod of another owner with this name blocks creation until it is gone
      if (this.store.peekOne('pods', ns, podName)) continue;
      this.pendingCreates.set(flightKey, 1);
      this.later(this.recreateDelayMs, () => {
        this.pendingCreates.delete(flightKey);
        const now = this.store.peekOne('statefulsets', ns, name);
        if (!now || now.metadata.uid !== uid || now.metadata.deletionTimestamp) return;
        if (i >= ((now.spec as { replicas?: number }).replicas ?? 1) || this.store.peekOne('pods', ns, podName)) return;
        try {
          this.store.create('pods', this.podFromTemplate(now, podName, {
            'statefulset.kubernetes.io/pod-name': podName, 'apps.kubernetes.io/pod-index': String(i), 'controller-revision-hash': revision,
          }));
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
        }
      });
    }
    for (const p of pods) {
      const ordinal = Number(p.metadata.name.slice(name.length + 1));
      if (isActive(p) && ordinal >= want) this.store.delete('pods', ns, p.metadata.name);
    }
    const active = this.store.peekOwned('pods', ns, uid).filter(isActive);
    const ready = active.filter(isPodReady).length;
    this.store.mutate('statefulsets', ns, name, (o) => {
      o.status = { observedGeneration: o.metadata.generation, replicas: active.length, readyReplicas: ready, currentReplicas: active.length,
        updatedReplicas: active.length, availableReplicas: ready, currentRevision: revision, updateRevision: revision, collisionCount: 0 };
    });
  }

  /** Scheduler + kubelet for one pod. */
  private pod(ns: string, name: string): void {
    const pod = this.store.peekOne('pods', ns, name);
    if (!pod || pod.metadata.deletionTimestamp) return;
    const spec = pod.spec as PodSpec;
    const status = (pod.status ?? {}) as PodStatus;
    if (!spec.nodeName) return this.schedule(pod);
    if ((status.phase ?? 'Pending') === 'Pending' && !this.starting.has(pod.metadata.uid!)) {
      const uid = pod.metadata.uid!;
      this.starting.add(uid);
      this.later(this.readyDelayMs, () => {
        this.starting.delete(uid);
        this.startPod(ns, name, uid);
      });
    }
    if (status.phase === 'Running') this.imageChanges(pod);
    this.ephemeral(pod);
  }

  /** The kubelet restarts a container whose image was changed (the one pod-spec change allowed). */
  private imageChanges(pod: KObject): void {
    const spec = pod.spec as PodSpec;
    const want = new Map((spec.containers ?? []).map((c) => [c.name, c.image ?? '']));
    const stale = ((pod.status ?? {}) as PodStatus).containerStatuses?.some((c) => want.has(c.name) && want.get(c.name) !== c.image);
    if (!stale) return;
    const started = now();
    this.store.mutate('pods', pod.metadata.namespace!, pod.metadata.name, (p) => {
      for (const c of ((p.status ?? {}) as PodStatus).containerStatuses ?? []) {
        const image = want.get(c.name);
        if (image === undefined || image === c.image) continue;
        Object.assign(c, {
          lastState: { terminated: { exitCode: 137, reason: 'Error', startedAt: c.state?.running?.startedAt ?? started, finishedAt: started, containerID: c.containerID } },
          image, imageID: `${image}@sha256:sim`, containerID: `containerd://${randomSuffix(12)}`, restartCount: Number(c.restartCount ?? 0) + 1,
          state: { running: { startedAt: started } },
        });
      }
    });
  }

  private schedule(pod: KObject): void {
    const spec = pod.spec as PodSpec;
    const nodes = this.store.peek('nodes').filter((n) => !(n.spec as { unschedulable?: boolean } | undefined)?.unschedulable)
      .filter((n) => matchLabels(fromLabelSelectorObject({ matchLabels: spec.nodeSelector ?? {} }), n.metadata.labels));
    const ns = pod.metadata.namespace!;
    if (!nodes.length) {
      const total = this.store.peek('nodes').length;
      this.store.mutate('pods', ns, pod.metadata.name, (p) => {
        const st = (p.status ?? {}) as PodStatus;
        const conds = [...(st.conditions ?? [])];
        setCondition(conds, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: `0/${total} nodes are available: ${total} node(s) were unschedulable.`, lastProbeTime: null });
        p.status = { ...st, phase: 'Pending', conditions: conds };
      });
      return;
    }
    if (!this.nodeLoad) {
      this.nodeLoad = new Map();
      for (const p of this.store.scan('pods')) {
        const n = (p.spec as PodSpec).nodeName;
        if (n && !p.metadata.deletionTimestamp) this.nodeLoad.set(n, (this.nodeLoad.get(n) ?? 0) + 1);
      }
    }
    const load = this.nodeLoad;
    // the least loaded node, ties by name (one pass, not a sort per pod)
    let target = nodes[0]!.metadata.name;
    for (const n of nodes) {
      const name = n.metadata.name;
      const d = (load.get(name) ?? 0) - (load.get(target) ?? 0);
      if (d < 0 || (d === 0 && name.localeCompare(target) < 0)) target = name;
    }
    load.set(target, (load.get(target) ?? 0) + 1);
    this.store.mutate('pods', ns, pod.metadata.name, (p) => {
      p.spec = { ...p.spec, nodeName: target };
      const st = (p.status ?? {}) as PodStatus;
      const conds = [...(st.conditions ?? [])];
      setCondition(conds, { type: 'PodScheduled', status: 'True' });
      const sc = conds.find((c) => c.type === 'PodScheduled')!;
      delete sc.reason;
      delete sc.message;
      p.status = { ...st, phase: 'Pending', conditions: conds };
    });
  }

  private startPod(ns: string, name: string, uid: string): void {
    const pod = this.store.peekOne('pods', ns, name);
    if (!pod || pod.metadata.uid !== uid || pod.metadata.deletionTimestamp) return;
    const spec = pod.spec as PodSpec;
    const node = this.store.peekOne('nodes', undefined, spec.nodeName!);
    const started = now();
    const ip = this.ipCounter++;
    this.store.mutate('pods', ns, name, (p) => {
      const st = (p.status ?? {}) as PodStatus;
      const conds = [...(st.conditions ?? [])];
      for (const type of ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']) setCondition(conds, { type, status: 'True' });
      const hostIP = (node?.status as { addresses?: { type: string; address: string }[] } | undefined)?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '10.0.0.1';
      p.status = {
        ...st, phase: 'Running', conditions: conds, hostIP, hostIPs: [{ ip: hostIP }],
        podIP: `10.244.${Math.floor(ip / 250) % 250}.${(ip % 250) + 2}`, startTime: started,
        containerStatuses: (spec.containers ?? []).map((c) => ({
          name: c.name, image: c.image ?? '', imageID: `${c.image ?? ''}@sha256:sim`, containerID: `containerd://${randomSuffix(12)}`,
          ready: true, started: true, restartCount: 0, state: { running: { startedAt: started } },
        })),
      };
      p.status.podIPs = [{ ip: p.status.podIP }];
    });
  }

  /**
   * Ephemeral containers added through the subresource: waiting (ContainerCreating), then running
   * after the start delay. A Faultline injector then follows its result protocol (see injector.ts);
   * any other container with a `sleep N` in its command ends after N s.
   */
  private ephemeral(pod: KObject): void {
    const spec = pod.spec as PodSpec;
    const st = (pod.status ?? {}) as PodStatus;
    const known = new Set((st.ephemeralContainerStatuses ?? []).map((c) => c.name));
    const fresh = (spec.ephemeralContainers ?? []).filter((c) => !known.has(c.name));
    if (!fresh.length) return;
    const ns = pod.metadata.namespace!;
    const name = pod.metadata.name;
    const uid = pod.metadata.uid!;
    const behaviours = new Map(fresh.map((c) => [c.name, injectorCommand(c.command) ? this.injectors.behaviour({ namespace: ns, name }, c.name) : {}]));
    this.store.mutate('pods', ns, name, (p) => {
      const s = (p.status ??= {}) as PodStatus;
      s.ephemeralContainerStatuses = [...(s.ephemeralContainerStatuses ?? []), ...fresh.map((c) => {
        const b = behaviours.get(c.name)!;
        return {
          name: c.name, image: c.image ?? '', imageID: '', ready: false, restartCount: 0,
          state: { waiting: b.neverStart ? { reason: b.neverStart.reason, message: b.neverStart.message } : { reason: 'ContainerCreating' } },
        };
      })];
    });
    for (const c of fresh) {
      const b = behaviours.get(c.name)!;
      const timerKey = `${uid}/${c.name}`;
      if (b.neverStart || this.ephemeralTimers.has(timerKey)) continue;
      this.ephemeralTimers.add(timerKey);
      this.store.later(b.startDelayMs ?? this.readyDelayMs, () => {
        this.ephemeralTimers.delete(timerKey);
        this.startEphemeral(ns, name, uid, c, b);
      });
    }
  }

  private startEphemeral(ns: string, name: string, uid: string, c: EphemeralSpec, b: InjectorBehaviour): void {
    const pod = this.store.peekOne('pods', ns, name);
    if (!pod || pod.metadata.uid !== uid || pod.metadata.deletionTimestamp) return;
    const started = now();
    this.store.mutate('pods', ns, name, (p) => {
      const eph = ((p.status ?? {}) as PodStatus).ephemeralContainerStatuses?.find((x) => x.name === c.name);
      if (!eph) return;
      eph.state = { running: { startedAt: started } };
      eph.containerID = `containerd://${randomSuffix(12)}`;
      eph.imageID = `${c.image ?? ''}@sha256:sim`;
    });
    const inj = injectorCommand(c.command);
    const end = (ms: number, exitCode: number, message: string) => this.store.later(ms, () => {
      const cur = this.store.peekOne('pods', ns, name);
      const eph = ((cur?.status ?? {}) as PodStatus).ephemeralContainerStatuses?.find((x) => x.name === c.name);
      if (!eph?.state?.running) return;
      this.injectors.results.set(`${uid}/${c.name}`, message);
      terminateContainer(this.store, ns, name, c.name, exitCode, exitCode === 0 ? 'Completed' : 'Error', uid, message);
    });
    if (!inj) {
      const m = /\bsleep\s+"?(\d+(?:\.\d+)?)\b/.exec(expandShell([...(c.command ?? []), ...(c.args ?? [])]));
      if (m) this.store.later(Number(m[1]) * 1000, () => terminateContainer(this.store, ns, name, c.name, 0, 'Completed', uid));
      return;
    }
    const key = `${uid}/${c.name}`;
    this.injectors.results.set(key, 'starting');
    const notAfter = Number(c.command?.[5] ?? 0);
    if (inj.mode === 'clean') return end(10, 0, 'reverted');
    if (Date.now() / 1000 > notAfter) return end(10, 3, `failed: start: started after the run's start deadline ${notAfter}`);
    if (b.fail) return end(10, 3, `failed: ${b.fail}`);
    this.injectors.results.set(key, 'applied');
    if (inj.kill) {
      if (!b.ignoreTerm && c.targetContainerName) terminateContainer(this.store, ns, name, c.targetContainerName, 143, 'Error', uid);
      return end(10, 0, 'applied');
    }
    end(inj.durationS * 1000, 0, 'reverted');
  }

  private pdb(ns: string, name: string): void {
    const pdb = this.store.peekOne('poddisruptionbudgets', ns, name);
    if (!pdb) return;
    const spec = (pdb.spec ?? {}) as { selector?: unknown; minAvailable?: number | string; maxUnavailable?: number | string };
    const sel = fromLabelSelectorObject(spec.selector);
    const pods = this.store.peek('pods', { namespace: ns, labelSelector: sel }).filter(isActive);
    const healthy = pods.filter(isPodReady).length;
    // expected pods come from the owners' desired scale, as the disruption controller does
    const owners = new Map<string, number>();
    let unowned = 0;
    for (const p of pods) {
      const ref = controllerOf(p);
      const res = ref?.kind === 'ReplicaSet' ? 'replicasets' : ref?.kind === 'StatefulSet' ? 'statefulsets' : undefined;
      const owner = res && ref ? this.store.peekOne(res, ns, ref.name) : undefined;
      if (owner && ref) owners.set(ref.uid, (owner.spec as { replicas?: number }).replicas ?? 1);
      else unowned++;
    }
    const expected = [...owners.values()].reduce((a, b) => a + b, 0) + unowned;
    const amount = (v: number | string): number => (typeof v === 'string' && v.endsWith('%') ? Math.ceil((Number(v.slice(0, -1)) * expected) / 100) : Number(v));
    let desired: number;
    if (spec.minAvailable !== undefined) desired = amount(spec.minAvailable);
    else if (spec.maxUnavailable !== undefined) desired = Math.max(0, expected - amount(spec.maxUnavailable));
    else desired = expected;
    const allowed = Math.max(0, healthy - desired);
    this.store.mutate('poddisruptionbudgets', ns, name, (o) => {
      const st = (o.status ?? {}) as { conditions?: Condition[] };
      const conds = [...(st.conditions ?? [])];
      setCondition(conds, { type: 'DisruptionAllowed', status: allowed > 0 ? 'True' : 'False', reason: allowed > 0 ? 'SufficientPods' : 'InsufficientPods', message: '' });
      o.status = { observedGeneration: o.metadata.generation, disruptionsAllowed: allowed, currentHealthy: healthy, desiredHealthy: desired, expectedPods: expected, conditions: conds };
    });
  }

  /** Background cascading deletion of an owner's dependents. */
  private collect(ns: string, uid: string): void {
    for (const r of this.store.resources.all()) {
      if (r.custom || !r.namespaced || !['pods', 'replicasets'].includes(r.plural)) continue;
      for (const o of this.store.list(r, { namespace: ns || undefined })) {
        if (ownedBy(o, uid) && !o.metadata.deletionTimestamp) this.store.delete(r, o.metadata.namespace, o.metadata.name);
      }
    }
  }

  /** Namespace controller: empties a Terminating namespace, then removes it. */
  private namespace(name: string): void {
    const nsObj = this.store.peekOne('namespaces', undefined, name);
    if (!nsObj?.metadata.deletionTimestamp) return;
    let left = 0;
    for (const r of this.store.resources.all()) {
      if (!r.namespaced) continue;
      for (const o of this.store.list(r, { namespace: name })) {
        left++;
        if (!o.metadata.deletionTimestamp) this.store.delete(r, name, o.metadata.name);
      }
    }
    if (!left) this.store.remove('namespaces', undefined, name);
  }
}

/** Marks a container (regular or ephemeral) terminated; a regular one restarts at once, as the kubelet would. */
export function terminateContainer(store: SimStore, ns: string, podName: string, container: string, exitCode: number, reason: string, uid?: string, message?: string): boolean {
  const pod = store.get('pods', ns, podName);
  if (!pod || (uid && pod.metadata.uid !== uid)) return false;
  let found = false;
  store.mutate('pods', ns, podName, (p) => {
    const st = (p.status ??= {}) as PodStatus;
    const t = now();
    const eph = (st.ephemeralContainerStatuses ?? []).find((c) => c.name === container);
    if (eph) {
      const startedAt = eph.state?.running?.startedAt ?? t;
      eph.state = { terminated: { exitCode, reason, ...(message ? { message } : {}), startedAt, finishedAt: t, containerID: eph.containerID } };
      eph.ready = false;
      found = true;
      return;
    }
    const cs = (st.containerStatuses ?? []).find((c) => c.name === container);
    if (cs) {
      const startedAt = cs.state?.running?.startedAt ?? t;
      cs.lastState = { terminated: { exitCode, reason, startedAt, finishedAt: t, containerID: cs.containerID } };
      cs.restartCount = Number(cs.restartCount ?? 0) + 1;
      cs.containerID = `containerd://${randomSuffix(12)}`;
      cs.state = { running: { startedAt: t } };
      found = true;
    }
  });
  return found;
}

/**
 * What a shell would make of `sh -c SCRIPT argv0 ARGS…` for our purposes: positional
 * parameters and simple `VAR="…"` assignments expanded, so a `sleep "$DURATION"` is seen as
 * the sleep it is. Anything else is returned as the joined command.
 */
export function expandShell(cmd: string[]): string {
  if (cmd.length < 3 || !/(^|\/)(ba|da)?sh$/.test(cmd[0] ?? '') || cmd[1] !== '-c') return cmd.join(' ');
  const positional = cmd.slice(4);
  const withArgs = (cmd[2] ?? '').replace(/\$\{?([1-9])\}?/g, (_m, d: string) => positional[Number(d) - 1] ?? '');
  const vars = new Map<string, string>();
  for (const [, name, value] of withArgs.matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)="([^"$`]*)"/g)) vars.set(name!, value!);
  return withArgs.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (m, name: string) => vars.get(name) ?? m);
}
