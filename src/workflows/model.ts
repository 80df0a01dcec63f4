// The workflow model: a ChaosWorkflow file once parsed and validated. A gameday as code: steps
// run in order; a step is a fault (inline or a reference to an experiment), a parallel group,
// a pause or a check. Named after Chaos Mesh's Workflow (Serial, Parallel, Suspend, StatusCheck).
import type { Experiment, FaultType, LabelSelector, LoadedExperiment, ProbeSpec, Target, TargetMode } from '../experiments/model.js';

export const WORKFLOW_KIND = 'ChaosWorkflow';

/** Bounds the runner and the plan can rely on. */
export const MAX_STEP_DEPTH = 3; // levels of steps: the top, inside a parallel group, inside a group in a group
export const MAX_STEPS = 64; // every step at every level
export const MAX_WORKFLOW_DURATION = '24h';

export interface StepCommon {
  name: string;
  duration?: string;
  continueOnFailure?: boolean;
}
/** An inline fault: what an experiment's spec says, without the experiment around it. */
export interface FaultStep extends StepCommon {
  fault: { type: FaultType; params: Record<string, unknown> };
  target: Target;
  duration: string;
}
/** A reference to a ChaosExperiment of the same repository; `duration` overrides the experiment's. */
export interface ExperimentStep extends StepCommon {
  experiment: string;
}
/** Steps that run at the same time; the group ends when all of them have. */
export interface ParallelStep extends StepCommon {
  parallel: WorkflowStep[];
}
/** Waits (Chaos Mesh Suspend); `pause` is how long. */
export interface PauseStep extends Omit<StepCommon, 'duration'> {
  pause: string;
}
/** Probes that must hold (Chaos Mesh StatusCheck): for `duration` when given, else one round. */
export interface CheckStep extends StepCommon {
  check: { probes: ProbeSpec[] };
}
export type WorkflowStep = FaultStep | ExperimentStep | ParallelStep | PauseStep | CheckStep;
export type StepKind = 'fault' | 'experiment' | 'parallel' | 'pause' | 'check';
export const STEP_KINDS: StepKind[] = ['fault', 'experiment', 'parallel', 'pause', 'check'];

export type AssertionOperator = 'gte' | 'lte' | 'eq';
/**
 * A verdict over the whole run, evaluated during the run (`during`), at its end (`after`) or
 * both (`always`, the default). A `probe` assertion's value is the fraction (0..1) of that
 * workflow probe's rounds that passed; a `prometheus` one is an instant query's single sample.
 */
export interface Assertion {
  name: string;
  probe?: string;
  prometheus?: { url: string; query: string; timeout?: string };
  operator: AssertionOperator;
  value: number;
  when?: 'during' | 'after' | 'always';
}

export interface WorkflowSpec {
  description?: string;
  steps: WorkflowStep[];
  probes?: ProbeSpec[]; // polled for the whole run; assertions name them
  assertions?: Assertion[];
  schedule?: { cron: string; timezone?: string };
  suspend?: boolean;
  safety?: { maxBlastRadiusPercent?: number; maxTargets?: number };
  notify?: { slack?: { channel: string }; webhook?: { url: string } };
}

export interface Workflow {
  apiVersion: 'faultline.dev/v1alpha1';
  kind: typeof WORKFLOW_KIND;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: WorkflowSpec;
}

/** Where a step sits, for problems found after loading (a reference to a missing experiment). */
export interface StepRef {
  path: string; // "gameday/break/kill-cart": workflow name then step names
  pointer: string; // JSON pointer of the step in its document
  line: number;
  column: number;
}

/** One valid workflow as loaded from a repository file. */
export interface LoadedWorkflow {
  workflow: Workflow;
  file: string;
  documentIndex: number;
  line: number;
  specHash: string;
  stepsAt: { line: number; column: number }; // the `steps` key, for problems of the whole sequence
  /** The experiments this workflow names, with the position of each `experiment:` field. */
  references: (StepRef & { experiment: string; duration?: string })[];
  /** Each inline fault step as the experiment it is (named workflow--step), for guards and plans. */
  inline: Record<string, LoadedExperiment>; // by step path
  /** Set when the workflow was imported from a foreign format (see LoadedExperiment). */
  importedFrom?: string;
  importNotes?: string[];
  source?: { apiVersion: string | null; kind: string | null };
}

export function stepKind(step: WorkflowStep): StepKind {
  if ('parallel' in step) return 'parallel';
  if ('pause' in step) return 'pause';
  if ('check' in step) return 'check';
  if ('experiment' in step) return 'experiment';
  return 'fault';
}

export type { Experiment, LabelSelector, TargetMode };
