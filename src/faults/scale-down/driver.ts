// scale-down: scales the workloads owning the chosen pods through the /scale subresource. The
// current replicas are read and recorded BEFORE anything changes; revert writes them back.
// The workload carries the run label and the whole injection (original replicas included)
// before its replicas change, so a controller with an empty Redis can still restore them.
import type { KubeConfig } from '@kubernetes/client-node';
import type { TargetRef } from '../../runs/types.js';
import { apis, clearedMarks, faultMarks, isNotFound, mergePatch, RUN_ANNOTATION } from '../k8s.js';
import { intParam } from '../params.js';
import { perTarget } from '../per-target.js';
import type { FaultDriver, Injection } from '../types.js';

type ScaleKind = 'Deployment' | 'StatefulSet' | 'ReplicaSet';
interface ScaledWorkload { kind: ScaleKind; namespace: string; name: string; replicas: number }
interface ScaleDownData extends Record<string, unknown> { replicas: number; workloads: ScaledWorkload[] }

const isScaleKind = (k: string): k is ScaleKind => k === 'Deployment' || k === 'StatefulSet' || k === 'ReplicaSet';

export async function readReplicas(kc: KubeConfig, w: Omit<ScaledWorkload, 'replicas'>): Promise<number> {
  const { apps } = apis(kc);
  const req = { namespace: w.namespace, name: w.name };
  const scale = w.kind === 'Deployment' ? await apps.readNamespacedDeploymentScale(req)
    : w.kind === 'StatefulSet' ? await apps.readNamespacedStatefulSetScale(req)
    : await apps.readNamespacedReplicaSetScale(req);
  return scale.spec?.replicas ?? 0;
}

export async function writeReplicas(kc: KubeConfig, w: Omit<ScaledWorkload, 'replicas'>, replicas: number): Promise<void> {
  const { apps } = apis(kc);
  const req = { namespace: w.namespace, name: w.name, body: { spec: { replicas } } };
  if (w.kind === 'Deployment') await apps.patchNamespacedDeploymentScale(req, mergePatch());
  else if (w.kind === 'StatefulSet') await apps.patchNamespacedStatefulSetScale(req, mergePatch());
  else await apps.patchNamespacedReplicaSetScale(req, mergePatch());
}

/** Marks a workload with the run's label and revert data (or clears the marks, with null). */
async function annotate(kc: KubeConfig, w: Omit<ScaledWorkload, 'replicas'>, injection: Injection | null): Promise<void> {
  const { apps } = apis(kc);
  const req = { namespace: w.namespace, name: w.name, body: { metadata: injection ? faultMarks(injection) : clearedMarks() } };
  if (w.kind === 'Deployment') await apps.patchNamespacedDeployment(req, mergePatch());
  else if (w.kind === 'StatefulSet') await apps.patchNamespacedStatefulSet(req, mergePatch());
  else await apps.patchNamespacedReplicaSet(req, mergePatch());
}

async function annotationOf(kc: KubeConfig, w: Omit<ScaledWorkload, 'replicas'>): Promise<string | undefined> {
  const { apps } = apis(kc);
  const req = { namespace: w.namespace, name: w.name };
  const obj = w.kind === 'Deployment' ? await apps.readNamespacedDeployment(req)
    : w.kind === 'StatefulSet' ? await apps.readNamespacedStatefulSet(req)
    : await apps.readNamespacedReplicaSet(req);
  return obj.metadata?.annotations?.[RUN_ANNOTATION];
}

export const scaleDown: FaultDriver = perTarget<ScaledWorkload>({
  type: 'scale-down',
  targets: (injection) => (injection.revertData as ScaleDownData).workloads,
  describe: (w) => `${w.namespace}/${w.kind}/${w.name}`,
  async prepare(ctx) {
    const replicas = Number(intParam(ctx.params, 'replicas', 0, 1000, 0));
    const seen = new Map<string, Omit<ScaledWorkload, 'replicas'>>();
    for (const p of ctx.targets.pods) {
      if (!p.owner) throw new Error(`pod ${p.namespace}/${p.name} has no owning workload to scale`);
      if (!isScaleKind(p.owner.kind)) throw new Error(`cannot scale ${p.owner.kind}/${p.owner.name}`);
      seen.set(`${p.namespace}/${p.owner.kind}/${p.owner.name}`, { kind: p.owner.kind, namespace: p.namespace, name: p.owner.name });
    }
    const workloads: ScaledWorkload[] = [];
    for (const w of seen.values()) workloads.push({ ...w, replicas: await readReplicas(ctx.kc, w) });
    const touched: TargetRef[] = workloads.map((w) => ({ kind: w.kind, namespace: w.namespace, name: w.name }));
    const revertData: ScaleDownData = { replicas, workloads };
    return { runId: ctx.runId, experiment: ctx.experiment, fault: 'scale-down', touched, revertData, expiresAt: new Date(Date.now() + ctx.durationMs).toISOString() };
  },
  async apply(ctx, injection, w) {
    const target = Math.min((injection.revertData as ScaleDownData).replicas, w.replicas); // a scale-down never scales up
    await annotate(ctx.kc, w, injection);
    await writeReplicas(ctx.kc, w, target);
    ctx.log.info({ workload: `${w.kind}/${w.name}`, namespace: w.namespace, from: w.replicas, to: target }, 'scaled down');
  },
  async recover(kc, injection, w, log) {
    try {
      await writeReplicas(kc, w, w.replicas);
      if ((await annotationOf(kc, w)) === injection.runId) await annotate(kc, w, null);
      log.info({ workload: `${w.kind}/${w.name}`, namespace: w.namespace, replicas: w.replicas }, 'replicas restored');
    } catch (err) {
      if (!isNotFound(err)) throw err;
      log.warn({ workload: `${w.kind}/${w.name}`, namespace: w.namespace }, 'workload gone; nothing to restore');
    }
  },
});
