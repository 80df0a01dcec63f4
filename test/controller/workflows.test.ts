// ChaosWorkflows through the whole controller (git server, Redis, the simulator, the real fault
// executor): steps in order, a parallel group's faults in place at the same time, continueOnFailure,
// a failing step skipping the rest, a failing assertion aborting and reverting every active step,
// `faultline abort` of a workflow run, a scheduled workflow and suspend. What is checked is the
// simulator's own objects (replicas, cordons) and the run records in Redis.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { Controller } from '../../src/controller/index.js';
import type { KObject } from '../../src/sim/index.js';
import { SafetyState } from '../../src/safety/state.js';
import type { WorkflowRunRecord } from '../../src/workflows/run-types.js';
import { podKill, postWebhook, pushPayload, reconciled, startIn, startWorld, waitFor, type World } from './harness.js';

let world: World | undefined;
let controller: Controller | undefined;
afterEach(async () => {
  await controller?.close();
  controller = undefined;
  await world?.close();
  world = undefined;
}, 120_000);

const ENV = { FAULTLINE_MAX_BLAST_RADIUS_PERCENT: '100', FAULTLINE_MAX_CONCURRENT_RUNS: '10', FAULTLINE_RUNS_CONCURRENCY: '4' };

const workflow = (name: string, body: string[]) => ['apiVersion: faultline.dev/v1alpha1', 'kind: ChaosWorkflow', `metadata: { name: ${name} }`, 'spec:', ...body.map((l) => `  ${l}`), ''].join('\n');

const scaleDown = (name: string, duration: string, extra = '') =>
  `- { name: ${name}, fault: { type: scale-down, params: { replicas: 0 } }, target: { namespace: shop, selector: { matchLabels: { app: catalog } }, mode: { type: all } }, duration: ${duration}${extra} }`;
const cordon = (name: string, duration: string) =>
  `- { name: ${name}, fault: { type: node-cordon }, target: { namespace: shop, selector: { matchLabels: { app: frontend } }, mode: { type: one } }, duration: ${duration} }`;
// The legacy namespace is not opted in: the executor's guards refuse this step at run time.
const refused = (name: string, extra = '') =>
  `- { name: ${name}, fault: { type: pod-kill }, target: { namespace: legacy, selector: { matchLabels: { app: billing } }, mode: { type: one } }, duration: 1s${extra} }`;

function cluster(w: World) {
  const catalog = w.sim.store.get<KObject>('apps/deployments', 'shop', 'catalog')!;
  const cordoned = w.sim.store.list<KObject>('nodes').filter((n) => (n.spec as { unschedulable?: boolean } | undefined)?.unschedulable);
  return { catalogReplicas: (catalog.spec as { replicas: number }).replicas, cordoned: cordoned.length };
}

async function runOf(c: Controller, name: string, done = true): Promise<WorkflowRunRecord | undefined> {
  const [r] = await c.workflowRuns.list({ workflow: name, limit: 1 });
  return r && (!done || ['Succeeded', 'Failed', 'Aborted'].includes(r.phase)) ? r : undefined;
}

const step = (r: WorkflowRunRecord, name: string) => r.steps.find((s) => s.name === name)!;
const overlap = (a: { from: string; to?: string }, b: { from: string; to?: string }) => Math.max(Date.parse(a.from), Date.parse(b.from)) < Math.min(Date.parse(a.to!), Date.parse(b.to!));

describe('ChaosWorkflow runs through the controller', () => {
  it('runs steps in order, a parallel group at once, goes on after a continueOnFailure step, and judges the after-assertion', async () => {
    world = await startWorld({
      env: ENV,
      seed: {
        'experiments/gameday.yaml': workflow('gameday', [
          'probes:',
          '  - { name: frontend-up, kubernetes: { namespace: shop, kind: Deployment, name: frontend, minReadyReplicas: 1 }, interval: 1s }',
          'assertions:',
          '  - { name: frontend-stayed-up, probe: frontend-up, operator: gte, value: 0.9, when: after }',
          'steps:',
          '  - { name: baseline, pause: 1s }',
          '  - name: break',
          '    parallel:',
          `      ${scaleDown('catalog-down', '3s')}`,
          `      ${cordon('cordon-frontend', '3s')}`,
          `  ${refused('billing-kill', ', continueOnFailure: true')}`,
          '  - name: final-check',
          '    check: { probes: [ { name: catalog-back, kubernetes: { namespace: shop, kind: Deployment, name: catalog, minReadyReplicas: 2 } } ] }',
        ]),
      },
    });
    const w = world;
    const c = (controller = await startIn(w));
    const seen: string[] = [];
    const watch = setInterval(() => {
      const s = cluster(w);
      if (s.catalogReplicas === 0 && s.cordoned > 0) seen.push('both-faults-at-once');
    }, 50);
    const r = await waitFor(() => runOf(c, 'gameday'), 'the gameday run to end', 90_000).finally(() => clearInterval(watch));

    expect(r.phase, r.reason).toBe('Succeeded');
    expect(r.steps.map((s) => [s.path, s.phase])).toEqual([
      ['gameday/baseline', 'Succeeded'],
      ['gameday/break', 'Succeeded'],
      ['gameday/break/catalog-down', 'Succeeded'],
      ['gameday/break/cordon-frontend', 'Succeeded'],
      ['gameday/billing-kill', 'Failed'],
      ['gameday/final-check', 'Succeeded'],
    ]);
    expect(r.progress).toBe(1);
    expect([r.currentStep, r.totalSteps]).toEqual([4, 4]);
    // Order: each top-level step starts after the one before it ended.
    const top = ['baseline', 'break', 'billing-kill', 'final-check'].map((n) => step(r, n));
    for (let i = 1; i < top.length; i++) expect(Date.parse(top[i]!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(top[i - 1]!.endedAt!));
    // Parallelism: both fault windows overlap, and the simulator had both faults at once.
    const down = step(r, 'catalog-down');
    const cord = step(r, 'cordon-frontend');
    expect(down.faultWindow?.to && cord.faultWindow?.to).toBeTruthy();
    expect(overlap(down.faultWindow!, cord.faultWindow!)).toBe(true);
    expect(seen.length).toBeGreaterThan(0);
    // The refused step failed through the executor's guards; the workflow went on.
    expect(step(r, 'billing-kill').reasonCode).toBe('GuardRefused');
    expect(step(r, 'billing-kill').reason).toMatch(/opt-in/);
    // Every fault step is a normal run record under its step run id.
    for (const s of [down, cord, step(r, 'billing-kill')]) {
      const run = await c.runs.get(s.runId!);
      expect(run?.id).toBe(s.runId);
    }
    expect((await c.runs.get(down.runId!))?.state).toBe('Succeeded');
    expect(step(r, 'final-check').probes?.every((p) => p.ok)).toBe(true);
    expect(r.assertions.filter((a) => a.when === 'after').map((a) => [a.name, a.ok])).toEqual([['frontend-stayed-up', true]]);
    expect(r.probes.length).toBeGreaterThan(2);
    // Nothing left: replicas back, no cordon, the workflow's locks released.
    expect(cluster(w)).toEqual({ catalogReplicas: 2, cordoned: 0 });
    expect(await new SafetyState(w.redis, { prefix: w.prefix, maxConcurrentRuns: 10 }).lockedWorkloads()).toEqual([]);
  }, 150_000);

  it('a failed step without continueOnFailure fails the workflow and skips the later steps', async () => {
    world = await startWorld({
      env: ENV,
      seed: { 'experiments/strict.yaml': workflow('strict', ['steps:', `  ${refused('billing-kill')}`, `  ${scaleDown('catalog-down', '2s')}`]) },
    });
    const c = (controller = await startIn(world));
    const r = await waitFor(() => runOf(c, 'strict'), 'the strict run to end', 60_000);
    expect(r.phase).toBe('Failed');
    expect(r.reason).toMatch(/^step strict\/billing-kill failed/);
    expect(r.steps.map((s) => s.phase)).toEqual(['Failed', 'Skipped']);
    expect(step(r, 'catalog-down').runId).toBeUndefined();
    expect(cluster(world).catalogReplicas).toBe(2);
  }, 120_000);

  it('a failing during-assertion aborts the workflow and every active step reverts', async () => {
    world = await startWorld({
      env: ENV,
      seed: {
        'experiments/guarded.yaml': workflow('guarded', [
          'probes:',
          '  - { name: catalog-ready, kubernetes: { namespace: shop, kind: Deployment, name: catalog, minReadyReplicas: 1 }, interval: 1s }',
          'assertions:',
          '  - { name: catalog-always-up, probe: catalog-ready, operator: gte, value: 1, when: during }',
          'steps:',
          '  - name: break',
          '    parallel:',
          `      ${scaleDown('catalog-down', '5m')}`,
          `      ${cordon('cordon-frontend', '5m')}`,
          '  - { name: never, pause: 1s }',
        ]),
      },
    });
    const w = world;
    const c = (controller = await startIn(w));
    const r = await waitFor(() => runOf(c, 'guarded'), 'the guarded run to end', 90_000);
    expect(r.phase).toBe('Failed');
    expect(r.reasonCode).toBe('SteadyStateLost');
    expect(r.reason).toMatch(/^assertion catalog-always-up failed during the run: 0\.\d+ is not gte 1/);
    expect(r.steps.map((s) => [s.name, s.phase])).toEqual([['break', 'Aborted'], ['catalog-down', 'Aborted'], ['cordon-frontend', 'Aborted'], ['never', 'Skipped']]);
    for (const n of ['catalog-down', 'cordon-frontend']) {
      const run = await c.runs.get(step(r, n).runId!);
      expect([run?.state, run?.timeline.some((t) => t.state === 'Running')]).toEqual(['Aborted', true]);
      expect(step(r, n).faultWindow?.to).toBeDefined();
    }
    expect(r.assertions.some((a) => a.when === 'during' && !a.ok)).toBe(true);
    await waitFor(() => cluster(w).catalogReplicas === 2 && cluster(w).cordoned === 0, 'both faults reverted', 30_000);
  }, 150_000);

  it('`faultline abort <workflow run id>` aborts it: every active step reverts', async () => {
    world = await startWorld({
      env: ENV,
      seed: { 'experiments/long.yaml': workflow('long', ['steps:', '  - name: break', '    parallel:', `      ${scaleDown('catalog-down', '5m')}`, `      ${cordon('cordon-frontend', '5m')}`, '  - { name: never, pause: 1s }']) },
    });
    const w = world;
    const c = (controller = await startIn(w));
    await waitFor(() => cluster(w).catalogReplicas === 0 && cluster(w).cordoned === 1, 'both faults in place', 60_000);
    const live = await waitFor(() => runOf(c, 'long', false), 'the run record');
    const cli = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn('node_modules/.bin/node', ['src/cli/bin.js', 'abort', live.id, '--reason', 'gameday called off'], { env: { ...process.env, ...w.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (b: Buffer) => (out += b.toString()));
      p.stderr.on('data', (b: Buffer) => (out += b.toString()));
      p.on('exit', (code) => resolve({ code, out }));
    });
    expect(cli.out.trim()).toBe(`abort sent to workflow run ${live.id} (Running); every active step reverts what it injected`);
    expect(cli.code).toBe(0);
    const r = await waitFor(() => runOf(c, 'long'), 'the aborted run to end', 60_000);
    expect([r.phase, r.reasonCode, r.reason]).toEqual(['Aborted', 'Aborted', 'aborted: gameday called off']);
    expect(r.steps.map((s) => [s.name, s.phase])).toEqual([['break', 'Aborted'], ['catalog-down', 'Aborted'], ['cordon-frontend', 'Aborted'], ['never', 'Skipped']]);
    expect(cluster(w)).toEqual({ catalogReplicas: 2, cordoned: 0 });
  }, 150_000);

  it('locks cover the workflow\'s workloads for its whole run: an experiment on one of them waits until it ends', async () => {
    world = await startWorld({
      env: ENV,
      seed: { 'experiments/holder.yaml': workflow('holder', ['steps:', '  - { name: warm-up, pause: 4s }', `  ${cordon('cordon-frontend', '2s')}`, '  - { name: cool-down, pause: 2s }']) },
    });
    const w = world;
    const c = (controller = await startIn(w));
    const seed = await w.work.git('rev-parse', 'HEAD');
    await waitFor(async () => (await runOf(c, 'holder', false))?.phase === 'Running', 'the workflow running');
    // While it pauses (no fault yet) the frontend lock is already the workflow's.
    await w.work.write('experiments/frontend-kill.yaml', podKill('frontend-kill', { app: 'frontend' }));
    const rev = await w.work.commitAndPush('frontend-kill');
    expect((await postWebhook(c.url!, pushPayload({ after: rev, before: seed }))).status).toBe(202);
    await reconciled(w, rev);
    const run = await waitFor(async () => (await c.runs.list({ experiment: 'frontend-kill', limit: 1 })).runs.find((x) => x.state === 'Succeeded'), 'the experiment run', 90_000);
    const r = await waitFor(() => runOf(c, 'holder'), 'the workflow to end');
    expect(r.phase).toBe('Succeeded');
    expect(run.timeline.some((t) => /^waiting: .*lock: workload shop\/Deployment\/frontend/.test(t.message))).toBe(true);
    // The experiment injected only after the workflow had let go (its cool-down ran after the cordon).
    const injected = run.timeline.find((t) => t.state === 'Injecting')!.at;
    expect(Date.parse(injected)).toBeGreaterThanOrEqual(Date.parse(r.endedAt!) - 50);
  }, 150_000);

  it('a scheduled workflow registers its cron with its time zone and runs at an occurrence; suspend removes it and queues nothing', async () => {
    world = await startWorld({
      env: ENV,
      seed: {
        'experiments/nightly.yaml': workflow('nightly-gameday', ['schedule: { cron: "0 3 * * *", timezone: Europe/Berlin }', 'steps:', '  - { name: wait, pause: 1s }']),
        'experiments/paused.yaml': workflow('paused-gameday', ['suspend: true', 'steps:', '  - { name: wait, pause: 1s }']),
      },
    });
    const w = world;
    const c = (controller = await startIn(w));
    const seed = await w.work.git('rev-parse', 'HEAD');
    await reconciled(w, seed);
    const queue = new Queue('workflows', { connection: w.redis, prefix: w.prefix });
    try {
      const schedulers = await waitFor(async () => {
        const s = await queue.getJobSchedulers(0, -1);
        return s.length ? s : undefined;
      }, 'the workflow scheduler');
      expect(schedulers.map((s) => [s.key, s.pattern, s.tz])).toEqual([['nightly-gameday', '0 3 * * *', 'Europe/Berlin']]);
      // Its next occurrence waits as a delayed job; bringing it forward is that occurrence arriving.
      const [next] = await waitFor(async () => {
        const d = await queue.getJobs(['delayed']);
        return d.length ? d : undefined;
      }, 'the next occurrence');
      expect(next!.data.workflow).toBe('nightly-gameday');
      expect(new Date(next!.timestamp + (next!.opts.delay ?? 0)).toLocaleString('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit' })).toBe('03:00');
      await next!.promote();
      const r = await waitFor(() => runOf(c, 'nightly-gameday'), 'the scheduled run', 60_000);
      expect([r.phase, r.trigger]).toEqual(['Succeeded', 'schedule']);
      expect(r.id).toMatch(/^nightly-gameday\.[0-9a-f]{16}\.\d{13}$/);
      // The suspended workflow queued nothing and has no schedule.
      expect(await c.workflowRuns.list({ workflow: 'paused-gameday' })).toEqual([]);
      expect((await queue.getJobs(['waiting', 'delayed', 'active', 'completed'])).filter((j) => j.data?.workflow === 'paused-gameday')).toEqual([]);

      // Suspending the scheduled one removes its schedule and its next occurrence.
      await w.work.write('experiments/nightly.yaml', workflow('nightly-gameday', ['suspend: true', 'schedule: { cron: "0 3 * * *", timezone: Europe/Berlin }', 'steps:', '  - { name: wait, pause: 1s }']));
      const rev = await w.work.commitAndPush('suspend the nightly gameday');
      expect((await postWebhook(c.url!, pushPayload({ after: rev, before: seed }))).status).toBe(202);
      await reconciled(w, rev);
      await waitFor(async () => (await queue.getJobSchedulers(0, -1)).length === 0, 'the schedule removed');
      expect(await queue.getJobs(['delayed', 'waiting'])).toEqual([]);
      expect((await c.workflowRuns.list({ workflow: 'nightly-gameday' })).map((x) => x.id)).toEqual([r.id]);
    } finally {
      await queue.close();
    }
  }, 150_000);

  it('the freeze file and `faultline abort --all` abort a running workflow: every active step reverts', async () => {
    const body = (pause: string) => ['steps:', '  - name: break', '    parallel:', `      ${scaleDown('catalog-down', '5m')}`, `      ${cordon('cordon-frontend', '5m')}`, `  - { name: never, pause: ${pause} }`];
    world = await startWorld({ env: ENV, seed: { 'experiments/long.yaml': workflow('long', body('1s')) } });
    const w = world;
    const c = (controller = await startIn(w));
    const seed = await w.work.git('rev-parse', 'HEAD');
    await waitFor(() => cluster(w).catalogReplicas === 0 && cluster(w).cordoned === 1, 'both faults in place', 60_000);
    await w.work.write('.faultline/freeze', 'gameday paused\n');
    const frozen = await w.work.commitAndPush('freeze');
    expect((await postWebhook(c.url!, pushPayload({ after: frozen, before: seed }))).status).toBe(202);
    const r1 = await waitFor(() => runOf(c, 'long'), 'the frozen run to end', 60_000);
    expect([r1.phase, r1.reason]).toEqual(['Aborted', 'aborted: freeze: .faultline/freeze is present in the repository']);
    expect(r1.steps.map((s) => s.phase)).toEqual(['Aborted', 'Aborted', 'Aborted', 'Skipped']);
    expect(cluster(w)).toEqual({ catalogReplicas: 2, cordoned: 0 });

    // Unfrozen, with a changed spec: a new run; the kill switch from the CLI aborts it.
    await w.work.remove('.faultline/freeze');
    await w.work.write('experiments/long.yaml', workflow('long', body('2s')));
    const thawed = await w.work.commitAndPush('unfreeze, longer pause');
    expect((await postWebhook(c.url!, pushPayload({ after: thawed, before: frozen }))).status).toBe(202);
    const second = await waitFor(async () => {
      const [r] = await c.workflowRuns.list({ workflow: 'long', limit: 1 });
      return r && r.id !== r1.id && cluster(w).catalogReplicas === 0 && cluster(w).cordoned === 1 ? r : undefined;
    }, 'the second run with both faults in place', 60_000);
    const cli = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn('node_modules/.bin/node', ['src/cli/bin.js', 'abort', '--all', '--reason', 'stop everything'], { env: { ...process.env, ...w.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (b: Buffer) => (out += b.toString()));
      p.stderr.on('data', (b: Buffer) => (out += b.toString()));
      p.on('exit', (code) => resolve({ code, out }));
    });
    expect(cli.code, cli.out).toBe(0);
    const r2 = await waitFor(async () => {
      const r = await c.workflowRuns.get(second.id);
      return r && ['Aborted', 'Failed', 'Succeeded'].includes(r.phase) ? r : undefined;
    }, 'the second run to end', 60_000);
    expect(r2.phase).toBe('Aborted');
    expect(r2.reason).toMatch(/stop everything/);
    expect(r2.steps.map((s) => s.phase)).toEqual(['Aborted', 'Aborted', 'Aborted', 'Skipped']);
    expect(cluster(w)).toEqual({ catalogReplicas: 2, cordoned: 0 });
  }, 180_000);

  it('Prometheus assertions query through the egress policy: their values are recorded and a failing after-assertion fails the run', async () => {
    const queries: string[] = [];
    const prom = createServer((req, res) => {
      const query = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
      queries.push(query);
      const value = query === 'availability' ? '0.995' : '0.35';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, value] }] } }));
    });
    await new Promise<void>((r) => prom.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(prom.address() as AddressInfo).port}`;
    try {
      world = await startWorld({
        env: { ...ENV, FAULTLINE_EGRESS_ALLOW_CIDRS: '127.0.0.1/32' },
        seed: {
          'experiments/judged.yaml': workflow('judged', [
            'assertions:',
            `  - { name: available, prometheus: { url: "${url}", query: availability }, operator: gte, value: 0.99 }`,
            `  - { name: latency-low, prometheus: { url: "${url}", query: latency }, operator: lte, value: 0.2, when: after }`,
            'steps:',
            '  - { name: wait, pause: 2s }',
          ]),
        },
      });
      const c = (controller = await startIn(world));
      const r = await waitFor(() => runOf(c, 'judged'), 'the judged run to end', 60_000);
      expect(r.phase).toBe('Failed');
      expect(r.reason).toBe('assertion latency-low failed after the run: 0.35 is not lte 0.2');
      expect(r.steps.map((s) => s.phase)).toEqual(['Succeeded']);
      const byName = (n: string, when: string) => r.assertions.filter((a) => a.name === n && a.when === when).map((a) => [a.value, a.ok]);
      expect(byName('available', 'during')[0]).toEqual([0.995, true]);
      expect(byName('available', 'after')).toEqual([[0.995, true]]);
      expect(byName('latency-low', 'after')).toEqual([[0.35, false]]);
      expect(byName('latency-low', 'during')).toEqual([]);
      expect(queries).toContain('latency');
    } finally {
      prom.close();
    }
  }, 120_000);

  it('`faultline abort <step run id>` aborts the step\'s workflow run', async () => {
    world = await startWorld({ env: ENV, seed: { 'experiments/long.yaml': workflow('long', ['steps:', `  ${scaleDown('catalog-down', '5m')}`, '  - { name: never, pause: 1s }']) } });
    const w = world;
    const c = (controller = await startIn(w));
    await waitFor(() => cluster(w).catalogReplicas === 0, 'the scale-down in place', 60_000);
    const live = await waitFor(async () => (await runOf(c, 'long', false))?.steps[0]?.runId ? runOf(c, 'long', false) : undefined, 'the step run id');
    const stepRunId = live.steps[0]!.runId!;
    const out = await new Promise<string>((resolve) => {
      const p = spawn('node_modules/.bin/node', ['src/cli/bin.js', 'abort', stepRunId], { env: { ...process.env, ...w.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      p.stdout.on('data', (b: Buffer) => (text += b.toString()));
      p.on('exit', () => resolve(text));
    });
    expect(out).toMatch(/^abort sent to run /);
    const r = await waitFor(() => runOf(c, 'long'), 'the run to end', 60_000);
    expect(r.steps.map((s) => s.phase)).toEqual(['Aborted', 'Skipped']);
    expect(r.phase).toBe('Aborted');
    expect(cluster(w).catalogReplicas).toBe(2);
  }, 120_000);

  it('an experiment step runs the referenced experiment through the executor with the step\'s duration', async () => {
    world = await startWorld({
      env: ENV,
      seed: {
        'experiments/cart-kill.yaml': podKill('cart-kill', { app: 'cart', duration: '1s' }),
        'experiments/uses-ref.yaml': workflow('uses-ref', ['steps:', '  - { name: kill-cart, experiment: cart-kill, duration: 3s }']),
      },
    });
    const c = (controller = await startIn(world));
    const r = await waitFor(() => runOf(c, 'uses-ref'), 'the run to end', 60_000);
    expect(r.phase, r.reason).toBe('Succeeded');
    const run = (await c.runs.get(r.steps[0]!.runId!))!;
    expect([run.experiment, run.faultType, run.state]).toEqual(['cart-kill', 'pod-kill', 'Succeeded']);
    expect(run.timeline.find((t) => t.state === 'Running')?.message).toBe('fault active for 3s');
    expect(r.steps[0]!.faultWindow?.to).toBeDefined();
  }, 120_000);
});
