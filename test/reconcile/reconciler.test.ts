import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { Reconciler } from '../../src/reconcile/reconciler.js';
import { RedisAppliedStore } from '../../src/reconcile/applied-store.js';
import type { AppliedRecord, AppliedStore } from '../../src/reconcile/types.js';
import { createQueues, enqueueRun, type Queues } from '../../src/queue/queues.js';
import { isFrozen, subscribeAbort, type AbortRequest } from '../../src/queue/abort.js';
import { runJobId } from '../../src/queue/keys.js';
import { RedisLeaderLock } from '../../src/queue/leader.js';
import { RedisRunStore } from '../../src/queue/run-store.js';
import { RecordingExecutor } from '../../src/queue/recording-executor.js';
import { startRunWorker } from '../../src/queue/run-worker.js';
import type { LoadedExperiment } from '../../src/experiments/model.js';
import { deletePrefix, newRedis, testPrefix, waitFor } from '../queue/redis-helpers.js';
import { experiment, load, problem } from './fixtures.js';

let redis: Redis;
const prefixes: string[] = [];
const open: Queues[] = [];

beforeAll(() => {
  redis = newRedis();
});
afterEach(async () => {
  while (open.length) await open.pop()!.close();
  for (const p of prefixes.splice(0)) await deletePrefix(redis, p);
});
afterAll(async () => {
  await redis.quit();
});

function setup(opts: { applied?: AppliedStore; prefix?: string } = {}) {
  const prefix = opts.prefix ?? testPrefix('reconcile');
  prefixes.push(prefix);
  const queues = createQueues(redis, prefix);
  open.push(queues);
  const applied = opts.applied ?? new RedisAppliedStore(redis, prefix);
  const reconciler = new Reconciler({ queues, applied });
  const run = (experiments: LoadedExperiment[], revision = 'rev1', extra: { freeze?: boolean; problems?: ReturnType<typeof problem>[] } = {}) =>
    reconciler.reconcile({ revision, load: load(experiments, extra.problems ?? []), freeze: extra.freeze ?? false });
  const runJobs = () => queues.runs.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed']);
  return { prefix, queues, applied, reconciler, run, runJobs };
}

/** An AppliedStore that outlives Redis, as the status branch does. */
class MemoryAppliedStore implements AppliedStore {
  readonly records = new Map<string, AppliedRecord>();
  async list() {
    return new Map(this.records);
  }
  async put(r: AppliedRecord) {
    this.records.set(r.name, { ...r });
  }
  async remove(name: string) {
    this.records.delete(name);
  }
}

describe('Reconciler against real Redis', () => {
  it('enqueues one run for a new experiment and none when reconciled again', async () => {
    const { run, runJobs, applied, queues } = setup();
    const e = experiment('checkout-kill');

    const first = await run([e]);
    expect(first.counts.create).toBe(1);
    expect(first.enqueued).toBe(1);
    const jobs = await runJobs();
    expect(jobs.map((j) => j.id)).toEqual([runJobId('checkout-kill', e.specHash, 'once')]);
    expect(jobs[0]!.data).toMatchObject({ experiment: 'checkout-kill', specHash: e.specHash, revision: 'rev1', occurrence: 'once', trigger: 'reconcile' });
    expect(jobs[0]!.data.runId).toBe(jobs[0]!.id);
    const record = (await applied.list()).get('checkout-kill')!;
    expect(record).toMatchObject({ specHash: e.specHash, revision: 'rev1', scheduled: false, suspended: false, file: e.file });

    const second = await run([e], 'rev2');
    expect(second.counts.unchanged).toBe(1);
    expect(second.enqueued).toBe(0);
    expect((await runJobs()).length).toBe(1);
    // The record still names the revision that introduced the spec.
    expect((await applied.list()).get('checkout-kill')!.revision).toBe('rev1');
    expect(await queues.runs.getJobSchedulersCount()).toBe(0);
  });

  it('collapses 50 replayed enqueues and 20 concurrent reconciles onto one job', async () => {
    const { run, runJobs, queues } = setup();
    const e = experiment('replayed');
    const data = {
      runId: '',
      experiment: 'replayed',
      file: e.file,
      specHash: e.specHash,
      revision: 'rev1',
      occurrence: 'once',
      trigger: 'reconcile' as const,
      spec: e.experiment,
    };
    const results = await Promise.all(Array.from({ length: 50 }, () => enqueueRun(queues, data)));
    expect(new Set(results.map((r) => r.jobId)).size).toBe(1);
    expect(await queues.runs.getJobCounts('waiting', 'delayed', 'prioritized')).toEqual({ waiting: 1, delayed: 0, prioritized: 0 });

    // Concurrent passes over the same desired state (e.g. two replicas before the lock existed).
    await Promise.all(Array.from({ length: 20 }, () => run([e])));
    expect((await runJobs()).length).toBe(1);
  });

  it('queues a new run when the spec changes and drops the queued run of the old spec', async () => {
    const { run, runJobs, applied } = setup();
    const v1 = experiment('net', { percent: 10 });
    const v2 = experiment('net', { percent: 20 });
    await run([v1], 'rev1');
    const summary = await run([v2], 'rev2');
    expect(summary.counts.update).toBe(1);
    expect(summary.enqueued).toBe(1);
    const jobs = await runJobs();
    expect(jobs.map((j) => j.id)).toEqual([runJobId('net', v2.specHash, 'once')]);
    expect((await applied.list()).get('net')).toMatchObject({ specHash: v2.specHash, revision: 'rev2' });
  });

  it('runs an earlier spec again when Git goes back to it (A → B → A), through the real worker', async () => {
    const { run, queues, applied, prefix } = setup();
    const store = new RedisRunStore(redis, prefix);
    const executor = new RecordingExecutor({ store });
    const worker = await startRunWorker({ connection: redis, prefix, executor, concurrency: 1 });
    try {
      const a = experiment('flip', { percent: 10 });
      const b = experiment('flip', { percent: 20 });
      const aId = runJobId('flip', a.specHash, 'once');
      const bId = runJobId('flip', b.specHash, 'once');
      const finished = async (id: string) => (await queues.runs.getJob(id))?.finishedOn;

      await run([a], 'r1');
      await waitFor(() => finished(aId), 'run A to finish');
      await run([b], 'r2');
      await waitFor(() => finished(bId), 'run B to finish');
      // A replay of r2 (e.g. after a crash) runs nothing new.
      expect((await run([b], 'r2')).enqueued).toBe(0);
      const back = await run([a], 'r3');
      expect(back.counts.update).toBe(1);
      expect(back.enqueued).toBe(1);
      await waitFor(async () => (await queues.runs.getJob(aId))?.data.revision === 'r3' && finished(aId), 'run A again');
      expect(executor.started).toEqual([aId, bId, aId]);
      expect((await applied.list()).get('flip')!.revision).toBe('r3');
      expect((await store.get(aId))!.revision).toBe('r3');
    } finally {
      await worker.close();
    }
  });

  it('a pass whose applied write failed after its run finished is replayed without running again', async () => {
    const durable = new MemoryAppliedStore();
    let failPut = false;
    const flakyStore: AppliedStore = {
      list: () => durable.list(),
      remove: (n) => durable.remove(n),
      put: (r) => (failPut ? Promise.reject(new Error('status branch push rejected')) : durable.put(r)),
    };
    const { run, queues, prefix } = setup({ applied: flakyStore });
    const executor = new RecordingExecutor({ store: new RedisRunStore(redis, prefix) });
    const worker = await startRunWorker({ connection: redis, prefix, executor, concurrency: 1 });
    try {
      const a = experiment('replay', { percent: 10 });
      const b = experiment('replay', { percent: 20 });
      const bId = runJobId('replay', b.specHash, 'once');
      await run([a], 'r1');
      failPut = true;
      const broken = await run([b], 'r2');
      expect(broken.failed).toBe(1);
      expect(durable.records.get('replay')!.specHash).toBe(a.specHash);
      await waitFor(async () => (await queues.runs.getJob(bId))?.finishedOn, 'run B to finish');
      failPut = false;
      const replay = await run([b], 'r2');
      expect(replay.counts.update).toBe(1);
      expect(replay.enqueued).toBe(0);
      expect(durable.records.get('replay')!.specHash).toBe(b.specHash);
      expect(executor.started.filter((id) => id === bId)).toHaveLength(1);
    } finally {
      await worker.close();
    }
  });

  it('delete: removes the schedule and queued runs, publishes an abort, forgets the record', async () => {
    const { run, runJobs, queues, applied, prefix } = setup();
    const once = experiment('once-exp');
    const cron = experiment('cron-exp', { schedule: { cron: '0 10 * * 1-5', timezone: 'Europe/Berlin' } });
    await run([once, cron], 'rev1');
    expect(await queues.runs.getJobScheduler('cron-exp')).toBeDefined();
    expect((await runJobs()).length).toBe(2); // the once run and the scheduler's next (delayed) run

    const heard: AbortRequest[] = [];
    const sub = await subscribeAbort(redis, prefix, (r) => heard.push(r));
    try {
      const summary = await run([], 'rev2');
      expect(summary.counts.delete).toBe(2);
      expect(summary.failed).toBe(0);
      expect(await queues.runs.getJobScheduler('cron-exp')).toBeUndefined();
      expect(await runJobs()).toEqual([]);
      expect((await applied.list()).size).toBe(0);
      await waitFor(() => heard.length >= 2, 'abort requests');
      expect(heard.map((h) => h.experiment).sort()).toEqual(['cron-exp', 'once-exp']);
      expect(heard[0]!.reason).toMatch(/deleted from Git/);
    } finally {
      await sub.close();
    }

    // Re-adding the same spec later is a new apply: it runs again.
    const back = await run([once], 'rev3');
    expect(back.enqueued).toBe(1);
  });

  it('scheduled: registers a job scheduler with the cron pattern, time zone and next run time', async () => {
    const { run, queues, applied } = setup();
    const e = experiment('nightly', { schedule: { cron: '30 2 * * *', timezone: 'America/New_York' } });
    const before = Date.now();
    const summary = await run([e]);
    expect(summary.counts.create).toBe(1);
    const s = (await queues.runs.getJobScheduler('nightly'))!;
    expect(s.pattern).toBe('30 2 * * *');
    expect(s.tz).toBe('America/New_York');
    expect(s.next).toBeGreaterThan(before);
    // 02:30 in New York, within the next day.
    const next = new Date(s.next!);
    const local = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(next);
    expect(local).toBe('02:30');
    expect(s.next! - before).toBeLessThanOrEqual(25 * 3600 * 1000);
    expect(s.template?.data).toMatchObject({ experiment: 'nightly', specHash: e.specHash, trigger: 'schedule' });
    expect((await applied.list()).get('nightly')!.scheduled).toBe(true);
    // No one-off run for a scheduled experiment: only the scheduler's delayed job.
    const waiting = await queues.runs.getJobs(['waiting']);
    expect(waiting).toEqual([]);

    // A changed schedule replaces the scheduler (same id), not adds one.
    const e2 = experiment('nightly', { schedule: { cron: '0 4 * * *', timezone: 'Asia/Tokyo' } });
    await run([e2], 'rev2');
    expect(await queues.runs.getJobSchedulersCount()).toBe(1);
    const s2 = (await queues.runs.getJobScheduler('nightly'))!;
    expect([s2.pattern, s2.tz]).toEqual(['0 4 * * *', 'Asia/Tokyo']);
    const delayed = await queues.runs.getJobs(['delayed']);
    expect(delayed.map((j) => j.data.specHash)).toEqual([e2.specHash]);
  });

  it('moving between one-off and scheduled swaps the queued run for a scheduler and back', async () => {
    const { run, queues, runJobs } = setup();
    const once = experiment('switch');
    await run([once], 'r1');
    const cron = experiment('switch', { schedule: { cron: '15 6 * * *', timezone: 'UTC' } });
    await run([cron], 'r2');
    expect(await queues.runs.getJobScheduler('switch')).toBeDefined();
    // The not-yet-started one-off run of the old spec is gone; only the scheduler's next run waits.
    expect((await runJobs()).map((j) => [j.data.specHash, j.data.trigger])).toEqual([[cron.specHash, 'schedule']]);
    const back = experiment('switch', { percent: 70 });
    const s = await run([back], 'r3');
    expect(s.enqueued).toBe(1);
    expect(await queues.runs.getJobScheduler('switch')).toBeUndefined();
    expect((await runJobs()).map((j) => j.id)).toEqual([runJobId('switch', back.specHash, 'once')]);
  });

  it('re-registers a scheduler that vanished from Redis while the applied record remained', async () => {
    const applied = new MemoryAppliedStore();
    const first = setup({ applied });
    const e = experiment('hourly', { schedule: { cron: '0 * * * *' } });
    await first.run([e]);
    // Redis flushed: a fresh prefix, same durable applied store.
    const second = setup({ applied });
    const summary = await second.run([e], 'rev2');
    expect(summary.counts.unchanged).toBe(1);
    expect(await second.queues.runs.getJobScheduler('hourly')).toBeDefined();
  });

  it('suspend: removes the scheduler, queues nothing, and records the suspension', async () => {
    const { run, runJobs, queues, applied } = setup();
    const cron = experiment('weekly', { schedule: { cron: '0 9 * * 1' } });
    await run([cron]);
    const paused = experiment('weekly', { schedule: { cron: '0 9 * * 1' }, suspend: true });
    const summary = await run([paused], 'rev2');
    expect(summary.counts.suspend).toBe(1);
    expect(await queues.runs.getJobScheduler('weekly')).toBeUndefined();
    expect(await runJobs()).toEqual([]);
    expect((await applied.list()).get('weekly')).toMatchObject({ suspended: true, scheduled: false, specHash: paused.specHash });

    const fresh = experiment('never-runs', { suspend: true });
    const s2 = await run([paused, fresh], 'rev3');
    expect(s2.counts).toMatchObject({ unchanged: 1, suspend: 1 });
    expect(await runJobs()).toEqual([]);
  });

  it('freeze: nothing is enqueued, active runs are asked to abort; the thaw applies what waited', async () => {
    const { run, runJobs, applied, prefix } = setup();
    const heard: AbortRequest[] = [];
    const sub = await subscribeAbort(redis, prefix, (r) => heard.push(r));
    try {
      const e = experiment('held');
      const frozen = await run([e], 'rev1', { freeze: true });
      expect(frozen.counts.create).toBe(1);
      expect(frozen.items[0]!.result).toBe('held');
      expect(frozen.enqueued).toBe(0);
      expect(await runJobs()).toEqual([]);
      expect((await applied.list()).size).toBe(0);
      expect(await isFrozen(redis, prefix)).toBe(true);
      await waitFor(() => heard.find((h) => h.all), 'abort-all request');

      const thawed = await run([e], 'rev2');
      expect(thawed.enqueued).toBe(1);
      expect(await isFrozen(redis, prefix)).toBe(false);
      expect((await runJobs()).length).toBe(1);
    } finally {
      await sub.close();
    }
  });

  it('an invalid file keeps its applied record and blocks only itself', async () => {
    const { run, runJobs, applied } = setup();
    const a = experiment('a', { file: 'experiments/a.yaml' });
    const b = experiment('b', { file: 'experiments/b.yaml' });
    await run([a, b], 'rev1');
    const c = experiment('c', { file: 'experiments/c.yaml' });
    const summary = await run([b, c], 'rev2', { problems: [problem('experiments/a.yaml')] });
    expect(summary.counts).toMatchObject({ invalid: 1, unchanged: 1, create: 1, delete: 0 });
    expect((await applied.list()).has('a')).toBe(true);
    expect((await runJobs()).map((j) => j.data.experiment).sort()).toEqual(['a', 'b', 'c']);
  });

  it('writes no applied record when the queue side fails, and the next pass retries', async () => {
    const { run, queues, applied, runJobs } = setup();
    const e = experiment('flaky');
    const realAdd = queues.runs.add.bind(queues.runs);
    queues.runs.add = () => Promise.reject(new Error('Redis went away'));
    const failed = await run([e]);
    expect(failed.failed).toBe(1);
    expect(failed.items[0]).toMatchObject({ result: 'failed', error: 'Redis went away' });
    expect((await applied.list()).size).toBe(0);

    queues.runs.add = realAdd;
    const retried = await run([e], 'rev2');
    expect(retried.counts.create).toBe(1);
    expect(retried.enqueued).toBe(1);
    expect((await runJobs()).length).toBe(1);
  });

  it('an unchanged experiment does not run again after a Redis flush once its run has ended (the applied store remembers)', async () => {
    const applied = new MemoryAppliedStore();
    const e = experiment('once-only');
    const first = setup({ applied });
    expect((await first.run([e])).enqueued).toBe(1);
    expect((await applied.list()).get('once-only')?.run).toBe('queued');
    // The run ended: the status branch marks the record as ran.
    await applied.put({ ...(await applied.list()).get('once-only')!, run: 'ran' });
    const afterFlush = setup({ applied }); // a brand-new, empty Redis keyspace
    const summary = await afterFlush.run([e], 'rev2');
    expect(summary.counts.unchanged).toBe(1);
    expect(await afterFlush.runJobs()).toEqual([]);
  });

  it('a one-off whose run was still queued when Redis was lost is queued again, once', async () => {
    const applied = new MemoryAppliedStore();
    const e = experiment('owed');
    const first = setup({ applied });
    expect((await first.run([e])).enqueued).toBe(1);
    const afterFlush = setup({ applied }); // the job is gone, the record still says queued
    const summary = await afterFlush.run([e], 'rev2');
    expect(summary.counts.unchanged).toBe(1);
    expect(summary.enqueued).toBe(1);
    expect((await afterFlush.runJobs()).length).toBe(1);
    // The job exists now: another pass from the store adds nothing.
    const again = setup({ applied, prefix: afterFlush.prefix });
    expect((await again.run([e], 'rev3')).enqueued).toBe(0);
  });

  it('a replica that is not the leader skips the pass', async () => {
    const { queues, applied, runJobs, prefix } = setup();
    const holder = new RedisLeaderLock(redis, { prefix, ttlMs: 10_000 });
    const other = new RedisLeaderLock(redis, { prefix, ttlMs: 10_000 });
    expect(await holder.tryAcquire()).toBe(true);
    expect(await other.tryAcquire()).toBe(false);
    const follower = new Reconciler({ queues, applied, leader: other });
    const summary = await follower.reconcile({ revision: 'r', load: load([experiment('x')]), freeze: false });
    expect(summary.skipped).toBe('not-leader');
    expect(await runJobs()).toEqual([]);
    const leader = new Reconciler({ queues, applied, leader: holder });
    expect((await leader.reconcile({ revision: 'r', load: load([experiment('x')]), freeze: false })).enqueued).toBe(1);
    await holder.release();
  });
});
