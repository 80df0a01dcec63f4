// pod-kill: deletes the chosen pods; their ReplicaSet/StatefulSet recreates them. Nothing to
// revert, but the ledger still records which pods were killed (uid-guarded deletes).
import type { TargetRef } from '../../runs/types.js';
import { apis, isNotFound, statusCode } from '../k8s.js';
import { intParam } from '../params.js';
import { perTarget } from '../per-target.js';
import type { FaultDriver } from '../types.js';

interface PodKillData extends Record<string, unknown> {
  gracePeriodSeconds: number;
  pods: { namespace: string; name: string; uid: string }[];
}

type Killed = PodKillData['pods'][number];
const dataOf = (injection: { revertData: Record<string, unknown> }) => injection.revertData as PodKillData;

export const podKill: FaultDriver = perTarget<Killed>({
  type: 'pod-kill',
  targets: (injection) => dataOf(injection).pods,
  describe: (p) => `${p.namespace}/${p.name}`,
  async prepare(ctx) {
    const gracePeriodSeconds = Number(intParam(ctx.params, 'gracePeriodSeconds', 0, 3600, 0));
    const pods = ctx.targets.pods.map((p) => ({ namespace: p.namespace, name: p.name, uid: p.uid }));
    const touched: TargetRef[] = ctx.targets.pods.map((p) => ({
      kind: 'Pod', namespace: p.namespace, name: p.name, uid: p.uid, ...(p.owner ? { owner: `${p.owner.kind}/${p.owner.name}` } : {}),
    }));
    const revertData: PodKillData = { gracePeriodSeconds, pods };
    return { runId: ctx.runId, experiment: ctx.experiment, fault: 'pod-kill', touched, revertData, expiresAt: new Date().toISOString() };
  },
  async apply(ctx, injection, p) {
    const { core } = apis(ctx.kc);
    const { gracePeriodSeconds } = dataOf(injection);
    try {
      // The uid precondition makes sure we delete the pod we chose, not a successor with its name.
      await core.deleteNamespacedPod({
        namespace: p.namespace, name: p.name, gracePeriodSeconds,
        body: { gracePeriodSeconds, preconditions: { uid: p.uid } },
      });
      ctx.log.info({ pod: `${p.namespace}/${p.name}`, gracePeriodSeconds }, 'pod deleted');
    } catch (err) {
      if (!(isNotFound(err) || statusCode(err) === 409)) throw err;
      ctx.log.warn({ pod: `${p.namespace}/${p.name}` }, 'pod already gone or replaced; not deleted');
    }
  },
  // Deleted pods are recreated by their controllers; there is nothing to put back.
  nothingToRecover: 'controllers recreate the pods',
});
