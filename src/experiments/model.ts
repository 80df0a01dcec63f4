// The experiment model: what a ChaosExperiment file means once parsed and validated.
// Shared by every stage; stages to the right import these types, never the other way.
import type { FaultType } from '../faults/registry.js';
import type { LoadedWorkflow } from '../workflows/model.js';

export const API_VERSION = 'faultline.dev/v1alpha1';
export const KIND = 'ChaosExperiment';

// The fault types come from the fault registry (one folder per fault in src/faults).
export { FAULT_TYPES, type FaultType } from '../faults/registry.js';

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
export interface LabelSelectorRequirement {
  key: string;
  operator: SelectorOperator;
  values?: string[];
}
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type TargetMode =
  | { type: 'one' }
  | { type: 'all' }
  | { type: 'fixed'; value: number }
  | { type: 'percent'; value: number };

export interface Target {
  namespace: string;
  /** A registered cluster's name; absent: the local one (LOCAL_CLUSTER). */
  cluster?: string;
  selector: LabelSelector;
  mode: TargetMode;
}

export interface HttpProbe {
  url: string;
  method?: 'GET' | 'HEAD' | 'POST';
  expectStatus?: number[];
  bodyMatch?: string; // a regular expression the body must match
  maxLatency?: string; // duration
  timeout?: string; // duration
}
export interface PrometheusProbe {
  url: string; // Prometheus base URL
  query: string; // instant query returning one sample
  op: '<' | '<=' | '>' | '>=' | '==' | '!=';
  threshold: number;
  timeout?: string;
}
export interface KubernetesProbe {
  namespace: string;
  kind: 'Deployment' | 'StatefulSet' | 'ReplicaSet';
  name: string;
  minReadyReplicas: number;
}
export interface ProbeSpec {
  name: string;
  http?: HttpProbe;
  prometheus?: PrometheusProbe;
  kubernetes?: KubernetesProbe;
  interval?: string; // duration, default 5s
  failureThreshold?: number; // consecutive failures that abort, default 3
}

export interface ExperimentSpec {
  description?: string;
  fault: { type: FaultType; params: Record<string, unknown> };
  target: Target;
  duration: string; // 30s, 5m, 1h30m
  schedule?: { cron: string; timezone?: string };
  suspend?: boolean;
  steadyState?: { probes: ProbeSpec[] };
  safety?: { maxBlastRadiusPercent?: number; maxTargets?: number };
  notify?: { slack?: { channel: string }; webhook?: { url: string } };
}

export interface Experiment {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: ExperimentSpec;
}

/** A problem found in a file: the line and column are of the offending node (1-based). */
export interface Problem {
  file: string;
  line: number;
  column: number;
  pointer: string; // JSON pointer into the document, '' for the whole document
  message: string;
}

/** One valid experiment as loaded from a repository file. */
export interface LoadedExperiment {
  experiment: Experiment; // normalised: defaults filled, durations kept as written
  file: string; // repository-relative path
  documentIndex: number; // 0-based index within a multi-document file
  line: number; // line of the document start
  specHash: string; // sha256 hex of the canonical normalised spec
  durationMs: number;
  importedFrom?: string; // e.g. 'chaos.io/v1 ChaosExperiment', 'chaos-mesh.org/v1alpha1 PodChaos'
  importNotes?: string[]; // what the importer assumed (defaults applied, bounds chosen)
  source?: { apiVersion: string | null; kind: string | null }; // of an imported document
}

export interface LoadResult {
  experiments: LoadedExperiment[];
  problems: Problem[];
  workflows?: LoadedWorkflow[]; // ChaosWorkflow documents (absent when there are none)
}
