// `faultline run` as a child process for the real-path benches: a fresh build (once per bench
// run, into a temp directory; BENCH_ENTRY=src runs src/cli/bin.js through tsx instead), every
// JSON log line kept with its pino `time` (epoch ms, same clock as this process), and waits on
// log lines by predicate. BENCH_CPU_PROF=DIR writes a --cpu-prof profile of each controller. Each bench reads its phases off the controller's own log lines.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export interface LogLine {
  msg: string;
  time: number;
  [field: string]: unknown;
}

export interface ControllerProc {
  child: ChildProcess;
  spawnedAt: number; // Date.now() at spawn
  lines: LogLine[];
  /** The first line at or after index `from` that matches; waits for it up to timeoutMs. */
  waitLine(match: (l: LogLine) => boolean, what: string, timeoutMs: number, from?: number): Promise<LogLine>;
  /** The listening URL (from "controller started"). */
  url(): Promise<string>;
  stop(): Promise<void>;
}

let built: string | undefined;
/** The entry point: a fresh build made before any clock starts (never a stale dist/). */
export function controllerEntry(): { entry: string; note: string } {
  if (process.env.BENCH_ENTRY === 'src') return { entry: 'src/cli/bin.js', note: 'src/cli/bin.js through tsx' };
  if (!built) {
    const app = mkdtempSync(join(tmpdir(), 'fl-bench-build-'));
    execFileSync('node_modules/.bin/node', ['scripts/build.mjs', join(app, 'dist')], { stdio: 'inherit' });
    for (const f of ['package.json', 'schemas', 'node_modules']) symlinkSync(resolve(f), join(app, f));
    built = join(app, 'dist/cli/main.js');
  }
  return { entry: built, note: 'node dist/cli/main.js (fresh build)' };
}

/** Removes the build made by controllerEntry (call once at the end of a bench). */
export function removeBuild(): void {
  if (built) rmSync(join(built, '../../..'), { recursive: true, force: true });
  built = undefined;
}

export function spawnController(env: Record<string, string>): ControllerProc {
  const { entry } = controllerEntry();
  const spawnedAt = Date.now();
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', resolve(process.env.BENCH_CPU_PROF)] : [];
  const child = spawn('node_modules/.bin/node', [...prof, entry, 'run'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: LogLine[] = [];
  const tail: string[] = [];
  const waiters = new Set<() => void>();
  const logTo = process.env.BENCH_LOG ? resolve(process.env.BENCH_LOG) : undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (logTo) appendFileSync(logTo, `${line}\n`);
    tail.push(line);
    if (tail.length > 30) tail.shift();
    try {
      const obj = JSON.parse(line) as LogLine;
      if (typeof obj.msg !== 'string' || typeof obj.time !== 'number') return;
      lines.push(obj);
    } catch {
      return;
    }
    for (const w of [...waiters]) w();
  });
  child.stderr!.on('data', (d: Buffer) => tail.push(d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const waitLine = (match: (l: LogLine) => boolean, what: string, timeoutMs: number, from = 0): Promise<LogLine> =>
    new Promise((resolvePromise, reject) => {
      let i = from;
      const check = () => {
        for (; i < lines.length; i++) {
          if (match(lines[i]!)) {
            done();
            resolvePromise(lines[i]!);
            return;
          }
        }
      };
      const timer = setTimeout(() => (done(), reject(new Error(`no ${what} within ${timeoutMs} ms; last output:\n${tail.join('\n')}`))), timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      void exited.then(() => (done(), reject(new Error(`faultline run exited before ${what}; last output:\n${tail.join('\n')}`))));
      check();
    });
  return {
    child,
    spawnedAt,
    lines,
    waitLine,
    url: async () => String((await waitLine((l) => l.msg === 'controller started', '"controller started"', 10 * 60_000)).url),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function memoryMb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** A generated experiment that never runs during a bench: a yearly schedule. */
export function scheduledExperiment(i: number): string {
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

/** A one-off pod-kill of one pod (runs once per spec revision, right after the push). */
export function oneOffPodKill(name: string, namespace: string, app: string, duration = '1s', grace = 0): string {
  return `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata:
  name: ${name}
spec:
  description: one pod of ${app}
  fault:
    type: pod-kill
    params: { gracePeriodSeconds: ${grace} }
  target:
    namespace: ${namespace}
    selector: { matchLabels: { app: ${app} } }
    mode: { type: one }
  duration: ${duration}
`;
}
