// Per-experiment status: the desired state (catalog), what was applied (status branch or
// Redis), the latest run and the next scheduled time. Serves the API and `faultline status`.
import type { Queue } from 'bullmq';
import type { AppliedRecord } from '../reconcile/types.js';
import type { RunJobData, RunRecord, RunStore } from '../runs/types.js';
import type { ExperimentState, ExperimentStatus } from '../server/control-plane.js';
import type { CatalogSnapshot } from './catalog.js';

const ACTIVE = new Set(['Pending', 'Validating', 'Injecting', 'Running', 'Reverting']);

export interface StatusInputs {
  catalog: CatalogSnapshot | undefined;
  applied: Map<string, AppliedRecord>;
  runs: Pick<RunStore, 'list'>;
  runsQueue?: Queue<RunJobData>;
}

export async function experimentStatuses(inputs: StatusInputs): Promise<ExperimentStatus[]> {
  const { catalog } = inputs;
  const next = await nextRuns(inputs.runsQueue);
  const waiting = await waitingExperiments(inputs.runsQueue);
  const out: ExperimentStatus[] = [];
  for (const entry of catalog?.entries ?? []) {
    const spec = entry.experiment.spec;
    const { runs } = await inputs.runs.list({ experiment: entry.name, limit: 1 });
    const last = runs[0];
    const applied = inputs.applied.get(entry.name);
    const status: ExperimentStatus = {
      name: entry.name,
      file: entry.file,
      line: entry.line,
      revision: entry.revision,
      specHash: entry.specHash,
      fault: spec.fault.type,
      namespace: spec.target.namespace,
      state: stateOf({ suspended: spec.suspend === true, applied, specHash: entry.specHash, last, queued: waiting.has(entry.name) }),
    };
    if (spec.schedule) status.schedule = spec.schedule;
    const at = next.get(entry.name);
    if (at !== undefined && !spec.suspend) status.nextRun = new Date(at).toISOString();
    if (last) status.lastRun = lastRunOf(last);
    out.push(status);
  }
  // Files that failed validation: one row per file, so `status` shows them too.
  const byFile = new Map<string, ExperimentStatus>();
  for (const p of catalog?.problems ?? []) {
    const row = byFile.get(p.file) ?? { name: `(invalid) ${p.file}`, file: p.file, state: 'invalid' as const, problems: [] };
    row.problems!.push({ line: p.line, column: p.column, message: p.message });
    byFile.set(p.file, row);
  }
  out.push(...byFile.values());
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function lastRunOf(r: RunRecord): NonNullable<ExperimentStatus['lastRun']> {
  const last: NonNullable<ExperimentStatus['lastRun']> = { id: r.id, state: r.state };
  if (r.outcome) last.outcome = r.outcome;
  if (r.startedAt) last.startedAt = r.startedAt;
  if (r.endedAt) last.endedAt = r.endedAt;
  if (r.reason) last.reason = r.reason;
  return last;
}

function stateOf(s: {
  suspended: boolean;
  applied: AppliedRecord | undefined;
  specHash: string;
  last: RunRecord | undefined;
  queued: boolean;
}): ExperimentState {
  if (s.suspended) return 'suspended';
  if (s.last && ACTIVE.has(s.last.state)) return 'running';
  if (s.queued) return 'queued';
  if (!s.applied || s.applied.specHash !== s.specHash) return 'pending';
  if (s.last && s.last.specHash === s.specHash && s.last.outcome) return s.last.outcome;
  return 'queued';
}

async function nextRuns(queue: Queue<RunJobData> | undefined): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!queue) return out;
  for (const s of await queue.getJobSchedulers(0, -1, true)) {
    if (s.next !== undefined) out.set(s.key, s.next);
  }
  return out;
}

async function waitingExperiments(queue: Queue<RunJobData> | undefined): Promise<Set<string>> {
  const out = new Set<string>();
  if (!queue) return out;
  for (const job of await queue.getJobs(['waiting', 'prioritized'], 0, 999)) {
    if (job?.data) out.add(job.data.experiment);
  }
  return out;
}
