import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { loadConfig } from '../config/index.js';
import { startSimulator } from '../sim/index.js';
import { startController, type Controller } from '../controller/index.js';
import { readCatalog, type CatalogEntry } from '../controller/catalog.js';
import { demoRedis, demoRepo, DemoSetupError } from '../controller/demo-env.js';
import type { RunRecord } from '../runs/types.js';
import { validatePaths } from '../experiments/index.js';
import type { WorkflowRunRecord } from '../workflows/run-types.js';
import { EXIT, oneLine } from './fail.js';

const TERMINAL = new Set(['Succeeded', 'Failed', 'Aborted']);

export function register(program: Command): void {
  program
    .command('demo')
    .description('run the example experiments end to end: local git repo, Redis, the Kubernetes simulator, the controller')
    .option('--experiments <dir>', 'experiments to seed the demo repository with', 'experiments')
    .option('--timeout <seconds>', 'give up waiting for runs after this long', '100')
    .action(async (opts: { experiments: string; timeout: string }) => {
      let code: number;
      try {
        code = await demo(resolve(opts.experiments), Number(opts.timeout) * 1000);
      } catch (err) {
        console.error(`faultline demo: ${oneLine((err as Error).message)}`);
        code = err instanceof DemoSetupError ? EXIT.usage : EXIT.failed;
      }
      // Exit explicitly: a leftover socket must not keep a finished (or failed) demo alive.
      process.exit(code);
    });
}

async function demo(experimentsDir: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  const say = (msg: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}`);
  const logDir = resolve('.faultline-demo');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, 'controller.log');
  const log = pino({ level: 'info' }, pino.destination({ dest: logFile, sync: false }));

  // What the demo started, stopped in reverse order on every path (bounded, so teardown never hangs).
  const stoppers: { what: string; stop: () => Promise<unknown> }[] = [];
  const teardown = async () => {
    for (const s of stoppers.reverse()) {
      await Promise.race([s.stop().catch(() => undefined), new Promise((resolve) => setTimeout(() => resolve(say(`${s.what} did not stop within 10s; leaving it`)), 10_000).unref())]);
    }
    log.flush();
  };
  let redis, repo, sim;
  try {
    redis = await demoRedis();
    stoppers.push({ what: 'redis', stop: redis.stop });
    say(`redis: ${redis.url}${redis.started ? ' (a private redis-server started for the demo)' : ''}`);
    repo = await demoRepo(experimentsDir);
    stoppers.push({ what: 'git server', stop: () => repo!.close() });
    say(`git: ${repo.url} seeded from ${experimentsDir}`);
    sim = await startSimulator({ recreateDelayMs: 1000 });
    stoppers.push({ what: 'simulator', stop: () => sim!.close() });
    say(`kubernetes simulator: ${sim.url} (shop topology)`);
  } catch (err) {
    await teardown();
    throw err;
  }

  const prefix = `faultline-demo-${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    env: {
      FAULTLINE_REPO_URL: repo.url,
      FAULTLINE_POLL_INTERVAL: '2s',
      FAULTLINE_WORKDIR: join(repo.dir, 'controller'),
      REDIS_URL: redis.url,
      FAULTLINE_REDIS_PREFIX: prefix,
      FAULTLINE_HOST: '127.0.0.1',
      FAULTLINE_MAX_CONCURRENT_RUNS: '6',
      FAULTLINE_RUNS_CONCURRENCY: '6',
      FAULTLINE_API_TOKEN: randomBytes(16).toString('hex'),
    },
  });
  config.server.port = 0; // any free port

  let controller: Controller | undefined;
  let exit = 0;
  try {
    // The workflows that run once (no schedule, not suspended): the demo waits for each to end.
    const workflows = ((await validatePaths([experimentsDir])).workflows ?? [])
      .filter((w) => !w.workflow.spec.schedule && !w.workflow.spec.suspend)
      .map((w) => w.workflow.metadata.name);
    controller = await startController({ config, log, kubeConfig: sim.kubeConfig(), identity: 'demo' });
    say(`controller: ${controller.url} (dashboard at /, API at /api, metrics at /metrics; log in ${logFile})`);
    const runs = await follow(controller, config.redis.prefix, timeoutMs, say, workflows);
    printSummary(runs.entries, runs.latest);
    printWorkflows(runs.workflows);
    if (!runs.complete) {
      say('timed out before every experiment had run');
      exit = 1;
    }
  } finally {
    say('stopping: controller, simulator, git server, redis');
    if (controller) stoppers.push({ what: 'controller', stop: () => controller!.close() });
    await teardown();
  }
  return exit;
}

async function follow(
  controller: Controller,
  prefix: string,
  timeoutMs: number,
  say: (m: string) => void,
  workflowNames: string[],
): Promise<{ entries: CatalogEntry[]; latest: Map<string, RunRecord>; workflows: WorkflowRunRecord[]; complete: boolean }> {
  const deadline = Date.now() + timeoutMs;
  const seen = new Map<string, string>();
  const latest = new Map<string, RunRecord>();
  const workflows = new Map<string, WorkflowRunRecord>();
  let entries: CatalogEntry[] = [];
  let reported = false;
  while (Date.now() < deadline) {
    const catalog = await readCatalog(controller.queues.redis, prefix);
    if (catalog) {
      entries = catalog.entries;
      if (!reported) {
        reported = true;
        say(`reconciled ${catalog.revision.slice(0, 12)}: ${catalog.entries.length} experiments, ${catalog.problems.length} problems`);
      }
    }
    for (const w of (await controller.workflowRuns.list({ limit: 50 })).reverse()) {
      const key = `workflow ${w.id}`;
      const state = `${w.phase} ${w.steps.map((s) => s.phase).join(',')}`;
      if (seen.get(key) !== state) {
        const before = seen.get(key);
        seen.set(key, state);
        const running = w.steps.filter((s) => s.phase === 'Running').map((s) => s.path.split('/').slice(1).join('/'));
        if (before?.split(' ')[0] !== w.phase || running.length) say(`${`workflow ${w.workflow}`.padEnd(28)} ${w.phase}${running.length ? ` (step ${running.join(', ')})` : ''}${w.reason ? ` — ${w.reason}` : ''}`);
      }
      workflows.set(w.workflow, w);
    }
    const { runs } = await controller.runs.list({ limit: 200 });
    for (const r of runs.reverse()) {
      if (seen.get(r.id) !== r.state) {
        seen.set(r.id, r.state);
        const extra = r.outcome ? ` — ${r.outcome}${r.reason ? `: ${r.reason}` : ''}` : '';
        say(`${r.experiment.padEnd(28)} ${r.state}${extra}`);
      }
      latest.set(r.experiment, r);
    }
    // Done when every experiment that runs once (no schedule, not suspended) has finished a run.
    const due = entries.filter((e) => !e.experiment.spec.schedule && !e.experiment.spec.suspend);
    const done = due.every((e) => TERMINAL.has(latest.get(e.name)?.state ?? '')) && workflowNames.every((n) => TERMINAL.has(workflows.get(n)?.phase ?? ''));
    if (catalog && done) return { entries, latest, workflows: [...workflows.values()], complete: true };
    await new Promise((r) => setTimeout(r, 500));
  }
  return { entries, latest, workflows: [...workflows.values()], complete: false };
}

/** Each workflow run: its verdict, then one line per step (indented by nesting) and each assertion. */
function printWorkflows(runs: WorkflowRunRecord[]): void {
  for (const w of runs) {
    const secs = (from?: string, to?: string) => (from && to ? `${((Date.parse(to) - Date.parse(from)) / 1000).toFixed(1)}s` : '-');
    const out = [`WORKFLOW ${w.workflow} (run ${w.id}): ${w.phase}${w.reason ? ` — ${w.reason}` : ''}; ${Math.round(w.progress * 100)}% of ${w.totalSteps} steps`];
    for (const s of w.steps) {
      const depth = s.path.split('/').length - 2;
      const fault = s.faultWindow ? ` fault in place ${secs(s.faultWindow.from, s.faultWindow.to)} from +${secs(w.startedAt, s.faultWindow.from)}` : '';
      const note = s.reason ? ` — ${s.reason.length > 70 ? `${s.reason.slice(0, 67)}...` : s.reason}` : '';
      out.push(`  ${'  '.repeat(depth)}${s.name.padEnd(Math.max(4, 22 - 2 * depth))} ${s.kind.padEnd(10)} ${s.phase.padEnd(9)} ${secs(s.startedAt, s.endedAt).padStart(6)}${fault}${s.continueOnFailure ? ' [continueOnFailure]' : ''}${note}`);
    }
    const last = new Map(w.assertions.map((a) => [`${a.name} ${a.when}`, a]));
    for (const a of last.values()) out.push(`  assertion ${a.name} (${a.when}): ${a.value === null ? 'no value' : Math.round(a.value * 1000) / 1000} ${a.operator} ${a.threshold} ${a.ok ? 'ok' : 'FAILED'}`);
    console.log(`${out.join('\n')}\n`);
  }
}

function printSummary(entries: CatalogEntry[], latest: Map<string, RunRecord>): void {
  const header = ['EXPERIMENT', 'FAULT', 'OUTCOME', 'TARGETS', 'BLAST RADIUS', 'RECOVERY', 'NOTE'];
  const rows = entries.map((e) => {
    const spec = e.experiment.spec;
    const r = latest.get(e.name);
    const note = spec.suspend ? 'suspended' : spec.schedule ? `scheduled: ${spec.schedule.cron} ${spec.schedule.timezone ?? 'UTC'}` : (r?.reason ?? '');
    return [
      e.name,
      spec.fault.type,
      r?.outcome ?? (spec.suspend || spec.schedule ? '-' : (r?.state ?? 'not run')),
      r ? String(r.targets.length) : '-',
      r?.blastRadius.map((b) => `${b.workload} ${b.hit}/${b.ready}`).join(', ') || '-',
      r?.recoveryMs !== undefined ? `${(r.recoveryMs / 1000).toFixed(1)}s` : '-',
      note.length > 70 ? `${note.slice(0, 67)}...` : note,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(['', line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ''].join('\n'));
}
