// Report delivery failures are logged, counted here and announced to hooks, never thrown into a
// run. The controller's hook (src/controller/reporters.ts) turns them into
// faultline_report_failures_total; this module does not touch the metric itself, so a failure is
// counted once.
import type { Logger } from '../log.js';
// A registered host's kind (github, gitlab, ...) or 'slack', 'webhook', 'git-status'.
export type ReportTarget = string;
export type ReportFailureHook = (target: ReportTarget, err: unknown, what: string) => void;

const hooks = new Set<ReportFailureHook>();
const counts = new Map<ReportTarget, number>();

/** Subscribe to permanent report failures; returns the unsubscribe function. */
export function onReportFailure(hook: ReportFailureHook): () => void {
  hooks.add(hook);
  return () => hooks.delete(hook);
}

/** Failures counted in this process for a target (the same number as the metric). */
export function reportFailureCount(target: ReportTarget): number {
  return counts.get(target) ?? 0;
}

export function recordReportFailure(target: ReportTarget, err: unknown, what: string, log?: Logger): void {
  counts.set(target, (counts.get(target) ?? 0) + 1);
  log?.error({ err, target }, `report failed: ${what}`);
  for (const hook of hooks) {
    try {
      hook(target, err, what);
    } catch {
      // a broken hook must not break reporting
    }
  }
}
