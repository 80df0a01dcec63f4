// The whole controller on the queue/reconcile path, with the recording executor standing in for
// fault injection (same queue and worker path): deletions cancel schedules and queued runs,
// webhooks are authenticated and bounded, invalid files block only themselves and show up in
// `faultline status --json`, and "already ran this revision" survives a restart and a Redis flush.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { Controller } from '../../src/controller/index.js';
import { readCatalog } from '../../src/controller/catalog.js';
import { RecordingExecutor, RedisRunStore } from '../../src/queue/index.js';
import type { ExperimentStatus } from '../../src/server/control-plane.js';
import { signGithub } from '../../src/server/index.js';
import { deletePrefix, podKill, postWebhook, pushPayload, reconciled, runJobsOf, runsOf, startIn, startWorld, waitFor, type World } from './harness.js';

const run = promisify(execFile);

let world: World | undefined;
const controllers: Controller[] = [];

afterEach(async () => {
  for (const c of controllers.splice(0)) await c.close();
  await world?.close();
  world = undefined;
});

/** A controller whose runs go through the recording executor (it counts executions). */
async function recordingController(w: World, o: { holdMs?: (name: string) => number; env?: Record<string, string>; identity?: string } = {}) {
  const executor = new RecordingExecutor({ store: new RedisRunStore(w.redis, w.prefix), holdMs: (job) => o.holdMs?.(job.experiment) ?? 0 });
  const controller = await startIn(w, { executor, env: o.env, identity: o.identity });
  controllers.push(controller);
  return { controller, executor };
}

describe('deleting experiments', () => {
  it('removes the schedule, drops the queued run and aborts the running one', async () => {
    world = await startWorld();
    const w = world;
    const seed = await w.work.git('rev-parse', 'HEAD');
    // One run at a time, and the blocker holds until it is aborted: the next run stays queued.
    const { controller, executor } = await recordingController(w, {
      env: { FAULTLINE_RUNS_CONCURRENCY: '1' },
      holdMs: (name) => (name === 'blocker' ? 600_000 : 0),
    });
    await reconciled(w, seed);

    await w.work.write('experiments/blocker.yaml', podKill('blocker', { app: 'frontend' }));
    const r1 = await w.work.commitAndPush('blocker');
    expect((await postWebhook(controller.url!, pushPayload({ after: r1 }))).status).toBe(202);
    await waitFor(async () => (await runsOf(controller, 'blocker'))[0]?.state === 'Running', 'blocker running');

    await w.work.write('experiments/victim.yaml', podKill('victim', { app: 'cart' }));
    await w.work.write('experiments/nightly.yaml', podKill('nightly', { app: 'catalog', schedule: '0 3 * * 1-5' }));
    const r2 = await w.work.commitAndPush('victim and nightly');
    expect((await postWebhook(controller.url!, pushPayload({ after: r2, before: r1 }))).status).toBe(202);
    await reconciled(w, r2);
    const [victimJob] = await runJobsOf(controller, 'victim');
    expect(victimJob).toBeDefined();
    expect(await controller.queues.runs.getJobState(victimJob!)).toBe('waiting');
    const schedulers = await controller.queues.runs.getJobSchedulers(0, -1);
    expect(schedulers.map((s) => s.key)).toEqual(['nightly']);
    expect(schedulers[0]!.pattern).toBe('0 3 * * 1-5');
    expect(schedulers[0]!.tz).toBe('Europe/Berlin');

    for (const f of ['blocker', 'victim', 'nightly']) await w.work.remove(`experiments/${f}.yaml`);
    const r3 = await w.work.commitAndPush('remove all three');
    expect((await postWebhook(controller.url!, pushPayload({ after: r3, before: r2 }))).status).toBe(202);
    await reconciled(w, r3);

    expect(await controller.queues.runs.getJobSchedulers(0, -1)).toEqual([]);
    expect(await controller.queues.runs.getJob(victimJob!)).toBeUndefined();
    const blocker = await waitFor(async () => {
      const r = (await runsOf(controller, 'blocker'))[0];
      return r?.outcome ? r : undefined;
    }, 'blocker aborted');
    expect(blocker.state).toBe('Aborted');
    expect(blocker.reason).toMatch(/deleted from Git/);
    // With the worker free again, nothing of the deleted experiments runs.
    await waitFor(async () => (await controller.queues.runs.getJobCounts('active', 'waiting', 'delayed')).active === 0, 'worker idle');
    expect(executor.started).toEqual([blocker.id]);
    expect(await runsOf(controller, 'victim')).toEqual([]);
    expect(await runsOf(controller, 'nightly')).toEqual([]);
    const applied = await controller.status.list();
    expect([...applied.keys()]).toEqual([]);
  }, 120_000);
});

describe('webhook authentication and limits', () => {
  it('forged or missing signatures get 401 and queue nothing; an oversized body gets 413', async () => {
    world = await startWorld({ seed: { 'experiments/a.yaml': podKill('a', { app: 'cart' }) } });
    const w = world;
    const seed = await w.work.git('rev-parse', 'HEAD');
    const { controller, executor } = await recordingController(w);
    await reconciled(w, seed);
    await waitFor(() => executor.started.length === 1, 'the seeded run');

    // A new commit is waiting: an accepted webhook would reconcile it.
    await w.work.write('experiments/b.yaml', podKill('b', { app: 'catalog' }));
    const next = await w.work.commitAndPush('b');
    const body = pushPayload({ after: next, before: seed });
    const counts = async () => controller.queues.reconcile.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized');
    const before = await counts();
    const deliveries = async () => (await w.redis.keys(`${w.prefix}:webhook:delivery:*`)).length;

    const forged = await postWebhook(controller.url!, body, { delivery: 'forged-1', signature: signGithub(body, 'not-the-secret') });
    const tampered = await postWebhook(controller.url!, body.replace('"refs/heads/main"', '"refs/heads/main" '), {
      delivery: 'tampered-1',
      signature: signGithub(body, 'it-is-a-secret'),
    });
    const missing = await postWebhook(controller.url!, body, { delivery: 'missing-1', signature: null });
    const garbage = await postWebhook(controller.url!, body, { delivery: 'garbage-1', signature: 'sha256=zz' });
    expect([forged.status, tampered.status, missing.status, garbage.status]).toEqual([401, 401, 401, 401]);
    expect(await counts()).toEqual(before);
    expect(await deliveries()).toBe(0);

    // Over the 1 MiB default limit, even when correctly signed.
    const big = JSON.stringify({ ...JSON.parse(body), padding: 'x'.repeat(1024 * 1024 + 10) });
    const tooLarge = await postWebhook(controller.url!, big, { delivery: 'big-1' });
    expect(tooLarge.status).toBe(413);
    expect(await counts()).toEqual(before);
    expect(await deliveries()).toBe(0);
    expect((await readCatalog(w.redis, w.prefix))!.revision).toBe(seed);

    // The same delivery correctly signed goes through (the 401s were not a broken server).
    expect((await postWebhook(controller.url!, body, { delivery: 'forged-1' })).status).toBe(202);
    await reconciled(w, next);
    await waitFor(() => executor.started.length === 2, 'run of b');
    expect((await runsOf(controller, 'b')).length).toBe(1);
    expect((await runsOf(controller, 'a')).length).toBe(1);
  }, 120_000);
});

describe('invalid files and `faultline status --json`', () => {
  it('an invalid file is reported and blocks only itself; status lists every experiment', async () => {
    world = await startWorld();
    const w = world;
    const seed = await w.work.git('rev-parse', 'HEAD');
    const { controller, executor } = await recordingController(w);
    await reconciled(w, seed);

    await w.work.write('experiments/good.yaml', podKill('good', { app: 'cart' }));
    await w.work.write('experiments/nightly.yaml', podKill('nightly', { app: 'catalog', schedule: '30 2 * * *' }));
    // Valid YAML, invalid experiment: the fault parameter is out of bounds (line 9).
    await w.work.write('experiments/bad-params.yaml', podKill('bad-params', { app: 'cart', grace: 99999 }));
    await w.work.write('experiments/broken.yaml', 'apiVersion: faultline.dev/v1alpha1\nkind: ChaosExperiment\nmetadata: { name: broken\n');
    const rev = await w.work.commitAndPush('two good, two bad');
    expect((await postWebhook(controller.url!, pushPayload({ after: rev, before: seed }))).status).toBe(202);
    const catalog = await reconciled(w, rev);
    expect(catalog.entries.map((e) => e.name).sort()).toEqual(['good', 'nightly']);
    expect([...new Set(catalog.problems.map((p) => p.file))].sort()).toEqual(['experiments/bad-params.yaml', 'experiments/broken.yaml']);
    expect(catalog.problems.find((p) => p.file === 'experiments/bad-params.yaml')!.line).toBe(9);

    const good = await waitFor(async () => {
      const r = (await runsOf(controller, 'good'))[0];
      return r?.outcome ? r : undefined;
    }, 'good ran');
    expect(good.state).toBe('Succeeded');
    expect(executor.started).toEqual([good.id]);
    expect(await runsOf(controller, 'bad-params')).toEqual([]);
    await controller.status.flush();

    const { stdout } = await run('node_modules/.bin/node', ['src/cli/bin.js', 'status', '--json'], {
      env: { ...process.env, ...w.env, LOG_LEVEL: 'silent' },
      timeout: 60_000,
    });
    const rows = JSON.parse(stdout) as ExperimentStatus[];
    const byName = new Map(rows.map((r) => [r.name, r]));
    const goodEntry = catalog.entries.find((e) => e.name === 'good')!;
    expect(byName.get('good')).toMatchObject({
      file: 'experiments/good.yaml',
      specHash: goodEntry.specHash,
      revision: rev,
      state: 'succeeded',
      fault: 'pod-kill',
      namespace: 'shop',
      lastRun: { id: good.id, state: 'Succeeded', outcome: 'succeeded' },
    });
    const nightly = byName.get('nightly')!;
    expect(nightly.state).toBe('queued'); // a scheduler waits for its next occurrence
    expect(nightly.schedule).toEqual({ cron: '30 2 * * *', timezone: 'Europe/Berlin' });
    expect(Date.parse(nightly.nextRun!)).toBeGreaterThan(Date.now());
    expect(nightly.lastRun).toBeUndefined();
    const invalid = rows.filter((r) => r.state === 'invalid');
    expect(invalid.map((r) => r.file).sort()).toEqual(['experiments/bad-params.yaml', 'experiments/broken.yaml']);
    expect(invalid.every((r) => (r.problems ?? []).length > 0)).toBe(true);
    expect(invalid.find((r) => r.file === 'experiments/bad-params.yaml')!.problems![0]!.line).toBe(9);

    // Fixing the file lets it through; the others are untouched.
    await w.work.write('experiments/bad-params.yaml', podKill('bad-params', { app: 'cart', grace: 5 }));
    const fixed = await w.work.commitAndPush('fix bad-params');
    expect((await postWebhook(controller.url!, pushPayload({ after: fixed, before: rev }))).status).toBe(202);
    expect((await reconciled(w, fixed)).problems.map((p) => p.file)).toEqual(['experiments/broken.yaml']);
    await waitFor(async () => (await runsOf(controller, 'bad-params'))[0]?.outcome === 'succeeded', 'fixed file ran');
    expect((await runsOf(controller, 'good')).length).toBe(1);
    expect(executor.started.length).toBe(2);
  }, 120_000);
});

describe('"already ran this revision" is remembered by the status branch', () => {
  it('survives a controller restart and a flush of the controller keys in Redis', async () => {
    world = await startWorld({
      seed: {
        'experiments/once.yaml': podKill('once', { app: 'cart' }),
        'experiments/nightly.yaml': podKill('nightly', { app: 'catalog', schedule: '0 3 * * *' }),
      },
    });
    const w = world;
    const seed = await w.work.git('rev-parse', 'HEAD');
    const a = await recordingController(w);
    await reconciled(w, seed);
    const first = await waitFor(async () => {
      const r = (await runsOf(a.controller, 'once'))[0];
      return r?.outcome ? r : undefined;
    }, 'first run');
    expect(a.executor.started).toEqual([first.id]);
    // The recording executor tells no listeners; the real one's status listener records the run
    // (and so marks the one-off as ran) on the status branch.
    await a.controller.status.recordRun(first);
    await a.controller.status.flush();
    await a.controller.close();

    // Restart (a new replica identity, Redis intact): the startup reconcile finds nothing to do.
    await w.redis.del(`${w.prefix}:catalog`); // so the next publish marks the new reconcile
    const b = await recordingController(w);
    await reconciled(w, seed);
    expect(b.executor.started).toEqual([]);
    expect(await runJobsOf(b.controller, 'once')).toEqual([first.id]);
    await b.controller.close();

    // Flush everything the controller keeps in Redis (queues, markers, runs, deliveries).
    expect(await deletePrefix(w.redis, w.prefix)).toBeGreaterThan(0);
    const c = await recordingController(w);
    await reconciled(w, seed);
    expect(await runJobsOf(c.controller, 'once')).toEqual([]);
    expect(await runsOf(c.controller, 'once')).toEqual([]);
    // The schedule came back from the status branch's record, the one-off did not run again.
    expect((await c.controller.queues.runs.getJobSchedulers(0, -1)).map((s) => s.key)).toEqual(['nightly']);
    const counts = await c.controller.queues.runs.getJobCounts('waiting', 'active', 'completed', 'failed');
    expect(counts).toEqual({ waiting: 0, active: 0, completed: 0, failed: 0 });
    expect(c.executor.started).toEqual([]);

    // Still alive: a changed spec runs on the flushed controller.
    await w.work.write('experiments/once.yaml', podKill('once', { app: 'cart', grace: 1 }));
    const changed = await w.work.commitAndPush('change once');
    expect((await postWebhook(c.controller.url!, pushPayload({ after: changed, before: seed }))).status).toBe(202);
    await waitFor(() => c.executor.started.length === 1, 'changed spec ran');
    expect(c.executor.started[0]).not.toBe(first.id);
  }, 120_000);
});
