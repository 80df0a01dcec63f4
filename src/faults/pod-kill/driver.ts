// pod-kill: deletes the chosen pods; their ReplicaSet/StatefulSet recreates them. Nothing to
// revert, but the ledger still records which pods were killed (uid-guarded deletes).
// With `respectPdb: true` each pod goes through the Eviction API (POST pods/<name>/eviction):
// the API server checks the pod's PodDisruptionBudget and refuses (429) when it is spent; such a
// pod is left alone and fails the run (confirm) instead of being killed anyway.
import type { TargetRef } from '../../runs/types.js';
import { apis, isNotFound, statusCode } from '../k8s.js';
import { intParam } from '../params.js';
import { perTarget } from '../per-target.js';
import type { FaultDriver, Injection, TargetOutcome } from '../types.js';

interface PodKillData extends Record<string, unknown> {
  gracePeriodSeconds: number;
  respectPdb?: boolean;
  pods: { namespace: string; name: string; uid: string }[];
}

type Killed = PodKillData['pods'][number];
const dataOf = (injection: { revertData: Record<string, unknown> }) => injection.revertData as PodKillData;
const podName = (p: Killed) => `${p.namespace}/${p.name}`;

// What apply() learnt per pod that the cluster cannot tell confirm(): the refusal's words.
const refusals = new WeakMap<Injection, Map<string, string>>();

/** The API server's reason for a refused eviction: its message and the DisruptionBudget cause. */
export function evictionRefusal(err: unknown): string {
  const raw = (err as { body?: unknown } | null)?.body;
  let body: { message?: string; details?: { causes?: { reason?: string; message?: string }[] } } | undefined;
  try {
    body = typeof raw === 'string' ? JSON.parse(raw) : (raw as typeof body);
  } catch {
    body = undefined;
  }
  const cause = body?.details?.causes?.find((c) => c.reason === 'DisruptionBudget')?.message;
  const message = body?.message ?? (err as Error | null)?.message ?? String(err);
  return cause ? `${message} ${cause}` : message;
}

export const podKill: FaultDriver = perTarget<Killed>({
  type: 'pod-kill',
  targets: (injection) => dataOf(injection).pods,
  describe: podName,
  async prepare(ctx) {
    const gracePeriodSeconds = Number(intParam(ctx.params, 'gracePeriodSeconds', 0, 3600, 0));
    const respectPdb = ctx.params.respectPdb === true;
    const pods = ctx.targets.pods.map((p) => ({ namespace: p.namespace, name: p.name, uid: p.uid }));
    const touched: TargetRef[] = ctx.targets.pods.map((p) => ({
      kind: 'Pod', namespace: p.namespace, name: p.name, uid: p.uid, ...(p.owner ? { owner: `${p.owner.kind}/${p.owner.name}` } : {}),
    }));
    const revertData: PodKillData = { gracePeriodSeconds, respectPdb, pods };
    return { runId: ctx.runId, experiment: ctx.experiment, fault: 'pod-kill', touched, revertData, expiresAt: new Date().toISOString() };
  },
  async apply(ctx, injection, p) {
    const { core } = apis(ctx.kc);
    const { gracePeriodSeconds, respectPdb } = dataOf(injection);
    // The uid precondition makes sure we kill the pod we chose, not a successor with its name.
    const deleteOptions = { gracePeriodSeconds, preconditions: { uid: p.uid } };
    try {
      if (respectPdb) {
        await core.createNamespacedPodEviction({
          namespace: p.namespace, name: p.name,
          body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: p.name, namespace: p.namespace }, deleteOptions },
        });
        ctx.log.info({ pod: podName(p), gracePeriodSeconds }, 'pod evicted');
      } else {
        await core.deleteNamespacedPod({ namespace: p.namespace, name: p.name, gracePeriodSeconds, body: deleteOptions });
        ctx.log.info({ pod: podName(p), gracePeriodSeconds }, 'pod deleted');
      }
    } catch (err) {
      if (respectPdb && statusCode(err) === 429) {
        // Not thrown: the other pods are still tried; confirm() fails the run for this one.
        const why = evictionRefusal(err);
        if (!refusals.has(injection)) refusals.set(injection, new Map());
        refusals.get(injection)!.set(podName(p), why);
        ctx.log.warn({ pod: podName(p), reason: why }, 'eviction refused by the API server');
        return;
      }
      if (!(isNotFound(err) || statusCode(err) === 409)) throw err;
      ctx.log.warn({ pod: podName(p) }, 'pod already gone or replaced; not deleted');
    }
  },
  async confirm(ctx, injection): Promise<TargetOutcome[]> {
    // Checked in the cluster: each chosen pod is gone, replaced or terminating.
    const { core } = apis(ctx.kc);
    const data = dataOf(injection);
    const refused = refusals.get(injection);
    const out: TargetOutcome[] = [];
    for (const p of data.pods) {
      let killed: boolean;
      try {
        const live = await core.readNamespacedPod({ namespace: p.namespace, name: p.name });
        killed = live.metadata?.uid !== p.uid || !!live.metadata?.deletionTimestamp;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        killed = true;
      }
      const why = refused?.get(podName(p));
      if (killed) out.push({ target: podName(p), ok: true, message: data.respectPdb ? 'evicted' : 'deleted' });
      else out.push({ target: podName(p), ok: false, message: why ? `eviction refused: ${why}` : 'pod still running' });
    }
    return out;
  },
  // Deleted pods are recreated by their controllers; there is nothing to put back.
  nothingToRecover: 'controllers recreate the pods',
});
