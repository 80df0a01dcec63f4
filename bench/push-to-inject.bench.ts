// Push → fault injected, through `faultline run` as a process, at BENCH_PUSH_EXPERIMENTS
// experiments (default 1000; the report's figure is 10000) in the repository. Each of
// BENCH_PUSHES pushes (default 8 per path) adds one one-off pod-kill to a repository that
// already holds N scheduled experiments; the clock starts when `git push` returns and stops at
// the run's "run Running" log line (the pod is deleted and confirmed gone: the fault is in place).
//   - webhook: a signed GitHub push delivery is posted as soon as the push returns (polling off);
//   - polling: FAULTLINE_POLL_INTERVAL=1s, no webhook.
// Each push is split into phases on the controller's own log lines (pino `time`, same clock):
//   webhook accept (push returned → "webhook delivery" accepted), reconcile queue (→ sync begins),
//   fetch (ls-remote + pack), diff + read (tree diff, changed blobs), parse ("experiment files
//   loaded"), reconcile (→ run job added: "run starting".queuedAt), queue pickup (→ "run
//   starting"), guards (→ "run Injecting": live targets, every guard, slot and locks), inject
//   (→ "run Running"). The floors, measured in the same run after each push: native `git fetch`
//   of the same push into a bare clone, and a bare YAML parse of the changed file.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { parse } from 'yaml';
import { startGitServer, gitEnv } from '../test/helpers/git-server.js';
import { pushPayload } from '../test/controller/harness.js';
import { signGithub } from '../src/server/index.js';
import { startSimulator } from '../src/sim/index.js';
import { controllerEntry, oneOffPodKill, percentile, removeBuild, scheduledExperiment, spawnController, type ControllerProc, type LogLine } from './lib/controller-proc.js';
import type { BenchResult } from './types.js';

const run = promisify(execFile);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const N = Number(process.env.BENCH_PUSH_EXPERIMENTS ?? 1000);
const PUSHES = Number(process.env.BENCH_PUSHES ?? 8);
const SECRET = 'bench-secret';
// Workloads of the shop topology without a PDB that one pod-kill would break.
const APPS = ['frontend', 'cart', 'catalog', 'payments'];
const PHASES = ['webhook accept', 'reconcile queue', 'fetch', 'diff+read', 'parse', 'reconcile', 'queue pickup', 'guards', 'inject'] as const;
type Phase = (typeof PHASES)[number];

async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

interface Sample {
  total: number;
  phases: Partial<Record<Phase, number>>;
  nativeFetch: number;
  bareParse: number;
}

/** The phases of one push, from the log lines after `from`. */
async function phasesOf(proc: ControllerProc, from: number, o: { name: string; sha: string; pushed: number; webhook: boolean }): Promise<Sample['phases'] & { total: number }> {
  const t = 60_000;
  const running = await proc.waitLine((l) => l.msg === 'run Running' && l.experiment === o.name, `"run Running" of ${o.name}`, t, from);
  const find = (what: string, m: (l: LogLine) => boolean) => proc.waitLine(m, what, 1000, from);
  const synced = await find('"git source synced"', (l) => l.msg === 'git source synced' && l.revision === o.sha);
  const loaded = await find('"experiment files loaded"', (l) => l.msg === 'experiment files loaded' && l.revision === o.sha);
  const starting = await find('"run starting"', (l) => l.msg === 'run starting' && l.experiment === o.name);
  const injecting = await find('"run Injecting"', (l) => l.msg === 'run Injecting' && l.experiment === o.name);
  const p = (synced.phases ?? {}) as { remoteMs?: number; fetchMs?: number; diffMs?: number; readMs?: number };
  const syncBegan = synced.time - Number(synced.ms);
  const out: Sample['phases'] & { total: number } = { total: running.time - o.pushed };
  if (o.webhook) {
    const accepted = await find('"webhook delivery"', (l) => l.msg === 'webhook delivery' && l.result === 'accepted' && l.event === 'push');
    out['webhook accept'] = accepted.time - o.pushed;
    out['reconcile queue'] = syncBegan - accepted.time;
  } else {
    out['reconcile queue'] = syncBegan - o.pushed; // waiting for the next poll
  }
  out.fetch = (p.remoteMs ?? 0) + (p.fetchMs ?? 0);
  out['diff+read'] = (p.diffMs ?? 0) + (p.readMs ?? 0);
  out.parse = Number(loaded.ms);
  out.reconcile = Number(starting.queuedAt) - loaded.time;
  out['queue pickup'] = Number(starting.waitedMs);
  out.guards = injecting.time - starting.time;
  out.inject = running.time - injecting.time;
  return out;
}

async function measure(): Promise<BenchResult[]> {
  const git = await startGitServer();
  const sim = await startSimulator({ recreateDelayMs: 100, readyDelayMs: 50 });
  const tmp = mkdtempSync(join(tmpdir(), 'fl-bench-push-'));
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const prefix = `flbench-${randomUUID().slice(0, 8)}`;
  const out: BenchResult[] = [];
  let proc: ControllerProc | undefined;
  try {
    const url = await git.createRepo('chaos');
    const work = await git.workClone('chaos');
    for (let i = 0; i < N; i++) await work.write(`experiments/team-${i % 100}/bench-${i}.yaml`, scheduledExperiment(i));
    let head = await work.commitAndPush(`${N} experiments`);
    const native = join(tmp, 'native.git');
    await run('git', ['clone', '-q', '--bare', url, native], { env: { ...process.env, ...gitEnv } });
    const kubeconfig = join(tmp, 'kubeconfig.yaml');
    writeFileSync(kubeconfig, sim.kubeconfigYaml());
    const env = {
      FAULTLINE_REPO_URL: url,
      REDIS_URL,
      FAULTLINE_REDIS_PREFIX: prefix,
      FAULTLINE_DATA_DIR: join(tmp, 'data'),
      FAULTLINE_WEBHOOK_SECRET: SECRET,
      FAULTLINE_HOST: '127.0.0.1',
      FAULTLINE_PORT: '0',
      FAULTLINE_KUBECONFIG: kubeconfig,
      LOG_LEVEL: 'info',
    };
    controllerEntry(); // build before any clock starts
    let seq = 0;
    for (const mode of ['webhook', 'polling'] as const) {
      proc = spawnController({ ...env, FAULTLINE_POLL_INTERVAL: mode === 'webhook' ? '0s' : '1s' });
      const base = await proc.url();
      await proc.waitLine((l) => l.msg === 'reconcile done' && l.revision === head, 'the first "reconcile done"', 15 * 60_000);
      await new Promise((r) => setTimeout(r, 2000)); // let the start's own work (status push, PR reader) settle
      const samples: Sample[] = [];
      for (let i = 0; i < PUSHES; i++) {
        const name = `push-${seq}`;
        const file = `experiments/pushed/${name}.yaml`;
        const text = oneOffPodKill(name, 'shop', APPS[seq % APPS.length]!);
        seq++;
        await work.write(file, text);
        await work.git('add', '-A');
        await work.git('commit', '-q', '-m', `add ${name}`);
        const from = proc.lines.length;
        await work.git('push', '-q', 'origin', 'HEAD:refs/heads/main');
        const pushed = Date.now();
        const before = head;
        head = await work.git('rev-parse', 'HEAD');
        if (mode === 'webhook') {
          const body = pushPayload({ after: head, before });
          const res = await fetch(`${base}/webhooks/github`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': signGithub(body, SECRET), 'user-agent': 'GitHub-Hookshot/bench' },
            body,
          });
          if (res.status !== 202) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
        }
        const phases = await phasesOf(proc, from, { name, sha: head, pushed, webhook: mode === 'webhook' });
        // The run ends (pod back) before the next push, so pushes do not overlap.
        await proc.waitLine((l) => l.msg === 'run finished' && l.experiment === name, `"run finished" of ${name}`, 120_000, from);
        // Floors, after the controller is done with this push.
        const t = performance.now();
        await run('git', ['-C', native, 'fetch', '-q', 'origin', '+refs/heads/main:refs/heads/main'], { env: { ...process.env, ...gitEnv } });
        const nativeFetch = performance.now() - t;
        const p0 = performance.now();
        parse(text);
        const bareParse = performance.now() - p0;
        samples.push({ total: phases.total, phases, nativeFetch, bareParse });
      }
      await proc.stop();
      proc = undefined;
      const k = `${N / 1000}k`;
      const totals = samples.map((s) => s.total);
      const med = (f: (s: Sample) => number) => percentile(samples.map(f), 50);
      const split = PHASES.filter((ph) => samples.some((s) => s.phases[ph] !== undefined)).map((ph) => `${ph} ${med((s) => s.phases[ph] ?? 0).toFixed(0)}`).join(', ');
      out.push({
        name: `${k} push → fault injected by ${mode} p50`,
        value: percentile(totals, 50),
        unit: 'ms',
        target: mode === 'webhook' ? '<= 150 ms' : '<= 1200 ms (1 s poll + 200 ms)',
        note: `p90 ${percentile(totals, 90).toFixed(0)} ms over ${samples.length} pushes; phase p50s (ms): ${split}; ${controllerEntry().note}; load average ${loadavg()[0]!.toFixed(2)}`,
      });
      out.push({ name: `${k} push (${mode}): native git fetch of the same push (floor)`, value: med((s) => s.nativeFetch), unit: 'ms', note: `bare YAML parse of the changed file ${med((s) => s.bareParse).toFixed(2)} ms` });
    }
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
