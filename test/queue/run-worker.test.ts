import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { cancelRuns, createQueues, enqueueRun, upsertSchedule, type Queues } from '../../src/queue/queues.js';
import { requestAbort, setFreeze } from '../../src/queue/abort.js';
import { keys, runJobId } from '../../src/queue/keys.js';
import { RecordingExecutor } from '../../src/queue/recording-executor.js';
import { RedisRunStore } from '../../src/queue/run-store.js';
import { ORPHAN_REASON, startRunWorker, type RunWorker } from '../../src/queue/run-worker.js';
import type { RunJobData } from '../../src/runs/types.js';
import { experiment } from '../reconcile/fixtures.js';
import { deletePrefix, newRedis, testPrefix, waitFor } from './redis-helpers.js';

let redis: Redis;
let prefix: string;
let queues: Queues;
let store: RedisRunStore;
const workers: RunWorker[] = [];

beforeAll(() => {
  redis = newRedis();
});
afterEach(async () => {
  while (workers.length) await workers.pop()!.close({ abortActive: true });
  await queues.close();
  await deletePrefix(redis, prefix);
});
afterAll(async () => {
  await redis.quit();
});

function fresh(): void {
  prefix = testPrefix('runworker');
  queues = createQueues(redis, prefix);
  store = new RedisRunStore(redis, prefix);
}

function jobData(name: string, occurrence = 'once'): RunJobData {
  const e = experiment(name);
  return {
    runId: runJobId(name, e.specHash, occurrence),
    experiment: name,
    file: e.file,
    specHash: e.specHash,
    revision: 'abc123',
    occurrence,
    trigger: 'reconcile',
    spec: e.experiment,
  };
}

async function worker(executor: RecordingExecutor, extra: Partial<Parameters<typeof startRunWorker>[0]> = {}): Promise<RunWorker> {
  const w = await startRunWorker({ connection: redis, prefix, executor, concurrency: 2, runStore: store, ...extra });
  workers.push(w);
  return w;
}

const state = async (id: string) => (await queues.runs.getJob(id))?.getState();

describe('runs worker', () => {
  it('two workers racing execute each job exactly once', async () => {
    fresh();
    // Two executors (one per "replica") share the run store; each counts its own calls.
    const e1 = new RecordingExecutor({ store, holdMs: 20 });
    const e2 = new RecordingExecutor({ store, holdMs: 20 });
    const names = Array.from({ length: 20 }, (_, i) => `race-${i}`);
    // Enqueue every job 5 times over, concurrently, while both workers are taking jobs.
    const both = Promise.all([worker(e1), worker(e2)]);
    await Promise.all(names.flatMap((n) => Array.from({ length: 5 }, () => enqueueRun(queues, jobData(n)))));
    await both;
    const ids = names.map((n) => jobData(n).runId);
    await waitFor(async () => (await Promise.all(ids.map(state))).every((s) => s === 'completed'), 'all runs completed');
    const all = [...e1.started, ...e2.started].sort();
    expect(all).toEqual([...ids].sort());
    for (const id of ids) expect((await store.get(id))!.state).toBe('Succeeded');
    const rec = (await store.get(ids[0]!))!;
    expect(rec.timeline.map((t) => t.state)).toEqual(['Pending', 'Validating', 'Injecting', 'Running', 'Reverting', 'Succeeded']);
  });

  it('never runs a job id twice, even when the finished job is gone from the queue', async () => {
    fresh();
    const ex = new RecordingExecutor({ store });
    await worker(ex);
    const d = jobData('twice');
    await enqueueRun(queues, d);
    await waitFor(async () => (await state(d.runId)) === 'completed', 'first run');
    await queues.runs.remove(d.runId); // as removeOnComplete would, days later
    expect((await enqueueRun(queues, d)).added).toBe(true);
    await waitFor(async () => (await state(d.runId)) === 'completed', 'second delivery');
    const job = (await queues.runs.getJob(d.runId))!;
    expect(job.returnvalue).toEqual({ runId: d.runId, skipped: 'duplicate' });
    expect(ex.started).toEqual([d.runId]);
  });

  it('worker.close() during an active run waits for it to finish', async () => {
    fresh();
    const ex = new RecordingExecutor({ store, holdMs: 1500 });
    const w = await worker(ex);
    const d = jobData('slow');
    await enqueueRun(queues, d);
    await waitFor(async () => (await store.get(d.runId))?.state === 'Running', 'run to start');
    workers.splice(workers.indexOf(w), 1);
    await w.close();
    // close() returned only after the run ended, and the run was not cut short.
    const rec = (await store.get(d.runId))!;
    expect(rec.state).toBe('Succeeded');
    expect(await state(d.runId)).toBe('completed');
  });

  it('close({ abortActive }) makes active runs revert and still records them', async () => {
    fresh();
    const ex = new RecordingExecutor({ store, holdMs: 60_000 });
    const w = await worker(ex);
    const d = jobData('long');
    await enqueueRun(queues, d);
    await waitFor(async () => (await store.get(d.runId))?.state === 'Running', 'run to start');
    workers.splice(workers.indexOf(w), 1);
    await w.close({ abortActive: true, reason: 'SIGTERM' });
    const rec = (await store.get(d.runId))!;
    expect(rec.state).toBe('Aborted');
    expect(rec.reason).toBe('SIGTERM');
    expect(rec.timeline.map((t) => t.state)).toContain('Reverting');
  });

  it('an abort request by experiment or run id reaches the executor signal', async () => {
    fresh();
    const ex = new RecordingExecutor({ store, holdMs: 60_000 });
    const heard: string[][] = [];
    await worker(ex, { onAbortRequest: (_req, ids) => heard.push(ids) });
    const a = jobData('abort-me');
    const b = jobData('abort-by-id');
    await enqueueRun(queues, a);
    await enqueueRun(queues, b);
    await waitFor(async () => (await store.get(a.runId))?.state === 'Running' && (await store.get(b.runId))?.state === 'Running', 'runs to start');

    await requestAbort(redis, prefix, { experiment: 'abort-me', reason: 'experiment abort-me was deleted from Git' });
    await waitFor(async () => (await store.get(a.runId))?.state === 'Aborted', 'run a aborted');
    expect((await store.get(a.runId))!.reason).toBe('experiment abort-me was deleted from Git');
    expect((await store.get(b.runId))!.state).toBe('Running');

    await requestAbort(redis, prefix, { runId: b.runId, reason: 'faultline abort' });
    await waitFor(async () => (await store.get(b.runId))?.state === 'Aborted', 'run b aborted');
    expect(heard).toContainEqual([a.runId]);
    expect(heard).toContainEqual([b.runId]);
  });

  it('an abort requested just before the run starts still applies; an older one does not', async () => {
    fresh();
    const ex = new RecordingExecutor({ store, holdMs: 60_000 });
    const d = jobData('early');
    await enqueueRun(queues, d);
    await requestAbort(redis, prefix, { experiment: 'early', reason: 'deleted' });
    await worker(ex);
    await waitFor(async () => (await store.get(d.runId))?.state === 'Aborted', 'aborted at start');
    const later = jobData('early', 'manual-1');
    await enqueueRun(queues, { ...later, runId: '' });
    await waitFor(async () => (await store.get(later.runId))?.state === 'Running', 'later run not aborted by the old request');
  });

  it('a re-delivered job whose run had started goes to the orphan path, not the executor', async () => {
    fresh();
    const ex = new RecordingExecutor({ store });
    const d = jobData('orphan');
    // The marker a worker writes before executing; its process then died.
    await redis.set(keys.runMarker(prefix, d.runId), JSON.stringify({ state: 'started', runId: d.runId, at: new Date().toISOString(), worker: 'dead' }));
    await enqueueRun(queues, d);
    await worker(ex);
    await waitFor(async () => (await state(d.runId)) === 'completed', 'job handled');
    expect(ex.started).toEqual([]);
    const rec = (await store.get(d.runId))!;
    expect(rec).toMatchObject({ state: 'Failed', outcome: 'failed', reason: ORPHAN_REASON });
  });

  it('a job stalled by a dead worker is re-delivered by the stalled check and not injected twice', async () => {
    fresh();
    const d = jobData('stalled');
    let redelivered = 0;
    // Worker A takes the job and "dies": force-close stops its lock renewal, the run never ends.
    const exA = new RecordingExecutor({ store, holdMs: 600_000 });
    const a = await startRunWorker({ connection: redis, prefix, executor: exA, concurrency: 1, runStore: store, lockDurationMs: 1000, stalledIntervalMs: 300 });
    await enqueueRun(queues, d);
    await waitFor(async () => (await store.get(d.runId))?.state === 'Running', 'run on A');
    void a.worker.close(true);
    // Worker B looks for stalled jobs often (the check is shared through Redis, so A's interval
    // must be short too); the job comes back to B once A's lock lapses.
    const exB = new RecordingExecutor({ store });
    await worker(exB, {
      lockDurationMs: 1000,
      stalledIntervalMs: 300,
      onRedelivered: async (job) => {
        redelivered++;
        expect(job.runId).toBe(d.runId);
      },
    });
    await waitFor(() => redelivered > 0, 'redelivery', 30_000);
    expect(exA.started).toEqual([d.runId]);
    expect(exB.started).toEqual([]);
    await a.close({ abortActive: true }).catch(() => undefined);
  });

  it('under the kill switch a job is recorded Aborted without reaching the executor', async () => {
    fresh();
    const ex = new RecordingExecutor({ store });
    await setFreeze(redis, prefix, true);
    await worker(ex);
    const d = jobData('frozen');
    await enqueueRun(queues, d);
    await waitFor(async () => (await state(d.runId)) === 'completed', 'job handled');
    expect(ex.started).toEqual([]);
    expect((await store.get(d.runId))!).toMatchObject({ state: 'Aborted', reason: expect.stringMatching(/freeze/) });
  });

  it('runs a scheduled occurrence with a run id of its own', async () => {
    fresh();
    const ex = new RecordingExecutor({ store });
    await worker(ex);
    const e = experiment('every-second', { schedule: { cron: '* * * * * *', timezone: 'UTC' } });
    const d = { ...jobData('every-second'), spec: e.experiment, specHash: e.specHash };
    await upsertSchedule(queues, d);
    await waitFor(() => ex.started.length >= 1, 'a scheduled run', 30_000);
    await queues.runs.removeJobScheduler('every-second');
    const runId = ex.started[0]!;
    expect(runId).toMatch(new RegExp(`^every-second\\.${e.specHash.slice(0, 16)}\\.\\d{13}$`));
    await waitFor(async () => (await store.get(runId))?.state === 'Succeeded', 'record');
    expect((await store.get(runId))!.trigger).toBe('schedule');
  });
});

describe('cancelRuns', () => {
  it('drops queued runs of an experiment and aborts its running one', async () => {
    fresh();
    const ex = new RecordingExecutor({ store, holdMs: 60_000 });
    const running = jobData('cancel-me');
    await enqueueRun(queues, running);
    await worker(ex, { concurrency: 1 });
    await waitFor(async () => (await store.get(running.runId))?.state === 'Running', 'run started');
    // Concurrency 1: this manual run of the same experiment waits behind the running one.
    const queued = { ...jobData('cancel-me', 'manual-1'), trigger: 'manual' as const };
    await enqueueRun(queues, queued);
    const { removed } = await cancelRuns(queues, { experiment: 'cancel-me' }, 'faultline abort cancel-me');
    expect(removed).toEqual([queued.runId]);
    await waitFor(async () => (await store.get(running.runId))?.state === 'Aborted', 'running run aborted');
    expect((await store.get(running.runId))!.reason).toBe('faultline abort cancel-me');
    expect(await queues.runs.getJob(queued.runId)).toBeUndefined();
    expect(ex.started).toEqual([running.runId]);
  });
});
