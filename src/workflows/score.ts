// The resilience score (README "Resilience score"): 0..100 for one finished run, a weighted mean
// of the parts that were measured. A part with nothing to measure is left out and the weights of
// the others carry the score, so a run is never rewarded or punished for a probe it did not have.
import type { RunRecord } from '../runs/types.js';
import type { Score, StepRun, WorkflowRunRecord } from './run-types.js';

export const SCORE_WEIGHTS = {
  experiment: { probes: 50, recovery: 30, outcome: 20 },
  workflow: { steps: 50, assertions: 30, outcome: 20 },
} as const;

/** Recovery at or under the target scores 1, falling linearly to 0 at twice the target. */
export const DEFAULT_RECOVERY_TARGET_MS = 60_000;

export interface ScoreOptions {
  recoveryTargetMs?: number;
}

function weighted(parts: Score['parts']): Score | undefined {
  const total = parts.reduce((n, p) => n + p.weight, 0);
  if (total === 0) return undefined;
  const value = Math.round((parts.reduce((n, p) => n + p.weight * p.value, 0) / total) * 1000) / 10;
  return { value, parts: parts.map((p) => ({ ...p, value: Math.round(p.value * 1000) / 1000 })) };
}

/** 1 at or under the target, 0 at twice the target or more. */
export function recoveryValue(recoveryMs: number, targetMs = DEFAULT_RECOVERY_TARGET_MS): number {
  if (!(targetMs > 0)) throw new Error('recovery target must be positive');
  if (recoveryMs <= targetMs) return 1;
  return Math.max(0, 2 - recoveryMs / targetMs);
}

function injected(r: RunRecord): boolean {
  return r.timeline.some((t) => t.state === 'Running' || t.code === 'Injected') || r.recoveryMs !== undefined;
}

/**
 * The score of a finished experiment run; undefined while it runs and for a run that never put
 * its fault in place (refused, before-probe failed, not started): those say nothing about how the
 * system held up.
 *  - probes (50): passed checks / all checks of the probes during and after the fault
 *  - recovery (30): recoveryValue(recoveryMs); 0 when the workloads did not recover; left out
 *    when the fault hit no workload (nothing to recover)
 *  - outcome (20): succeeded 1, failed 0; left out for an aborted run (stopped from outside)
 */
export function scoreRun(r: RunRecord, opts: ScoreOptions = {}): Score | undefined {
  if (!r.outcome || !injected(r)) return undefined;
  const w = SCORE_WEIGHTS.experiment;
  const parts: Score['parts'] = [];
  const probes = r.probes.filter((p) => p.phase !== 'before');
  const checks = probes.reduce((n, p) => n + p.checks, 0);
  if (checks > 0) {
    const failures = probes.reduce((n, p) => n + Math.min(p.failures, p.checks), 0);
    parts.push({ name: 'probes', weight: w.probes, value: (checks - failures) / checks });
  }
  if (r.blastRadius.length > 0) {
    parts.push({ name: 'recovery', weight: w.recovery, value: r.recoveryMs === undefined ? 0 : recoveryValue(r.recoveryMs, opts.recoveryTargetMs) });
  }
  if (r.outcome !== 'aborted') parts.push({ name: 'outcome', weight: w.outcome, value: r.outcome === 'succeeded' ? 1 : 0 });
  return weighted(parts);
}

const FINISHED = new Set(['Succeeded', 'Failed', 'Aborted']);

/**
 * The score of a finished workflow run; undefined while it runs.
 *  - steps (50): the mean over its fault, experiment and check steps (at every level): a fault or
 *    experiment step with a scored fault run counts its score / 100, any other step 1 when it
 *    Succeeded and 0 otherwise (Failed, Aborted, Skipped, never started)
 *  - assertions (30): passed samples / all samples (one that could not be evaluated fails)
 *  - outcome (20): Succeeded 1, Failed 0; left out for an Aborted run
 */
export function scoreWorkflowRun(r: WorkflowRunRecord, faultRuns: Record<string, RunRecord> = {}, opts: ScoreOptions = {}): Score | undefined {
  if (!FINISHED.has(r.phase)) return undefined;
  const w = SCORE_WEIGHTS.workflow;
  const parts: Score['parts'] = [];
  const judged = r.steps.filter((s) => s.kind === 'fault' || s.kind === 'experiment' || s.kind === 'check');
  if (judged.length > 0) {
    const value = judged.reduce((n, s) => n + stepValue(s, faultRuns, opts), 0) / judged.length;
    parts.push({ name: 'steps', weight: w.steps, value });
  }
  if (r.assertions.length > 0) parts.push({ name: 'assertions', weight: w.assertions, value: r.assertions.filter((a) => a.ok).length / r.assertions.length });
  if (r.phase !== 'Aborted') parts.push({ name: 'outcome', weight: w.outcome, value: r.phase === 'Succeeded' ? 1 : 0 });
  return weighted(parts);
}

function stepValue(s: StepRun, faultRuns: Record<string, RunRecord>, opts: ScoreOptions): number {
  const run = faultRuns[s.path];
  const score = run ? scoreRun(run, opts) : undefined;
  if (score) return score.value / 100;
  return s.phase === 'Succeeded' ? 1 : 0;
}
