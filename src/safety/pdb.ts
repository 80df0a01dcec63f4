// PodDisruptionBudget arithmetic, as the eviction API does it: how many pods of the budget must
// stay healthy, given minAvailable or maxUnavailable as an integer or a percentage.
import type { PdbStatus } from '../cluster/types.js';

/** An IntOrString against a total; percentages round up, as Kubernetes does for PDBs. */
export function scaled(value: number | string, total: number): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+(?:\.\d+)?)%$/.exec(value.trim());
  if (m) return Math.ceil((Number(m[1]) * total) / 100);
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  throw new Error(`invalid PodDisruptionBudget value "${value}"`);
}

/** Pods that must remain healthy under this budget. */
export function desiredHealthy(pdb: PdbStatus): number {
  if (pdb.minAvailable !== undefined) return scaled(pdb.minAvailable, pdb.expected);
  if (pdb.maxUnavailable !== undefined) return Math.max(0, pdb.expected - scaled(pdb.maxUnavailable, pdb.expected));
  return 0;
}

/** How many more pods may be disrupted right now (never negative). */
export function disruptionsAllowed(pdb: PdbStatus): number {
  return Math.max(0, pdb.healthy - desiredHealthy(pdb));
}
