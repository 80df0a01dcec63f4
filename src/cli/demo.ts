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
    controller = await startController({ config, log, kubeConfig: sim.kubeConfig(), identity: 'demo' });
    say(`controller: ${controller.url} (dashboard at /, API at /api, metrics at /metrics; log in ${logFile})`);
    const runs = await follow(controller, config.redis.prefix, timeoutMs, say);
    printSummary(runs.entries, runs.latest);
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
): Promise<{ entries: CatalogEntry[]; latest: Map<string, RunRecord>; complete: boolean }> {
  const deadline = Date.now() + timeoutMs;
  const seen = new Map<string, string>();
  const latest = new Map<string, RunRecord>();
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
    if (catalog && due.every((e) => TERMINAL.has(latest.get(e.name)?.state ?? ''))) return { entries, latest, complete: true };
    await new Promise((r) => setTimeout(r, 500));
  }
  return { entries, latest, complete: false };
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
