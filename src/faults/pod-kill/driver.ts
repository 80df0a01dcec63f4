// pod-kill: deletes the chosen pods; their ReplicaSet/StatefulSet recreates them. Nothing to
// revert, but the ledger still records which pods were killed (uid-guarded deletes).
import type { TargetRef } from '../../runs/types.js';
import { apis, isNotFound, statusCode } from '../k8s.js';
import { intParam } from '../params.js';
import type { FaultDriver } from '../types.js';

interface PodKillData extends Record<string, unknown> {
  gracePeriodSeconds: number;
  pods: { namespace: string; name: string; uid: string }[];
}

export const podKill: FaultDriver = {
  type: 'pod-kill',
  async prepare(ctx) {
    const gracePeriodSeconds = Number(intParam(ctx.params, 'gracePeriodSeconds', 0, 3600, 0));
    const pods = ctx.targets.pods.map((p) => ({ namespace: p.namespace, name: p.name, uid: p.uid }));
    const touched: TargetRef[] = ctx.targets.pods.map((p) => ({
      kind: 'Pod', namespace: p.namespace, name: p.name, uid: p.uid, ...(p.owner ? { owner: `${p.owner.kind}/${p.owner.name}` } : {}),
    }));
    const revertData: PodKillData = { gracePeriodSeconds, pods };
    return { runId: ctx.runId, experiment: ctx.experiment, fault: 'pod-kill', touched, revertData, expiresAt: new Date().toISOString() };
  },
  async inject(ctx, injection) {
    const { core } = apis(ctx.kc);
    const data = injection.revertData as PodKillData;
    for (const p of data.pods) {
      try {
        // The uid precondition makes sure we delete the pod we chose, not a successor with its name.
        await core.deleteNamespacedPod({
          namespace: p.namespace, name: p.name, gracePeriodSeconds: data.gracePeriodSeconds,
          body: { gracePeriodSeconds: data.gracePeriodSeconds, preconditions: { uid: p.uid } },
        });
        ctx.log.info({ pod: `${p.namespace}/${p.name}`, gracePeriodSeconds: data.gracePeriodSeconds }, 'pod deleted');
      } catch (err) {
        if (isNotFound(err) || statusCode(err) === 409) {
          ctx.log.warn({ pod: `${p.namespace}/${p.name}` }, 'pod already gone or replaced; not deleted');
          continue;
        }
        throw err;
      }
    }
  },
  async revert(_kc, injection, log) {
    // Deleted pods are recreated by their controllers; there is nothing to put back.
    log.info({ pods: injection.touched.length }, 'pod-kill: nothing to revert (controllers recreate the pods)');
  },
};
