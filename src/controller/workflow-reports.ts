// What happens downstream of a workflow run record: when a run ends its resilience score is
// computed (from its steps' fault runs in the run store) and saved with the record, the status
// branch records it (run, timeline, trend), and the metrics count its steps by outcome.
import type { Logger } from '../log.js';
import { resilienceScore, workflowSteps } from '../metrics.js';
import type { RunRecord, RunStore } from '../runs/types.js';
import type { WorkflowRunStore } from '../workflows/run-store.js';
import type { WorkflowListener } from '../workflows/runner.js';
import type { WorkflowRunRecord } from '../workflows/run-types.js';
import { scoreWorkflowRun } from '../workflows/score.js';

const TERMINAL = new Set(['Succeeded', 'Failed', 'Aborted']);

export class WorkflowReports implements WorkflowListener {
  private readonly counted = new Set<string>(); // run ids whose steps were counted (bounded below)

  constructor(
    private readonly deps: {
      runs: Pick<RunStore, 'get'>;
      store: Pick<WorkflowRunStore, 'save'>;
      listeners: WorkflowListener[]; // the status branch, PR comment: they get the scored record
      log: Logger;
    },
  ) {}

  async onWorkflowUpdate(record: WorkflowRunRecord): Promise<void> {
    if (!TERMINAL.has(record.phase)) {
      for (const l of this.deps.listeners) await l.onWorkflowUpdate(record);
      return;
    }
    const scored = record.score ? record : await this.score(record);
    for (const l of this.deps.listeners) {
      try {
        await l.onWorkflowUpdate(scored);
      } catch (err) {
        this.deps.log.error({ err: (err as Error).message, workflow: record.workflow, runId: record.id }, 'workflow report failed');
      }
    }
    if (this.counted.has(record.id)) return;
    this.counted.add(record.id);
    if (this.counted.size > 10_000) this.counted.delete(this.counted.values().next().value!);
    if (scored.score) resilienceScore.set({ workflow: record.workflow }, scored.score.value);
    for (const s of record.steps) workflowSteps.inc({ workflow: record.workflow, outcome: s.phase.toLowerCase() });
  }

  private async score(record: WorkflowRunRecord): Promise<WorkflowRunRecord> {
    const faultRuns: Record<string, RunRecord> = {};
    for (const s of record.steps) {
      if (!s.runId) continue;
      const run = await this.deps.runs.get(s.runId).catch(() => undefined);
      if (run) faultRuns[s.path] = run;
    }
    const score = scoreWorkflowRun(record, faultRuns);
    if (!score) return record;
    const scored = { ...record, score };
    await this.deps.store.save(scored).catch((err: unknown) => this.deps.log.error({ err: (err as Error).message, workflow: record.workflow, runId: record.id }, 'workflow score not saved'));
    return scored;
  }
}
