// POST pods/<name>/eviction (policy/v1 Eviction), as pkg/registry/core/pod/storage/eviction.go
// does it: the API server itself checks the pod's PodDisruptionBudget and takes one disruption
// from it (status.disruptionsAllowed, status.disruptedPods) in the same step as the delete, so two
// evictions can never both spend the last one. A spent budget answers 429 with a DisruptionBudget
// cause; pods that are not running (pending, finished, already terminating) are evicted without
// a budget, as the real server does.
import { ApiError, badRequest } from './errors.js';
import { isPodReady } from './controllers.js';
import { fromLabelSelectorObject, matchLabels } from './selectors.js';
import type { SimStore } from './store.js';
import type { KObject } from './types.js';

interface EvictionBody {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  deleteOptions?: { gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string }; dryRun?: string[] };
}

interface PdbStatus {
  observedGeneration?: number;
  disruptionsAllowed?: number;
  currentHealthy?: number;
  desiredHealthy?: number;
  disruptedPods?: Record<string, string>;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

const DENIED = "Cannot evict pod as it would violate the pod's disruption budget.";
const MAX_DISRUPTED_PODS = 2000;

function tooManyRequests(cause: string): ApiError {
  return new ApiError(429, 'TooManyRequests', DENIED, { causes: [{ reason: 'DisruptionBudget', message: cause }] });
}

function deniedMessage(pdb: KObject, st: PdbStatus): string {
  const name = pdb.metadata.name;
  const cond = st.conditions?.find((c) => c.type === 'DisruptionAllowed');
  if (cond?.status === 'False' && cond.reason === 'SyncFailed' && cond.message) {
    return `The disruption budget ${name} does not allow evicting pods currently because it failed sync: ${cond.message}`;
  }
  return `The disruption budget ${name} needs ${st.desiredHealthy ?? 0} healthy pods and has ${st.currentHealthy ?? 0} currently`;
}

function success(): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
}

export function evictPod(store: SimStore, namespace: string, name: string, raw: unknown, queryDryRun: boolean): object {
  const body = (raw ?? {}) as EvictionBody;
  if (body.kind && body.kind !== 'Eviction') throw badRequest(`${body.kind} is not an Eviction`);
  if (body.metadata?.name && body.metadata.name !== name) throw badRequest(`name in URL does not match name in Eviction object`);
  if (body.metadata?.namespace && body.metadata.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  const opts = body.deleteOptions ?? {};
  const grace = opts.gracePeriodSeconds;
  if (grace !== undefined && (!Number.isInteger(grace) || grace < 0)) throw badRequest('gracePeriodSeconds must be a non-negative integer');
  const dryRun = queryDryRun || (opts.dryRun ?? []).includes('All');
  const pod = store.mustGet('pods', namespace, name);
  const pre = opts.preconditions ?? {};
  if (pre.uid && pre.uid !== pod.metadata.uid) {
    throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods "${name}": Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${pod.metadata.uid}`, { name, kind: 'pods' });
  }
  const remove = (): object => {
    if (!dryRun) store.delete('pods', namespace, name, { gracePeriodSeconds: grace, preconditions: pre });
    return success();
  };
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  // Nothing runs there: no budget protects it (canIgnorePDB).
  if (phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || pod.metadata.deletionTimestamp) return remove();

  const labels = pod.metadata.labels ?? {};
  const pdbs = Object.keys(labels).length === 0 ? [] : store.peek('poddisruptionbudgets', { namespace }).filter((b) => {
    const sel = (b.spec as { selector?: unknown } | undefined)?.selector;
    return sel !== undefined && matchLabels(fromLabelSelectorObject(sel), labels);
  });
  if (pdbs.length === 0) return remove();
  if (pdbs.length > 1) throw new ApiError(500, '', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  const pdb = pdbs[0]!;
  const st = (pdb.status ?? {}) as PdbStatus;

  // An unready pod may go without spending the budget while the budget is met anyway.
  const policy = (pdb.spec as { unhealthyPodEvictionPolicy?: string } | undefined)?.unhealthyPodEvictionPolicy ?? 'IfHealthyBudget';
  if (!isPodReady(pod)) {
    if (policy === 'AlwaysAllow') return remove();
    if ((st.desiredHealthy ?? 0) > 0 && (st.currentHealthy ?? 0) >= (st.desiredHealthy ?? 0)) return remove();
  }

  const pdbName = pdb.metadata.name;
  if ((st.observedGeneration ?? 0) < (pdb.metadata.generation ?? 1)) throw tooManyRequests(`The disruption budget ${pdbName} is still being processed by the server.`);
  const allowed = st.disruptionsAllowed ?? 0;
  if (allowed < 0) throw new ApiError(403, 'Forbidden', `poddisruptionbudgets.policy "${pdbName}" is forbidden: pdb disruptions allowed is negative`, { name: pdbName, group: 'policy', kind: 'poddisruptionbudgets' });
  if (Object.keys(st.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) {
    throw new ApiError(403, 'Forbidden', `poddisruptionbudgets.policy "${pdbName}" is forbidden: DisruptedPods map too big - too many evictions not confirmed by PDB controller`, { name: pdbName, group: 'policy', kind: 'poddisruptionbudgets' });
  }
  if (allowed === 0) throw tooManyRequests(deniedMessage(pdb, st));
  if (dryRun) return success();
  store.mutate('poddisruptionbudgets', namespace, pdbName, (o) => {
    const s = (o.status ?? {}) as PdbStatus;
    s.disruptionsAllowed = (s.disruptionsAllowed ?? 0) - 1;
    s.disruptedPods = { ...(s.disruptedPods ?? {}), [name]: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
    o.status = { ...s };
  });
  return remove();
}
