// The controller's reconcile path on a repository of 10,000 experiments served by the local
// smart-HTTP server: createGitSource → DesiredState → Reconciler with real BullMQ queues and
// RedisAppliedStore (a unique Redis prefix, removed afterwards with SCAN + DEL). Cold: clone +
// full load + plan + enqueue 10,000 runs. Incremental: a push that changes one file, split into
// the fetch and the rest (diff + parse + plan + apply). The controller side runs in a child
// process so its peak RSS is its own; the git server stays in this process.
// The applied records go to RedisAppliedStore, not the controller's GitStatusStore, and the
// catalog is not published: `faultline run` as a process is run-process.bench.ts.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { startGitServer, gitEnv } from '../test/helpers/git-server.js';
import type { BenchResult } from './types.js';

const run = promisify(execFile);
const FILES = 10_000;
const TEAMS = 100;
const env = { ...process.env, ...gitEnv };
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function experiment(i: number, duration = '30s'): string {
  return `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata:
  name: bench-${i}
  labels: { team: team-${i % TEAMS} }
spec:
  description: Generated experiment number ${i}.
  fault:
    type: pod-kill
    params: { gracePeriodSeconds: ${i % 30} }
  target:
    namespace: shop
    selector: { matchLabels: { app: svc-${i % 50} } }
    mode: { type: one }
  duration: ${duration}
`;
}

const INCREMENTAL_PASSES = 5;

interface IncPass {
  fetchMs: number; // ls-refs + fetch of the new pack
  restMs: number; // everything else: diff + read + parse + plan + apply
  sourceRestMs: number; // diff + blob read inside the source
  parseMs: number; // DesiredState.apply + result()
  reconcileMs: number; // plan + apply
  counts: Record<string, number>;
}

interface ChildResult {
  coldMs: number;
  coldFetchMs: number; // ls-refs + pack download and indexing
  coldSourceRestMs: number; // tree walk + blob reads
  coldParseMs: number; // DesiredState.reset + result()
  coldReconcileMs: number; // plan + apply (enqueue + applied records)
  coldEnqueued: number;
  passes: IncPass[];
  runsWaiting: number;
  maxRssMb: number;
  baseRssMb: number;
}

async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (found.length) await redis.del(...found);
  } while (cursor !== '0');
}

/** Runs in the child: cold reconcile, push one change with the git CLI, incremental reconcile. */
async function child(url: string, work: string, dir: string): Promise<void> {
  const [{ createGitSource }, { DesiredState }, { Reconciler, RedisAppliedStore }, { createQueues, redisConnection }, { silentLogger }] = await Promise.all([
    import('../src/source/index.js'),
    import('../src/controller/desired.js'),
    import('../src/reconcile/index.js'),
    import('../src/queue/index.js'),
    import('../src/log.js'),
  ]);
  const baseRssMb = process.memoryUsage().rss / (1 << 20); // modules loaded, before any work
  const prefix = `flbench-${randomUUID()}`;
  const redis = redisConnection(REDIS_URL);
  const queues = createQueues(redis, prefix);
  try {
    const source = createGitSource({ url, branch: 'main', dir, log: silentLogger });
    const desired = new DesiredState();
    const reconciler = new Reconciler({ queues, applied: new RedisAppliedStore(redis, prefix), log: silentLogger });
    await queues.runs.waitUntilReady();

    // Cold: the controller's first pass (src/controller/index.ts reconcileOnce, without metrics).
    let t = performance.now();
    const cold = await source.sync();
    const coldSyncMs = performance.now() - t;
    let t1 = performance.now();
    desired.reset(cold.changed);
    const coldLoad = desired.result();
    const coldParseMs = performance.now() - t1;
    t1 = performance.now();
    const coldSummary = await reconciler.reconcile({ revision: cold.revision, load: coldLoad, freeze: cold.freeze });
    const coldReconcileMs = performance.now() - t1;
    const coldMs = performance.now() - t;
    if (coldLoad.experiments.length !== FILES || coldLoad.problems.length) throw new Error(`cold load: ${coldLoad.experiments.length} experiments, ${coldLoad.problems.length} problems`);
    if (coldSummary.failed) throw new Error(`cold reconcile: ${coldSummary.failed} items failed`);

    // One file changes (a new spec for bench-N), pushed with the git CLI, then one pass. The
    // first pass after the cold one also pays for code paths not yet compiled; a few more show
    // the steady state.
    const passes: IncPass[] = [];
    for (let k = 0; k < INCREMENTAL_PASSES; k++) {
      const n = 7 + k * 1000;
      writeFileSync(join(work, `experiments/team-${n % TEAMS}/exp-${n}.yaml`), experiment(n, '45s'));
      await run('git', ['-C', work, 'commit', '-qam', `change ${k}`], { env });
      await run('git', ['-C', work, 'push', '-q', 'origin', 'HEAD:refs/heads/main'], { env });

      t = performance.now();
      const inc = await source.sync();
      const syncMs = performance.now() - t;
      t1 = performance.now();
      desired.apply(inc.changed, inc.deleted);
      const load = desired.result();
      const parseMs = performance.now() - t1;
      t1 = performance.now();
      const summary = await reconciler.reconcile({ revision: inc.revision, load, freeze: inc.freeze });
      const reconcileMs = performance.now() - t1;
      const totalMs = performance.now() - t;
      if (inc.changed.length !== 1 || summary.counts.update !== 1 || summary.enqueued !== 1 || summary.failed) {
        throw new Error(`incremental: ${inc.changed.length} changed, counts ${JSON.stringify(summary.counts)}, enqueued ${summary.enqueued}`);
      }
      const fetchMs = inc.stats!.remoteMs + inc.stats!.fetchMs;
      passes.push({ fetchMs, restMs: totalMs - fetchMs, sourceRestMs: syncMs - fetchMs, parseMs, reconcileMs, counts: summary.counts });
    }
    const runsWaiting = await queues.runs.getWaitingCount();

    const cs = cold.stats!;
    const out: ChildResult = {
      coldMs,
      coldFetchMs: cs.remoteMs + cs.fetchMs,
      coldSourceRestMs: coldSyncMs - cs.remoteMs - cs.fetchMs,
      coldParseMs,
      coldReconcileMs,
      coldEnqueued: coldSummary.enqueued,
      passes,
      runsWaiting,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      baseRssMb,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await deletePrefix(redis, prefix);
    await queues.close();
    await redis.quit().catch(() => redis.disconnect());
  }
}

function median(passes: IncPass[]): IncPass {
  return [...passes].sort((a, b) => a.restMs - b.restMs)[Math.floor(passes.length / 2)]!;
}

function incremental(which: string, p: IncPass, runsWaiting: number, extra = ''): BenchResult[] {
  const counts = Object.entries(p.counts).filter(([, n]) => n).map(([k, n]) => `${k} ${n}`).join(', ');
  return [
    { name: `reconcile incremental (1 file, ${which}): fetch`, value: p.fetchMs, unit: 'ms', note: 'ls-refs + fetch of the new pack' },
    {
      name: `reconcile incremental (1 file, ${which}): diff + parse + plan + apply`,
      value: p.restMs,
      unit: 'ms',
      target: '< 50 ms',
      note: `${extra}diff/read ${p.sourceRestMs.toFixed(1)} + parse ${p.parseMs.toFixed(1)} + plan/apply ${p.reconcileMs.toFixed(1)} ms; ${counts}; ${runsWaiting} runs waiting at the end`,
    },
  ];
}

export default async function (): Promise<BenchResult[]> {
  const tmp = mkdtempSync(join(tmpdir(), 'fl-bench-rec-'));
  const server = await startGitServer();
  try {
    const url = await server.createRepo('bench');
    const work = join(tmp, 'work');
    await run('git', ['init', '-q', '-b', 'main', work], { env });
    for (let i = 0; i < FILES; i++) {
      const d = join(work, 'experiments', `team-${i % TEAMS}`);
      if (i < TEAMS) mkdirSync(d, { recursive: true });
      writeFileSync(join(d, `exp-${i}.yaml`), experiment(i));
    }
    await run('git', ['-C', work, 'add', '-A'], { env });
    await run('git', ['-C', work, 'commit', '-qm', '10k experiments'], { env });
    await run('git', ['-C', work, 'remote', 'add', 'origin', url], { env });
    await run('git', ['-C', work, 'push', '-q', 'origin', 'HEAD:refs/heads/main'], { env });

    // Async: the git server lives in this process and must keep serving while the child runs.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', url, work, join(tmp, 'source.git')], {
      env: { ...process.env, LOG_LEVEL: 'silent' },
      maxBuffer: 16 << 20,
    });
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult;
    if (r.coldEnqueued !== FILES) throw new Error(`cold reconcile enqueued ${r.coldEnqueued} runs, expected ${FILES}`);
    return [
      {
        name: 'reconcile cold: clone + full load + plan + enqueue (10k experiments)',
        value: r.coldMs / 1000,
        unit: 's',
        target: '< 3 s for clone + load',
        note: `fetch ${r.coldFetchMs.toFixed(0)} + tree walk/read ${r.coldSourceRestMs.toFixed(0)} + parse/validate ${r.coldParseMs.toFixed(0)} + plan/enqueue ${r.coldReconcileMs.toFixed(0)} ms; ${r.coldEnqueued} runs enqueued`,
      },
      ...incremental('first', r.passes[0]!, r.runsWaiting),
      ...incremental(`median of ${r.passes.length}`, median(r.passes), r.runsWaiting, `all passes ${r.passes.map((p) => p.restMs.toFixed(1)).join(', ')} ms; `),
      { name: 'reconcile peak RSS (10k experiments)', value: r.maxRssMb, unit: 'MB', target: '< 300 MB', note: `maxRSS of the controller-side process; ${r.baseRssMb.toFixed(0)} MB with modules loaded` },
    ];
  } finally {
    await server.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3]!, process.argv[4]!, process.argv[5]!);
