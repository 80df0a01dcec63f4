import type { Experiment, FaultType } from '../experiments/model.js';

export const RUN_STATES = [
  'Pending',
  'Validating',
  'Injecting',
  'Running',
  'Reverting',
  'Succeeded',
  'Failed',
  'Aborted',
] as const;
export type RunState = (typeof RUN_STATES)[number];
export type RunOutcome = 'succeeded' | 'failed' | 'aborted';
export type TerminalRunState = 'Succeeded' | 'Failed' | 'Aborted';

/** Machine-readable reasons next to the messages (like Kubernetes condition reasons). */
export const REASON_CODES = [
  'Queued', 'Validating', 'Waiting', 'GuardRefused', 'BeforeProbeFailed', 'Injecting', 'Injected', 'InjectFailed',
  'DurationOver', 'SteadyStateLost', 'Aborted', 'KillSwitch', 'Frozen', 'Reverted', 'RevertHandedOver', 'Error',
  'ControllerDied', 'NotStarted', 'ShuttingDown', 'ClusterUnavailable',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

/** The payload of a job on the `runs` queue. */
export interface RunJobData {
  runId: string;
  experiment: string;
  file: string;
  specHash: string;
  revision: string;
  occurrence: string; // 'once' for unscheduled runs, the scheduled time otherwise, 'manual-<ts>'
  trigger: 'reconcile' | 'schedule' | 'manual';
  spec: Experiment;
  /** A step of a workflow run: the workflow's locks cover its workloads (taken with its run id). */
  workflow?: { runId: string; name: string; step: string };
}

export interface TargetRef {
  kind: 'Pod' | 'Deployment' | 'StatefulSet' | 'ReplicaSet' | 'Node' | 'VirtualService';
  namespace?: string;
  name: string;
  owner?: string; // owning workload "Kind/name" for pods
  uid?: string; // the object's uid when known (Events carry it: `kubectl describe` matches on it)
}

export interface ProbeSummary {
  name: string;
  phase: 'before' | 'during' | 'after';
  ok: boolean;
  checks: number;
  failures: number;
  lastError?: string;
  latencyMs?: number;
}

export interface GuardVerdict {
  guard: string; // e.g. 'protected-namespace', 'opt-in', 'blast-radius', 'pdb', 'lock', 'freeze'
  ok: boolean;
  reason: string;
}

export interface BlastRadius {
  workload: string; // "Kind/name"
  namespace: string;
  hit: number;
  ready: number;
  percent: number;
}

export interface RunRecord {
  id: string;
  experiment: string;
  file: string;
  specHash: string;
  revision: string;
  faultType: FaultType;
  trigger: RunJobData['trigger'];
  state: RunState;
  outcome?: RunOutcome;
  reason?: string; // why it failed or was aborted
  reasonCode?: ReasonCode;
  /** The cluster it ran in, when not the local one (spec.target.cluster). */
  cluster?: string;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  seed?: number; // random seed for target choice, so the choice is reproducible
  targets: TargetRef[];
  blastRadius: BlastRadius[];
  guards: GuardVerdict[];
  probes: ProbeSummary[];
  recoveryMs?: number;
  timeline: { at: string; state: RunState; message: string; code?: ReasonCode }[];
}

/** Executes one run end to end; the runs worker calls it. Must always revert what it injected. */
export interface RunExecutor {
  execute(job: RunJobData, signal: AbortSignal): Promise<RunRecord>;
}

/** Where run records live for the API, `faultline status` and reports (Redis). */
export interface RunStore {
  save(record: RunRecord): Promise<void>;
  get(id: string): Promise<RunRecord | undefined>;
  list(query: { experiment?: string; state?: RunState; limit?: number; cursor?: string }): Promise<{
    runs: RunRecord[];
    nextCursor?: string;
  }>;
}

/** Anything that wants to hear about run progress: status branch, PR comments, Slack, metrics. */
export interface RunListener {
  onRunUpdate(record: RunRecord, job: RunJobData): Promise<void> | void;
}
