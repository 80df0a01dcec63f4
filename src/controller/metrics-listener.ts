// Turns run progress into the metrics in src/metrics.ts.
import type { RunJobData, RunListener, RunRecord } from '../runs/types.js';
import { activeFaults, guardBlocks, recoveryTime, resilienceScore, runDuration, runsTotal } from '../metrics.js';
import { scoreRun } from '../workflows/score.js';

const INJECTED = new Set(['Injecting', 'Running', 'Reverting']);

export class MetricsListener implements RunListener {
  private readonly active = new Map<string, string>(); // run id → fault type

  onRunUpdate(record: RunRecord, job?: RunJobData): void {
    const fault = record.faultType;
    if (INJECTED.has(record.state) && !this.active.has(record.id)) {
      this.active.set(record.id, fault);
      activeFaults.inc({ fault });
    }
    if (!record.outcome) return;
    if (this.active.delete(record.id)) activeFaults.dec({ fault });
    runsTotal.inc({ fault, outcome: record.outcome });
    const start = Date.parse(record.startedAt ?? record.createdAt);
    const end = Date.parse(record.endedAt ?? new Date().toISOString());
    if (Number.isFinite(start) && Number.isFinite(end)) runDuration.observe({ fault, outcome: record.outcome }, (end - start) / 1000);
    if (record.recoveryMs !== undefined) recoveryTime.observe({ fault }, record.recoveryMs / 1000);
    for (const g of record.guards) if (!g.ok) guardBlocks.inc({ guard: g.guard });
    // A workflow step's run is scored within its workflow's score, not as an experiment of its own.
    const score = job?.workflow ? undefined : scoreRun(record);
    if (score) resilienceScore.set({ experiment: record.experiment }, score.value);
  }
}
