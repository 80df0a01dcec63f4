// BENCH_RUNS (default 200; the report's figure is 1000) one-off runs at once on one replica:
// `faultline run` as a process with the caps raised in config (FAULTLINE_RUNS_CONCURRENCY and
// FAULTLINE_MAX_CONCURRENT_RUNS = BENCH_RUNS), one push adding BENCH_RUNS pod-kill experiments,
// each on a workload of its own (so no per-workload lock serialises them) in a simulator of
// BENCH_RUNS Deployments × 2 pods, held BENCH_RUN_DURATION (default 15s) so all are live together.
// Measured from outside:
//   - push → the last run's "run starting" and "run Running" (the pod deleted and confirmed);
//   - the controller's event-loop lag: prom-client's nodejs_eventloop_lag_p99_seconds read from
//     its /metrics once a second (the histogram resets at each scrape, so each reading is the p99
//     of the last second), from the push until every run has finished; the highest reading and
//     the median reading, beside the same readings over 10 s of the idle controller (the floor).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startGitServer } from '../test/helpers/git-server.js';
import { pushPayload } from '../test/controller/harness.js';
import { signGithub } from '../src/server/index.js';
import { startSimulator, type TopologyFile } from '../src/sim/index.js';
import { controllerEntry, memoryMb, oneOffPodKill, percentile, removeBuild, spawnController, type ControllerProc } from './lib/controller-proc.js';
import type { BenchResult } from './types.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const DURATION = process.env.BENCH_RUN_DURATION ?? '15s';
const SECRET = 'bench-secret';
const PER_NS = 100;

async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

/** nodejs_eventloop_lag_p99_seconds from the controller's /metrics, in ms. */
async function lagP99(url: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^nodejs_eventloop_lag_p99_seconds(?:\{[^}]*\})? ([0-9.e+-]+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : undefined;
}

/** Scrapes the lag every second until stopped; the readings in ms. */
function sampleLag(url: string): { stop(): Promise<number[]> } {
  const readings: number[] = [];
  let running = true;
  const loop = (async () => {
    await lagP99(url).catch(() => undefined); // resets the histogram: the first reading covers 1 s
    while (running) {
      await new Promise((r) => setTimeout(r, 1000));
      const v = await lagP99(url).catch(() => undefined);
      if (v !== undefined) readings.push(v);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return readings;
    },
  };
}

async function measure(): Promise<BenchResult[]> {
  const namespaces = Array.from({ length: Math.ceil(RUNS / PER_NS) }, (_, i) => ({ name: `load-${i}`, labels: { 'faultline.dev/chaos': 'enabled' } }));
  const apps = Array.from({ length: RUNS }, (_, i) => ({ namespace: `load-${Math.floor(i / PER_NS)}`, app: `app-${i}` }));
  const topology: TopologyFile = {
    name: 'bench-concurrent-runs',
    nodes: Array.from({ length: Math.max(3, Math.ceil((RUNS * 2) / 100)) }, (_, i) => ({ name: `node-${i + 1}` })),
    namespaces: [...namespaces, { name: 'faultline' }], // the controller's own (its Lease)
    workloads: apps.map((a) => ({ namespace: a.namespace, kind: 'Deployment' as const, name: a.app, replicas: 2, labels: { app: a.app } })),
  };
  const git = await startGitServer();
  const sim = await startSimulator({ topology, recreateDelayMs: 100, readyDelayMs: 50 });
  const tmp = mkdtempSync(join(tmpdir(), 'fl-bench-runs-'));
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const prefix = `flbench-${randomUUID().slice(0, 8)}`;
  const out: BenchResult[] = [];
  let proc: ControllerProc | undefined;
  try {
    const url = await git.createRepo('chaos');
    const work = await git.workClone('chaos');
    await work.write('README.md', '# chaos\n');
    const seed = await work.commitAndPush('seed');
    const kubeconfig = join(tmp, 'kubeconfig.yaml');
    writeFileSync(kubeconfig, sim.kubeconfigYaml());
    controllerEntry(); // build before any clock starts
    proc = spawnController({
      FAULTLINE_REPO_URL: url,
      REDIS_URL,
      FAULTLINE_REDIS_PREFIX: prefix,
      FAULTLINE_DATA_DIR: join(tmp, 'data'),
      FAULTLINE_WEBHOOK_SECRET: SECRET,
      FAULTLINE_POLL_INTERVAL: '0s',
      FAULTLINE_HOST: '127.0.0.1',
      FAULTLINE_PORT: '0',
      FAULTLINE_KUBECONFIG: kubeconfig,
      FAULTLINE_RUNS_CONCURRENCY: String(RUNS),
      FAULTLINE_MAX_CONCURRENT_RUNS: String(RUNS),
      LOG_LEVEL: 'info',
    });
    const base = await proc.url();
    await proc.waitLine((l) => l.msg === 'reconcile done' && l.revision === seed, 'the first "reconcile done"', 120_000);
    await new Promise((r) => setTimeout(r, 2000));
    // The floor: the idle controller's lag over 10 s.
    const idle = sampleLag(base);
    await new Promise((r) => setTimeout(r, 10_000));
    const idleLag = await idle.stop();

    for (const [i, a] of apps.entries()) await work.write(`experiments/${a.namespace}/run-${i}.yaml`, oneOffPodKill(`run-${i}`, a.namespace, a.app, DURATION));
    await work.git('add', '-A');
    await work.git('commit', '-q', '-m', `${RUNS} one-off experiments`);
    const from = proc.lines.length;
    await work.git('push', '-q', 'origin', 'HEAD:refs/heads/main');
    const pushed = Date.now();
    const head = await work.git('rev-parse', 'HEAD');
    const lag = sampleLag(base);
    const body = pushPayload({ after: head, before: seed });
    const res = await fetch(`${base}/webhooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': signGithub(body, SECRET), 'user-agent': 'GitHub-Hookshot/bench' },
      body,
    });
    if (res.status !== 202) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);

    const count = (msg: string) => {
      const seen = new Map<string, number>();
      for (let i = from; i < proc!.lines.length; i++) {
        const l = proc!.lines[i]!;
        if (l.msg === msg && typeof l.experiment === 'string' && !seen.has(l.experiment)) seen.set(l.experiment, l.time);
      }
      return seen;
    };
    const deadline = Date.now() + 10 * 60_000;
    let peakRss = 0;
    for (;;) {
      peakRss = Math.max(peakRss, memoryMb(proc.child.pid!).rss);
      if (count('run finished').size >= RUNS) break;
      if (Date.now() > deadline) throw new Error(`only ${count('run finished').size} of ${RUNS} runs finished within 10 min`);
      if (proc.child.exitCode !== null) throw new Error('faultline run exited during the runs');
      await new Promise((r) => setTimeout(r, 250));
    }
    const lagReadings = await lag.stop();
    const starting = [...count('run starting').values()];
    const running = [...count('run Running').values()];
    const finished = [...proc.lines.slice(from)].filter((l) => l.msg === 'run finished');
    const succeeded = finished.filter((l) => l.state === 'Succeeded').length;
    const lastStart = Math.max(...starting) - pushed;
    const lastRunning = running.length ? Math.max(...running) - pushed : NaN;
    const k = RUNS >= 1000 ? `${RUNS / 1000}k` : String(RUNS);
    out.push({
      name: `${k} concurrent one-off runs: push → the last run Running`,
      value: lastRunning,
      unit: 'ms',
      target: '<= 10000 ms',
      note: `${running.length} of ${RUNS} reached Running, ${succeeded} Succeeded; last "run starting" ${lastStart} ms, first Running ${Math.min(...running) - pushed} ms, median Running ${(percentile(running, 50) - pushed).toFixed(0)} ms; peak RSS ${peakRss.toFixed(0)} MB; ${controllerEntry().note}; load average ${loadavg()[0]!.toFixed(2)}`,
    });
    out.push({
      name: `${k} concurrent one-off runs: event-loop lag p99 (highest 1 s reading)`,
      value: Math.max(...lagReadings),
      unit: 'ms',
      target: '<= 50 ms',
      note: `median reading ${percentile(lagReadings, 50).toFixed(1)} ms over ${lagReadings.length} readings of nodejs_eventloop_lag_p99_seconds on /metrics, push to the last run's end`,
    });
    out.push({ name: `${k} concurrent one-off runs: idle event-loop lag p99 (floor)`, value: Math.max(...idleLag), unit: 'ms', note: `median ${percentile(idleLag, 50).toFixed(1)} ms over ${idleLag.length} readings of the same controller before the push` });
  } finally {
    await proc?.stop();
    await deletePrefix(redis, prefix).catch(() => undefined);
    redis.disconnect();
    await sim.close();
    await git.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}

export default async function bench(): Promise<BenchResult[]> {
  try {
    return await measure();
  } finally {
    removeBuild();
  }
}
