// Workflows as the API, the dashboard and `faultline status` see them: the applied workflows
// (Redis) with their recent runs (the workflow run store), each finished run's resilience score,
// the trend of the last runs; and the experiments' trends from their runs. Pictures are drawn
// from the same records (src/report/svg.ts).
import type { Redis } from 'ioredis';
import { keys } from '../queue/keys.js';
import type { RunRecord, RunStore } from '../runs/types.js';
import { runSummary, trendOf } from '../report/git-status.js';
import type { TrendEntry } from '../report/svg.js';
import type { WorkflowRunStore } from '../workflows/run-store.js';
import type { WorkflowRunRecord } from '../workflows/run-types.js';
import { scoreWorkflowRun } from '../workflows/score.js';
import type { WorkflowDetail, WorkflowStatus, WorkflowsView } from '../server/control-plane.js';

export const TREND_RUNS = 20;

export function createWorkflowsView(deps: { redis: Redis; prefix: string; store: Pick<WorkflowRunStore, 'list' | 'get'>; runs: Pick<RunStore, 'get' | 'list'> }): WorkflowsView {
  const { redis, prefix, store, runs } = deps;

  // A finished run without a stored score (a listener that failed, an older record) is scored here.
  const scored = async (r: WorkflowRunRecord): Promise<WorkflowRunRecord> => {
    if (r.score || !['Succeeded', 'Failed', 'Aborted'].includes(r.phase)) return r;
    const faultRuns: Record<string, RunRecord> = {};
    for (const s of r.steps) {
      const run = s.runId ? await runs.get(s.runId).catch(() => undefined) : undefined;
      if (run) faultRuns[s.path] = run;
    }
    const score = scoreWorkflowRun(r, faultRuns);
    return score ? { ...r, score } : r;
  };

  const status = (name: string, applied: string | undefined, recent: WorkflowRunRecord[]): WorkflowStatus => {
    const mode = applied?.split('|')[1];
    const out: WorkflowStatus = {
      name,
      state: applied === undefined ? 'removed' : mode === 'suspended' ? 'suspended' : mode === 'once' ? 'once' : 'scheduled',
      trend: trendOf(recent),
    };
    const last = recent[0];
    if (last) {
      out.file = last.file;
      out.lastRun = {
        id: last.id, phase: last.phase, currentStep: last.currentStep, totalSteps: last.totalSteps, progress: last.progress,
        ...(last.score ? { score: last.score.value } : {}), ...(last.startedAt ? { startedAt: last.startedAt } : {}),
        ...(last.endedAt ? { endedAt: last.endedAt } : {}), ...(last.reason ? { reason: last.reason } : {}),
      };
    }
    const lastScored = recent.find((r) => r.score);
    if (lastScored?.score) out.score = lastScored.score.value;
    return out;
  };

  const recentOf = async (name: string) => Promise.all((await store.list({ workflow: name, limit: TREND_RUNS })).map(scored));

  return {
    async list() {
      const applied = await redis.hgetall(keys.workflowsApplied(prefix));
      const names = new Set(Object.keys(applied));
      for (const r of await store.list({ limit: 200 })) names.add(r.workflow);
      const out: WorkflowStatus[] = [];
      for (const name of [...names].sort()) out.push(status(name, applied[name], await recentOf(name)));
      return out;
    },
    async get(name) {
      const applied = await redis.hget(keys.workflowsApplied(prefix), name);
      const recent = await recentOf(name);
      if (applied === null && recent.length === 0) return undefined;
      const detail: WorkflowDetail = { ...status(name, applied ?? undefined, recent), runs: recent };
      return detail;
    },
    async run(name, id) {
      const r = await store.get(id);
      return r && r.workflow === name ? scored(r) : undefined;
    },
    async experimentTrend(name): Promise<TrendEntry[]> {
      const { runs: list } = await runs.list({ experiment: name, limit: TREND_RUNS });
      return trendOf(list.map(runSummary));
    },
  };
}
