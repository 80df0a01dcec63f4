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
  ready(): Promise<void>;
  close(): void;
}
