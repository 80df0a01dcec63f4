// Results in the custom resource's status subresource: after each reconcile pass whether the
// resource was accepted (the same problems `faultline validate` reports, a name clash with Git
// named), its spec hash and next scheduled run; on each run update the last run and the
// Running / Succeeded conditions and the resilience score of the last finished run (experiments
// and workflows). Status writes never hold up or fail a run: a failed write is logged and the
// next update carries the whole status again.
import { CronExpressionParser } from 'cron-parser';
import type { LoadResult } from '../experiments/model.js';
import type { Logger } from '../log.js';
import type { RunJobData, RunListener, RunRecord } from '../runs/types.js';
import { parseCrPath, type CustomResourceRef, type CustomResourceSource } from '../cluster/custom-resources.js';
import { scoreRun } from '../workflows/score.js';
import type { WorkflowRunRecord } from '../workflows/run-types.js';

export interface Condition {
  type: 'Accepted' | 'Running' | 'Succeeded';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

interface Known {
  conditions: Condition[];
  lastRun?: Record<string, unknown>;
  specHash?: string;
  nextRun?: string;
  score?: number; // the last finished run's resilience score (0..100; README "Resilience score")
  observedGeneration?: number;
  written?: string; // the JSON last written
}

const TERMINAL = new Set(['Succeeded', 'Failed', 'Aborted']);

function nextRunOf(schedule: { cron: string; timezone?: string } | undefined, suspended: boolean): string | undefined {
  if (!schedule || suspended) return undefined;
  try {
    return CronExpressionParser.parse(schedule.cron, schedule.timezone ? { tz: schedule.timezone } : {}).next().toISOString() ?? undefined;
  } catch {
    return undefined;
  }
}

export class CustomResourceStatus implements RunListener {
  private readonly known = new Map<string, Known>();
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly source: CustomResourceSource, private readonly log: Logger) {}

  private state(path: string, ref: CustomResourceRef): Known {
    let k = this.known.get(path);
    if (!k) {
      // a restarted controller starts from what the resource already says
      const st = (this.source.get(ref)?.status ?? {}) as Partial<Known>;
      k = { conditions: [...(st.conditions ?? [])], lastRun: st.lastRun, specHash: st.specHash, nextRun: st.nextRun, score: st.score };
      this.known.set(path, k);
    }
    return k;
  }

  private setCondition(k: Known, c: Omit<Condition, 'lastTransitionTime'>): void {
    const old = k.conditions.find((x) => x.type === c.type);
    const lastTransitionTime = old && old.status === c.status ? old.lastTransitionTime : new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    k.conditions = [...k.conditions.filter((x) => x.type !== c.type), { ...c, lastTransitionTime }].sort((a, b) => a.type.localeCompare(b.type));
  }

  private write(path: string, ref: CustomResourceRef, k: Known): void {
    const status: Record<string, unknown> = { conditions: k.conditions };
    if (k.observedGeneration !== undefined) status.observedGeneration = k.observedGeneration;
    if (k.specHash) status.specHash = k.specHash;
    if (k.lastRun) status.lastRun = k.lastRun;
    status.nextRun = k.nextRun ?? null; // merge patch: null removes it
    if (k.score !== undefined) status.score = k.score;
    const text = JSON.stringify(status);
    if (text === k.written) return;
    k.written = text;
    this.chain = this.chain.then(() => this.source.patchStatus(ref, status)).catch((err: unknown) => {
      k.written = undefined; // written again with the next change
      this.log.warn({ resource: path, err: (err as Error).message }, 'custom resource status not written');
    });
  }

  /** After a reconcile pass: accepted or not (with validate's messages), spec hash, next run. */
  afterReconcile(load: LoadResult): void {
    const byPath = new Map<string, { ok: boolean; specHash?: string; next?: string; messages: string[]; clash: boolean }>();
    for (const e of load.experiments) {
      if (!parseCrPath(e.file)) continue;
      byPath.set(e.file, { ok: true, specHash: e.specHash, next: nextRunOf(e.experiment.spec.schedule, e.experiment.spec.suspend ?? false), messages: [], clash: false });
    }
    for (const w of load.workflows ?? []) {
      if (!parseCrPath(w.file)) continue;
      byPath.set(w.file, { ok: true, specHash: w.specHash, next: nextRunOf(w.workflow.spec.schedule, w.workflow.spec.suspend ?? false), messages: [], clash: false });
    }
    for (const p of load.problems) {
      if (!parseCrPath(p.file)) continue;
      const entry = byPath.get(p.file) ?? { ok: false, messages: [], clash: false };
      entry.ok = false;
      entry.messages.push(p.message);
      if (/is defined more than once/.test(p.message)) entry.clash = true;
      byPath.set(p.file, entry);
    }
    for (const [path, r] of byPath) {
      const ref = parseCrPath(path)!;
      const k = this.state(path, ref);
      k.observedGeneration = this.source.get(ref)?.metadata.generation;
      if (r.ok) {
        this.setCondition(k, { type: 'Accepted', status: 'True', reason: 'Valid', message: 'the spec is valid and reconciled like a file from Git', observedGeneration: k.observedGeneration });
        k.specHash = r.specHash;
        k.nextRun = r.next;
      } else {
        this.setCondition(k, { type: 'Accepted', status: 'False', reason: r.clash ? 'DuplicateName' : 'Invalid', message: r.messages.join('\n'), observedGeneration: k.observedGeneration });
        k.specHash = undefined;
        k.nextRun = undefined;
      }
      this.write(path, ref, k);
    }
    // resources that are gone need nothing written; forget them
    for (const path of [...this.known.keys()]) if (!byPath.has(path)) this.known.delete(path);
  }

  onRunUpdate(record: RunRecord, job: RunJobData): void {
    const ref = parseCrPath(job.file);
    if (job.workflow || !ref || !this.source.get(ref)) return;
    const k = this.state(job.file, ref);
    k.lastRun = {
      id: record.id,
      state: record.state,
      ...(record.outcome ? { outcome: record.outcome } : {}),
      ...(record.reason ? { reason: record.reason } : {}),
      ...(record.reasonCode ? { reasonCode: record.reasonCode } : {}),
      specHash: record.specHash,
      ...(record.startedAt ? { startedAt: record.startedAt.replace(/\.\d+Z$/, 'Z') } : {}),
      ...(record.endedAt ? { endedAt: record.endedAt.replace(/\.\d+Z$/, 'Z') } : {}),
      targets: record.targets.length,
    };
    const ended = TERMINAL.has(record.state);
    const score = ended ? scoreRun(record) : undefined;
    if (score) k.score = score.value;
    this.runConditions(job.file, ref, k, record.id, record.state, ended, record.reasonCode, record.reason);
  }

  /** A ChaosWorkflow resource's run (the scored record, from the workflow reports). */
  onWorkflowUpdate(record: WorkflowRunRecord): void {
    const ref = parseCrPath(record.file);
    if (!ref || !this.source.get(ref)) return;
    const k = this.state(record.file, ref);
    k.lastRun = {
      id: record.id,
      state: record.phase,
      ...(record.reason ? { reason: record.reason } : {}),
      ...(record.reasonCode ? { reasonCode: record.reasonCode } : {}),
      specHash: record.specHash,
      ...(record.startedAt ? { startedAt: record.startedAt.replace(/\.\d+Z$/, 'Z') } : {}),
      ...(record.endedAt ? { endedAt: record.endedAt.replace(/\.\d+Z$/, 'Z') } : {}),
    };
    const ended = TERMINAL.has(record.phase);
    if (ended && record.score) k.score = record.score.value;
    this.runConditions(record.file, ref, k, record.id, record.phase, ended, record.reasonCode, record.reason);
  }

  private runConditions(path: string, ref: CustomResourceRef, k: Known, id: string, state: string, ended: boolean, reasonCode: string | undefined, why: string | undefined): void {
    const record = { id, state, reason: why };
    const reason = reasonCode ?? state;
    this.setCondition(k, { type: 'Running', status: ended ? 'False' : 'True', reason: ended ? 'RunEnded' : record.state, message: ended ? `run ${record.id} ended: ${record.state}` : `run ${record.id} is ${record.state}` });
    this.setCondition(k, {
      type: 'Succeeded',
      status: !ended ? 'Unknown' : record.state === 'Succeeded' ? 'True' : 'False',
      reason: !ended ? 'RunInProgress' : reason,
      message: record.reason ?? `run ${record.id}: ${record.state}`,
    });
    this.write(path, ref, k);
  }

  /** Status writes still queued (at shutdown). */
  idle(): Promise<void> {
    return this.chain;
  }
}
