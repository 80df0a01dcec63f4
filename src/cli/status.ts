import type { Command } from 'commander';
import { Queue } from 'bullmq';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { commandConfig, NO_REPO_URL } from './config.js';
import { action, connectRedis, within } from './fail.js';
import type { ControllerConfig } from '../config/types.js';
import { RedisRunStore, QUEUE_RUNS } from '../queue/index.js';
import { GitStatusStore } from '../report/git-status.js';
import type { AppliedRecord } from '../reconcile/types.js';
import type { RunJobData } from '../runs/types.js';
import { readCatalog } from '../controller/catalog.js';
import { experimentStatuses } from '../controller/status.js';
import type { ExperimentStatus, WorkflowStatus } from '../server/control-plane.js';
import { createWorkflowsView } from '../controller/workflow-view.js';
import { RedisWorkflowRunStore } from '../workflows/run-store.js';

// `faultline status`: reads Redis (desired state, runs, schedules) and the status branch
// (what was applied), so it works beside a running controller.
export function register(program: Command): void {
  program
    .command('status')
    .description('per experiment: file, spec hash, revision, state, last and next run')
    .option('-c, --config <file>', 'controller configuration file (YAML); env variables override it')
    .option('--json', 'print JSON (the experiments; with --workflows the workflows)')
    .option('--workflows', 'only the workflows: phase, current step, progress, score')
    .action(
      action('status', async (opts: { config?: string; json?: boolean; workflows?: boolean }) => {
        // Needs Redis; the status branch (repo.url) adds what was applied when it can be read.
        const config = commandConfig(opts.config);
        const redis = await connectRedis(config.redis.url, 5000);
        const runsQueue = new Queue<RunJobData>(QUEUE_RUNS, { connection: redis, prefix: config.redis.prefix });
        try {
          const prefix = config.redis.prefix;
          const runs = new RedisRunStore(redis, prefix);
          const flows = await within(createWorkflowsView({ redis, prefix, store: new RedisWorkflowRunStore(redis, prefix), runs }).list(), 10_000, 'Redis');
          if (opts.workflows) {
            console.log(opts.json ? JSON.stringify(flows, null, 2) : formatWorkflowTable(flows));
            return;
          }
          const applied = config.repo.url === NO_REPO_URL ? warnNoRepo() : await within(readApplied(config), 20_000, `the status branch at ${config.repo.url}`).catch(unreadable);
          const rows = await within(
            experimentStatuses({
              catalog: await readCatalog(redis, config.redis.prefix),
              applied,
              runs,
              runsQueue,
            }),
            10_000,
            'Redis',
          );
          if (opts.json) console.log(JSON.stringify(rows, null, 2));
          else console.log(flows.length ? `${formatStatusTable(rows)}\n\n${formatWorkflowTable(flows)}` : formatStatusTable(rows));
        } finally {
          await runsQueue.close().catch(() => undefined);
          redis.disconnect();
        }
      }),
    );
}

function warnNoRepo(): Map<string, AppliedRecord> {
  console.error('warning: no repo.url configured; showing Redis state only (applied revisions come from the status branch)');
  return new Map();
}

function unreadable(err: Error): Map<string, AppliedRecord> {
  console.error(`warning: cannot read the status branch (${err.message}); showing Redis state only`);
  return new Map();
}

async function readApplied(config: ControllerConfig): Promise<Map<string, AppliedRecord>> {
  // A throwaway bare clone of the status branch, removed afterwards.
  const dir = await mkdtemp(join(tmpdir(), 'faultline-status-'));
  const store = new GitStatusStore({
    url: config.repo.url,
    dir,
    branch: config.status.branch,
    token: config.repo.token,
    username: config.repo.username,
  });
  try {
    return await store.list();
  } catch (err) {
    console.error(`warning: cannot read the status branch (${(err as Error).message}); showing Redis state only`);
    return new Map();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatStatusTable(rows: ExperimentStatus[]): string {
  const header = ['NAME', 'FILE', 'SPEC', 'REVISION', 'STATE', 'LAST RUN', 'NEXT RUN'];
  const body = rows.map((r) => [
    r.name,
    r.line ? `${r.file}:${r.line}` : r.file,
    r.specHash?.slice(0, 12) ?? '-',
    r.revision?.slice(0, 12) ?? '-',
    r.state,
    r.lastRun ? `${r.lastRun.outcome ?? r.lastRun.state} ${r.lastRun.endedAt ?? r.lastRun.startedAt ?? ''}`.trim() : '-',
    r.nextRun ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const problems = rows.flatMap((r) => (r.problems ?? []).map((p) => `  ${r.file}:${p.line}:${p.column}: ${p.message}`));
  return [line(header), ...body.map(line), ...(problems.length ? ['', 'problems:', ...problems] : [])].join('\n');
}

/** One line per workflow: its state, the last run's phase, current step of total, progress and score. */
export function formatWorkflowTable(rows: WorkflowStatus[]): string {
  const header = ['WORKFLOW', 'STATE', 'PHASE', 'STEP', 'PROGRESS', 'SCORE', 'LAST RUN', 'TREND'];
  const body = rows.map((w) => {
    const r = w.lastRun;
    return [
      w.name,
      w.state,
      r?.phase ?? '-',
      r ? `${Math.min(r.currentStep + 1, r.totalSteps)}/${r.totalSteps}` : '-',
      r ? `${Math.round(r.progress * 100)}%` : '-',
      r?.score !== undefined ? String(r.score) : '-',
      r ? `${r.id} ${r.endedAt ?? r.startedAt ?? ''}`.trim() : '-',
      w.trend.length ? w.trend.map((t) => (t.score === undefined ? '-' : String(Math.round(t.score)))).join(' ') : '-',
    ];
  });
  if (rows.length === 0) return 'no workflows';
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...body.map(line)].join('\n');
}
