// What the REST API and the dashboard need from the running controller. The controller
// implements it; the HTTP layer knows nothing else about queues, Git or the cluster.
import type { RunRecord, RunState, RunStore } from '../runs/types.js';

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
