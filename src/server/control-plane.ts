// What the REST API and the dashboard need from the running controller. The controller
// implements it; the HTTP layer knows nothing else about queues, Git or the cluster.
import type { RunRecord, RunState, RunStore } from '../runs/types.js';
import type { TrendEntry } from '../report/svg.js';
import type { WorkflowPhase, WorkflowRunRecord } from '../workflows/run-types.js';

export type ExperimentState =
  | 'pending'
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'aborted'
  | 'invalid'
  | 'suspended';

export interface ExperimentStatus {
  name: string;
  file: string;
  line?: number;
  revision?: string;
  specHash?: string;
  fault?: string;
  namespace?: string;
  schedule?: { cron: string; timezone?: string };
  state: ExperimentState;
  lastRun?: { id: string; state: RunState; outcome?: string; startedAt?: string; endedAt?: string; reason?: string };
  nextRun?: string; // ISO time of the next scheduled run
  problems?: { line: number; column: number; message: string }[];
}

/** A workflow with its last run and the trend of its last finished runs (oldest first). */
export interface WorkflowStatus {
  name: string;
  file?: string;
  state: 'once' | 'scheduled' | 'suspended' | 'removed';
  lastRun?: { id: string; phase: WorkflowPhase; currentStep: number; totalSteps: number; progress: number; score?: number; startedAt?: string; endedAt?: string; reason?: string };
  score?: number; // of the last scored run
  trend: TrendEntry[];
}

export interface WorkflowDetail extends WorkflowStatus {
  runs: WorkflowRunRecord[]; // newest first, with their steps
}

export interface WorkflowsView {
  list(): Promise<WorkflowStatus[]>;
  get(name: string): Promise<WorkflowDetail | undefined>;
  run(name: string, id: string): Promise<WorkflowRunRecord | undefined>;
  experimentTrend(name: string): Promise<TrendEntry[]>;
}

/** An active run with the time its fault ends on its own (for countdowns). */
export type ActiveRun = RunRecord & { endsAt?: string };

export class NotFoundError extends Error {
  readonly code = 'not_found';
}
export class ConflictError extends Error {
  readonly code = 'conflict';
}

export interface ControlPlane {
  listExperiments(): Promise<ExperimentStatus[]>;
  getExperiment(name: string): Promise<ExperimentStatus | undefined>;
  runs: Pick<RunStore, 'get' | 'list'>;
  /** Workflows, their runs and trends; absent in a server without a workflow store. */
  workflows?: WorkflowsView;
  activeRuns(): Promise<ActiveRun[]>;
  /** Asks one run to abort; it reverts. False when the run is not active. */
  abortRun(id: string, by: string): Promise<boolean>;
  /** Kill switch: sets the flag (nothing new starts) and aborts every active run. */
  abortAll(by: string, reason: string): Promise<{ aborted: string[] }>;
  clearKillSwitch(by: string): Promise<void>;
  killSwitch(): Promise<boolean>;
  /** A guarded manual run: guards are checked by the run itself just before injection. */
  trigger(name: string, by: string): Promise<{ runId: string }>;
}
