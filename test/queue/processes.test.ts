// Several controller processes on one Redis: each run executes once; SIGTERM lets an active run
// finish; SIGKILL mid-run hands the job to another process's orphan path, never a second injection.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createQueues, enqueueRun, type Queues } from '../../src/queue/queues.js';
import { runJobId } from '../../src/queue/keys.js';
import { RedisRunStore } from '../../src/queue/run-store.js';
import { ORPHAN_REASON } from '../../src/queue/run-worker.js';
import type { RunJobData } from '../../src/runs/types.js';
import { experiment } from '../reconcile/fixtures.js';
import { deletePrefix, newRedis, testPrefix, waitFor } from './redis-helpers.js';

let redis: Redis;
let queues: Queues;
let store: RedisRunStore;
let prefix: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  redis = newRedis();
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await queues.close();
  await deletePrefix(redis, prefix);
});
afterAll(async () => {
  await redis.quit();
});

function fresh(): void {
  prefix = testPrefix('procs');
  queues = createQueues(redis, prefix);
  store = new RedisRunStore(redis, prefix);
}

async function startProcess(holdMs: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/queue/worker-process.ts'], {
    env: { ...process.env, FL_PREFIX: prefix, FL_HOLD_MS: String(holdMs), LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  await waitFor(() => out.includes('ready') || child.exitCode !== null, 'worker process ready', 30_000);
  if (child.exitCode !== null) throw new Error(`worker process exited with ${child.exitCode}`);
  return child;
}

const exited = (c: ChildProcess) =>
  new Promise<number | null>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve(c.exitCode) : c.once('exit', (code) => resolve(code))));

function data(name: string): RunJobData {
  const e = experiment(name);
  return { runId: runJobId(name, e.specHash, 'once'), experiment: name, file: e.file, specHash: e.specHash, revision: 'r1', occurrence: 'once', trigger: 'reconcile', spec: e.experiment };
}

const executed = async () => (await redis.lrange(`${prefix}:test-executed`, 0, -1)).map((l) => l.split(' ') as [string, string]);

describe('several worker processes', () => {
  it('two processes: every run executes exactly once', async () => {
    fresh();
    const [a, b] = await Promise.all([startProcess(10), startProcess(10)]);
    const runs = Array.from({ length: 30 }, (_, i) => data(`multi-${i}`));
    await Promise.all(runs.flatMap((d) => [enqueueRun(queues, d), enqueueRun(queues, d), enqueueRun(queues, d)]));
    await waitFor(async () => (await store.list({ state: 'Succeeded', limit: 100 })).runs.length === 30, 'all runs succeeded', 30_000);
    const calls = await executed();
    expect(calls.map(([id]) => id).sort()).toEqual(runs.map((r) => r.runId).sort());
    // Both processes took part (not required for correctness, but shows they really raced).
    const pids = new Set(calls.map(([, pid]) => pid));
    expect([...pids].every((p) => p === String(a.pid) || p === String(b.pid))).toBe(true);
  });

  it('SIGTERM: the process stops taking jobs, lets the active run finish, and exits 0', async () => {
    fresh();
    const child = await startProcess(1500);
    const d = data('graceful');
    await enqueueRun(queues, d);
    await waitFor(async () => (await store.get(d.runId))?.state === 'Running', 'run started');
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect((await store.get(d.runId))!.state).toBe('Succeeded');
    expect(await (await queues.runs.getJob(d.runId))!.getState()).toBe('completed');
  });

  it('SIGKILL mid-run: another process takes the job over to the orphan path; nothing injects twice', async () => {
    fresh();
    const victim = await startProcess(600_000);
    const d = data('killed');
    await enqueueRun(queues, d);
    await waitFor(async () => (await store.get(d.runId))?.state === 'Running', 'run started');
    victim.kill('SIGKILL');
    await exited(victim);
    await startProcess(0);
    await waitFor(async () => (await store.get(d.runId))?.state === 'Failed', 'orphan path', 30_000);
    const rec = (await store.get(d.runId))!;
    expect(rec.reason).toBe(ORPHAN_REASON);
    expect(rec.timeline.map((t) => t.state)).toContain('Running'); // what the dead run had recorded is kept
    expect((await executed()).map(([id]) => id)).toEqual([d.runId]);
    // And a later, unrelated run still works on the survivor.
    const next = data('after');
    await enqueueRun(queues, next);
    await waitFor(async () => (await store.get(next.runId))?.state === 'Succeeded', 'next run', 30_000);
  });
});
