// Active faults as the cluster records them: every object a fault changed carries the run label
// and the whole Injection in an annotation (src/faults/k8s.ts faultMarks). One label-selector list
// per kind finds them all, so a controller whose Redis is empty still knows what to undo.
import type { KubeConfig } from '@kubernetes/client-node';
import { apis, REVERT_ANNOTATION, RUN_LABEL, statusCode } from '../faults/k8s.js';
import type { Injection } from '../faults/types.js';
import { FAULT_DRIVERS } from '../faults/index.js';

interface Marked { kind: string; namespace?: string; name: string; annotations?: Record<string, string> }
interface Obj { metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> } }

export interface ClusterFaults {
  injections: Injection[];
  /** Objects with the run label whose revert data is missing or unreadable (left for a human). */
  broken: { object: string; error: string }[];
}

const VS = { group: 'networking.istio.io', version: 'v1beta1', plural: 'virtualservices' } as const;

function asMarked(kind: string, items: Obj[]): Marked[] {
  return items.map((o) => ({ kind, name: o.metadata?.name ?? '?', namespace: o.metadata?.namespace, annotations: o.metadata?.annotations }));
}

/** Lists every object with the run label; one Injection per run (the first readable copy). */
export async function listClusterFaults(kc: KubeConfig): Promise<ClusterFaults> {
  const { core, apps, custom } = apis(kc);
  const labelSelector = RUN_LABEL;
  const [deployments, statefulsets, replicasets, nodes, pods, vs] = await Promise.all([
    apps.listDeploymentForAllNamespaces({ labelSelector }),
    apps.listStatefulSetForAllNamespaces({ labelSelector }),
    apps.listReplicaSetForAllNamespaces({ labelSelector }),
    core.listNode({ labelSelector }),
    core.listPodForAllNamespaces({ labelSelector }),
    // No Istio in the cluster: no VirtualService can carry a fault.
    custom.listClusterCustomObject({ ...VS, labelSelector }).catch((err: unknown) => {
      if (statusCode(err) === 404) return { items: [] };
      throw err;
    }) as Promise<{ items: Obj[] }>,
  ]);
  const marked = [
    ...asMarked('Deployment', deployments.items), ...asMarked('StatefulSet', statefulsets.items), ...asMarked('ReplicaSet', replicasets.items),
    ...asMarked('Node', nodes.items), ...asMarked('Pod', pods.items), ...asMarked('VirtualService', vs.items),
  ];
  const byRun = new Map<string, Injection>();
  const broken: ClusterFaults['broken'] = [];
  for (const m of marked) {
    const object = `${m.kind}/${m.namespace ? `${m.namespace}/` : ''}${m.name}`;
    const raw = m.annotations?.[REVERT_ANNOTATION];
    if (!raw) {
      broken.push({ object, error: `carries ${RUN_LABEL} but no ${REVERT_ANNOTATION} annotation` });
      continue;
    }
    try {
      const inj = JSON.parse(raw) as Injection;
      if (typeof inj.runId !== 'string' || !FAULT_DRIVERS[inj.fault] || !Array.isArray(inj.touched)) throw new Error('not an injection record');
      if (!byRun.has(inj.runId)) byRun.set(inj.runId, inj);
    } catch (err) {
      broken.push({ object, error: `${REVERT_ANNOTATION}: ${(err as Error).message}` });
    }
  }
  return { injections: [...byRun.values()], broken };
}
