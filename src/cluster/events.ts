// Kubernetes Events (core/v1) on the objects a run touches, and optionally on a run record object,
// so `kubectl describe` shows what chaos happened to a pod. Never throws: events are best effort.
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import { silentLogger, type Logger } from '../log.js';
import type { TargetRef } from '../runs/types.js';

/** Any Kubernetes object reference (for objects that are not run targets, e.g. a run record). */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
}

export interface EmitEventInput {
  involved: TargetRef | ObjectRef;
  reason: string; // UpperCamelCase, e.g. ChaosInjected
  message: string;
  type: 'Normal' | 'Warning';
  runId: string;
  experiment: string;
  /** Also record the event on this object (e.g. the run record). */
  runRecord?: ObjectRef;
  log?: Logger;
}

const API_VERSION: Record<TargetRef['kind'], string> = {
  Pod: 'v1',
  Node: 'v1',
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  ReplicaSet: 'apps/v1',
  VirtualService: 'networking.istio.io/v1beta1',
};

function toObjectRef(ref: TargetRef | ObjectRef): ObjectRef {
  if ('apiVersion' in ref) return ref;
  const out: ObjectRef = { apiVersion: API_VERSION[ref.kind], kind: ref.kind, name: ref.name };
  if (ref.namespace) out.namespace = ref.namespace;
  if (ref.uid) out.uid = ref.uid;
  return out;
}

/**
 * The object's uid, read from the API server when the reference has none: `kubectl describe`
 * (and a real API server's event lookup) matches Events on involvedObject.uid.
 */
async function withUid(kc: KubeConfig, on: ObjectRef): Promise<ObjectRef> {
  if (on.uid) return on;
  const req = { namespace: on.namespace ?? '', name: on.name };
  let meta: { uid?: string } | undefined;
  if (on.kind === 'Pod') meta = (await kc.makeApiClient(CoreV1Api).readNamespacedPod(req)).metadata;
  else if (on.kind === 'Node') meta = (await kc.makeApiClient(CoreV1Api).readNode({ name: on.name })).metadata;
  else if (on.kind === 'Deployment') meta = (await kc.makeApiClient(AppsV1Api).readNamespacedDeployment(req)).metadata;
  else if (on.kind === 'StatefulSet') meta = (await kc.makeApiClient(AppsV1Api).readNamespacedStatefulSet(req)).metadata;
  else if (on.kind === 'ReplicaSet') meta = (await kc.makeApiClient(AppsV1Api).readNamespacedReplicaSet(req)).metadata;
  else if (on.kind === 'VirtualService') {
    meta = ((await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1beta1', plural: 'virtualservices', ...req })) as { metadata?: { uid?: string } }).metadata;
  }
  return meta?.uid ? { ...on, uid: meta.uid } : on;
}

const MAX_MESSAGE = 1024; // the API server caps Event messages; keep well under it

/** Builds the Event body (exported for tests). Cluster-scoped objects get their events in `default`. */
export function eventFor(input: EmitEventInput, on: ObjectRef, now = new Date()): CoreV1Event {
  const namespace = on.namespace ?? 'default';
  const involvedObject: CoreV1Event['involvedObject'] = { apiVersion: on.apiVersion, kind: on.kind, name: on.name };
  if (on.namespace) involvedObject.namespace = on.namespace;
  if (on.uid) involvedObject.uid = on.uid;
  const message = input.message.length > MAX_MESSAGE ? `${input.message.slice(0, MAX_MESSAGE - 1)}…` : input.message;
  return {
    metadata: {
      generateName: `${on.name.slice(0, 200)}.faultline.`,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'faultline' },
      annotations: { 'faultline.dev/run-id': input.runId, 'faultline.dev/experiment': input.experiment },
    },
    involvedObject,
    reason: input.reason,
    message,
    type: input.type,
    source: { component: 'faultline' },
    reportingComponent: 'faultline.dev/controller',
    reportingInstance: 'faultline',
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}

/** Creates the event(s); resolves to the number written. Logs failures instead of throwing. */
export async function emitEvent(kc: KubeConfig, input: EmitEventInput): Promise<number> {
  const log = (input.log ?? silentLogger).child({ runId: input.runId, experiment: input.experiment });
  const targets = [toObjectRef(input.involved), ...(input.runRecord ? [input.runRecord] : [])];
  let written = 0;
  let core: CoreV1Api;
  try {
    core = kc.makeApiClient(CoreV1Api);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'cannot create a Kubernetes client for events');
    return 0;
  }
  for (const target of targets) {
    const on = await withUid(kc, target).catch((err: unknown) => {
      log.debug({ err: (err as Error).message, kind: target.kind, name: target.name }, 'could not read the uid for an event');
      return target;
    });
    const body = eventFor(input, on);
    try {
      await core.createNamespacedEvent({ namespace: body.metadata.namespace!, body });
      written++;
    } catch (err) {
      const code = (err as { code?: number }).code;
      log.warn({ err: (err as Error).message, code, kind: on.kind, name: on.name, reason: input.reason }, 'could not record Kubernetes event');
    }
  }
  return written;
}
