// kubernetes probe: a workload's status.readyReplicas ≥ minReadyReplicas.
import { AppsV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { KubernetesProbe } from '../experiments/model.js';
import type { ProbeResult } from './types.js';

export async function readyReplicas(kc: KubeConfig, kind: KubernetesProbe['kind'], namespace: string, name: string): Promise<number> {
  const apps = kc.makeApiClient(AppsV1Api);
  const req = { namespace, name };
  const obj = kind === 'Deployment' ? await apps.readNamespacedDeployment(req)
    : kind === 'StatefulSet' ? await apps.readNamespacedStatefulSet(req)
    : await apps.readNamespacedReplicaSet(req);
  return obj.status?.readyReplicas ?? 0;
}

export async function checkKubernetes(p: KubernetesProbe, kc: KubeConfig): Promise<ProbeResult> {
  const started = performance.now();
  try {
    const ready = await readyReplicas(kc, p.kind, p.namespace, p.name);
    const latencyMs = Math.round(performance.now() - started);
    if (ready < p.minReadyReplicas) return { ok: false, latencyMs, error: `${p.kind}/${p.name}: ${ready} ready, want ≥ ${p.minReadyReplicas}` };
    return { ok: true, latencyMs };
  } catch (err) {
    return { ok: false, latencyMs: Math.round(performance.now() - started), error: `${p.kind} ${p.namespace}/${p.name}: ${(err as Error).message}` };
  }
}
