// `faultline run` as a process on a generated repository, measured from outside. For each size
// (BENCH_SIZES, default 1000,10000; add 50000 for the big one): a repository of N scheduled
// experiments served by the local smart-HTTP server (`git http-backend`), the simulator as the
// cluster, real Redis (a fresh prefix). Printed, each beside the floor measured in the same run:
//   - cold start: spawn → the first "pass done" log line (experiments and workflows reconciled,
//     catalog published; empty data directory, empty Redis, no status branch), next to a native
//     `git clone --bare` of the same repository;
//   - restart with the status branch present: SIGTERM, spawn again on the same data directory;
//   - idle CPU with nothing new at a 1 s poll (CPU time of the process over a 10 s window),
//     beside the same controller with polling off;
//   - RSS after the first reconcile and the peak (VmHWM).
// The experiments carry a yearly cron schedule, so reconciling registers N schedulers and
// writes N status records but no run executes during the measurement.
// The controller runs as the image runs it: `node dist/cli/main.js run`, from a build made at the
// start of the bench into a temp directory (never a stale dist/); BENCH_ENTRY=src runs
// src/cli/bin.js through tsx instead. BENCH_CPU_PROF=DIR writes a --cpu-prof profile per process.
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { startGitServer, gitEnv } from '../test/helpers/git-server.js';
import { startSimulator } from '../src/sim/index.js';
import type { BenchResult } from './types.js';

const run = promisify(execFile);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SIZES = (process.env.BENCH_SIZES ?? '1000,10000').split(',').map((s) => Number.parseInt(s, 10)).filter((n) => n > 0);
const TICKS = 100; // USER_HZ on Linux

function experiment(i: number): string {
  return `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata:
  name: bench-${i}
  labels: { team: team-${i % 100} }
spec:
  description: generated experiment ${i}
  fault:
    type: pod-kill
    params: { gracePeriodSeconds: 0 }
  target:
    namespace: team-${i % 100}
    selector: { matchLabels: { app: app-${i % 37} } }
    mode: { type: fixed, value: 1 }
  duration: 30s
  schedule: { cron: "0 3 1 1 *" }
`;
}

interface Proc {
  child: ChildProcess;
  /** Milliseconds from spawn to the first log line with this message. */
  until(msg: string, timeoutMs: number): Promise<number>;
  /** CPU milliseconds (user + system) the process had used when that line appeared. */
  cpuAt(msg: string): number | undefined;
  /** The fields of the first log line with this message. */
  fields(msg: string): Record<string, unknown> | undefined;
  stop(): Promise<void>;
}

/** The command line of `faultline run`: a fresh build (made once per bench run), or src through tsx. */
let entry: string | undefined;
function buildOnce(): { entry: string; note: string } {
  if (process.env.BENCH_ENTRY === 'src') return { entry: 'src/cli/bin.js', note: 'src/cli/bin.js through tsx' };
  if (!entry) {
    const app = mkdtempSync(join(tmpdir(), 'fl-bench-build-'));
    execFileSync('node_modules/.bin/node', ['scripts/build.mjs', join(app, 'dist')], { stdio: 'inherit' });
    // The build beside what the image holds: package.json, schemas/, node_modules.
    for (const f of ['package.json', 'schemas', 'node_modules']) symlinkSync(resolve(f), join(app, f));
    entry = join(app, 'dist/cli/main.js');
  }
  return { entry, note: 'node dist/cli/main.js (fresh build)' };
}

function startRun(env: Record<string, string>): Proc {
  const cmd = buildOnce().entry; // built before the clock starts
  const t0 = performance.now();
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', resolve(process.env.BENCH_CPU_PROF)] : [];
  const child = spawn('node_modules/.bin/node', [...prof, cmd, 'run'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const seen = new Map<string, number>();
  const cpu = new Map<string, number>(); // CPU ms of the process when the message first appeared
  const firstLine = new Map<string, Record<string, unknown>>();
  const waiting = new Map<string, (ms: number) => void>();
  const tail: string[] = [];
  const lines = createInterface({ input: child.stdout! });
  const logTo = process.env.BENCH_LOG ? resolve(process.env.BENCH_LOG) : undefined;
  lines.on('line', (line) => {
    if (logTo) appendFileSync(logTo, `${(performance.now() - t0).toFixed(0).padStart(6)} ${line}\n`);
    tail.push(line);
    if (tail.length > 20) tail.shift();
    let msg: string | undefined;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line) as Record<string, unknown>;
      msg = typeof obj.msg === 'string' ? obj.msg : undefined;
    } catch {
      return;
    }
    if (!msg || seen.has(msg)) return;
    firstLine.set(msg, obj);
    const ms = performance.now() - t0;
    seen.set(msg, ms);
    cpu.set(msg, cpuTicks(child.pid!) * (1000 / TICKS));
    waiting.get(msg)?.(ms);
  });
  child.stderr!.on('data', (d: Buffer) => tail.push(d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    cpuAt: (msg) => cpu.get(msg),
    fields: (msg) => firstLine.get(msg),
    until(msg, timeoutMs) {
      const known = seen.get(msg);
      if (known !== undefined) return Promise.resolve(known);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${msg}" within ${timeoutMs} ms; last output:\n${tail.join('\n')}`)), timeoutMs);
        waiting.set(msg, (ms) => {
          clearTimeout(timer);
          resolve(ms);
        });
        void exited.then(() => reject(new Error(`faultline run exited before "${msg}"; last output:\n${tail.join('\n')}`)));
      });
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

/** CPU used by the process over a 10 s window, in % of one core. */
async function idleCpu(pid: number): Promise<number> {
  const c0 = cpuTicks(pid);
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, 10_000));
  return ((cpuTicks(pid) - c0) / TICKS / ((performance.now() - w0) / 1000)) * 100;
}

function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

async function measure(n: number): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const git = await startGitServer();
  const sim = await startSimulator({});
  const tmp = mkdtempSync(join(tmpdir(), 'fl-bench-run-'));
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const prefix = `flbench-${randomUUID().slice(0, 8)}`;
  let proc: Proc | undefined;
  try {
    const url = await git.createRepo('chaos');
    const work = await git.workClone('chaos');
    for (let i = 0; i < n; i++) await work.write(`experiments/team-${i % 100}/bench-${i}.yaml`, experiment(i));
    await work.commitAndPush(`${n} experiments`);
    const kubeconfig = join(tmp, 'kubeconfig.yaml');
    writeFileSync(kubeconfig, sim.kubeconfigYaml());
    const env = {
      FAULTLINE_REPO_URL: url,
      REDIS_URL,
      FAULTLINE_REDIS_PREFIX: prefix,
      FAULTLINE_DATA_DIR: join(tmp, 'data'),
      FAULTLINE_POLL_INTERVAL: '1s',
      FAULTLINE_HOST: '127.0.0.1',
      FAULTLINE_PORT: '0',
      FAULTLINE_KUBECONFIG: kubeconfig,
      LOG_LEVEL: 'info',
    };

    // The floor: native git clones the same repository.
    const t = performance.now();
    await run('git', ['clone', '-q', '--bare', url, join(tmp, 'native.git')], { env: { ...process.env, ...gitEnv } });
    const nativeMs = performance.now() - t;
    const k = `${n / 1000}k`;

    proc = startRun(env);
    const cold = await proc.until('pass done', 15 * 60_000);
    const coldStarted = await proc.until('controller started', 1000);
    const mem = memory(proc.child.pid!);
    out.push({ name: `${k} cold start to the first full pass done`, value: cold, unit: 'ms', target: n === 10_000 ? '<= 5000 ms and <= 15x native' : n === 50_000 ? '<= 30000 ms' : undefined, note: `native git clone --bare ${nativeMs.toFixed(0)} ms → ${(cold / nativeMs).toFixed(1)}x; of which process start (node, imports, connections) to "controller started" ${coldStarted.toFixed(0)} ms; ${buildOnce().note}` });
    out.push({ name: `${k} cold start CPU time (user+system) to the first full pass done`, value: proc.cpuAt('pass done') ?? NaN, unit: 'ms', note: `of which start ${(proc.cpuAt('controller started') ?? NaN).toFixed(0)} ms; wall time is this plus waiting for the machine; load average ${loadavg()[0]!.toFixed(2)} on ${cpus().length} cores` });
    out.push({ name: `${k} native git clone --bare (floor)`, value: nativeMs, unit: 'ms' });
    out.push({ name: `${k} RSS after first reconcile`, value: mem.rss, unit: 'MB', target: n === 50_000 ? '<= 600 MB' : undefined, note: `peak ${mem.hwm.toFixed(0)} MB` });
    await proc.stop(); // graceful: the status outbox is pushed before it exits

    proc = startRun(env);
    const restart = await proc.until('pass done', 10 * 60_000);
    const restartStarted = await proc.until('controller started', 1000);
    const loaded = proc.fields('experiment files loaded');
    out.push({ name: `${k} restart with the status branch present to the full pass done`, value: restart, unit: 'ms', target: n === 10_000 ? '<= 3000 ms' : undefined, note: `of which process start to "controller started" ${restartStarted.toFixed(0)} ms; CPU time ${(proc.cpuAt('pass done') ?? NaN).toFixed(0)} ms (start ${(proc.cpuAt('controller started') ?? NaN).toFixed(0)} ms); files parsed ${String(loaded?.parsed)}, from the parse cache ${String(loaded?.fromCache)}; load average ${loadavg()[0]!.toFixed(2)}` });

    // Idle: nothing new, 1 s poll. Let the restart's own work settle first.
    await new Promise((r) => setTimeout(r, 3000));
    const pid = proc.child.pid!;
    const cpu = await idleCpu(pid);
    out.push({ name: `${k} idle CPU, nothing new, 1 s poll`, value: cpu, unit: '%', target: n === 10_000 ? '<= 1%' : undefined, note: `RSS ${memory(pid).rss.toFixed(0)} MB` });
    await proc.stop();

    // The floor for idle: the same controller with polling off (leases, queue workers, timers).
    proc = startRun({ ...env, FAULTLINE_POLL_INTERVAL: '0s' });
    await proc.until('pass done', 10 * 60_000);
    await new Promise((r) => setTimeout(r, 3000));
    out.push({ name: `${k} idle CPU, polling off (floor)`, value: await idleCpu(proc.child.pid!), unit: '%' });
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
  const out: BenchResult[] = [];
  try {
    for (const n of SIZES) out.push(...(await measure(n)));
  } finally {
    if (entry) rmSync(join(entry, '../../..'), { recursive: true, force: true });
  }
  return out;
}
