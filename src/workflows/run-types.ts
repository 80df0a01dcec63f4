// What a workflow run is once it has happened (or while it happens): the record the runner
// writes and everything downstream reads (status branch, PR comment, API, `faultline status`,
// metrics, score, pictures). One contract so the runner and the reports agree.
import type { ReasonCode, RunRecord } from '../runs/types.js';
import type { AssertionOperator, StepKind } from './model.js';

export const WORKFLOW_PHASES = ['Pending', 'Running', 'Reverting', 'Succeeded', 'Failed', 'Aborted'] as const;
export type WorkflowPhase = (typeof WORKFLOW_PHASES)[number];

export const STEP_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Aborted', 'Skipped'] as const;
export type StepPhase = (typeof STEP_PHASES)[number];

/** One step of one workflow run. A fault or experiment step carries the run id of its fault run. */
export interface StepRun {
  path: string; // "gameday/break/kill-cart": workflow name then step names
  name: string;
  kind: StepKind;
  phase: StepPhase;
  startedAt?: string;
  endedAt?: string;
  /** The fault run this step made (a RunRecord id on the runs store), for fault and experiment steps. */
  runId?: string;
  /** For fault/experiment steps: when the fault was verifiably in place and when it was reverted. */
  faultWindow?: { from: string; to?: string };
  continueOnFailure?: boolean;
  reason?: string;
  reasonCode?: ReasonCode;
  /** Probe rounds of a check step (or of a fault step's steady-state probes). */
  probes?: { name: string; at: string; ok: boolean; error?: string }[];
}

/** One evaluation of a workflow-level assertion. */
export interface AssertionSample {
  name: string;
  at: string;
  value: number | null; // null: could not be evaluated (the reason says why)
  operator: AssertionOperator;
  threshold: number;
  ok: boolean;
  when: 'during' | 'after';
  reason?: string;
}

/** Resilience score of a run, 0..100, with the parts it was made of (see README "Resilience score"). */
export interface Score {
  value: number;
  parts: { name: string; weight: number; value: number }[];
}

export interface WorkflowRunRecord {
  id: string;
  workflow: string;
  file: string;
  specHash: string;
  revision: string;
  trigger: 'reconcile' | 'schedule' | 'manual';
  phase: WorkflowPhase;
  reason?: string;
  reasonCode?: ReasonCode;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  /** Index into the flattened top-level steps of the one running now (0-based); totalSteps when done. */
  currentStep: number;
  totalSteps: number; // top-level steps
  progress: number; // 0..1, finished top-level steps / totalSteps
  steps: StepRun[]; // every step at every level, in start order
  assertions: AssertionSample[];
  /** Samples of the workflow-level probes over the run (for the timeline picture). */
  probes: { name: string; at: string; ok: boolean }[];
  score?: Score;
}

/** The fault runs a workflow run made, for reports that want their detail. */
export type StepFaultRuns = Record<string, RunRecord>; // by step path
