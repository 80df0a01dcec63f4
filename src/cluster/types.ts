import type { Target } from '../experiments/model.js';
import type { BlastRadius, TargetRef } from '../runs/types.js';

export interface PodInfo {
  namespace: string;
  name: string;
  uid: string;
  labels: Record<string, string>;
  nodeName?: string;
  ready: boolean;
  owner?: { kind: string; name: string }; // the workload (Deployment/StatefulSet/ReplicaSet), resolved through ReplicaSets
  containers: string[];
}

export interface WorkloadCount {
  workload: string; // "Kind/name"
  namespace: string;
  ready: number;
  total: number;
}

export interface ResolvedTargets {
  seed: number;
  candidates: number; // pods matching the selector
  pods: PodInfo[]; // the chosen ones
  refs: TargetRef[];
  workloads: WorkloadCount[]; // every workload owning a chosen pod, with its ready count
  blastRadius: BlastRadius[];
}

/** Resolves targets from the watch-backed cache: no LIST per run. */
export interface TargetResolver {
  resolve(target: Target, seed: number): ResolvedTargets;
  namespaceLabels(namespace: string): Record<string, string> | undefined;
  /** PDBs selecting any of `chosen`, with live counts (optional: createTargetResolver provides it). */
  disruptionBudgets?(namespace: string, chosen: PodInfo[]): PdbStatus[];
  ready(): Promise<void>;
  close(): void;
}

/**
 * A PodDisruptionBudget that selects at least one chosen pod, with the live counts needed to
 * decide whether hitting `hit` pods would break it. minAvailable/maxUnavailable as in the spec
 * (an integer or a percent string such as "50%").
 */
export interface PdbStatus {
  name: string;
  namespace: string;
  minAvailable?: number | string;
  maxUnavailable?: number | string;
  expected: number; // pods the budget selects (not terminating)
  healthy: number; // of those, Ready now
  hit: number; // of those, chosen by this run (and Ready)
}

/** The watch-backed resolver built by createTargetResolver: also answers PDB questions from its cache. */
export interface ClusterTargetResolver extends TargetResolver {
  disruptionBudgets(namespace: string, chosen: PodInfo[]): PdbStatus[];
  /** Pods currently in the cache (all namespaces); for diagnostics and tests. */
  podCount(): number;
}
