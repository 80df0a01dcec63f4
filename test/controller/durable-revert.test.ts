// Nothing left behind: API faults (scale-down, node-cordon, http-fault) are reverted by a
// `faultline run` process after kill -9 of the one that injected them, also when Redis comes
// back empty; the kill switch survives the flush; a revert outlasts an API server outage; and
// SIGTERM ends a 10-minute fault within the configured bound. Each figure is printed.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RedisRunStore } from '../../src/queue/index.js';
import type { RunRecord } from '../../src/runs/types.js';
import type { KObject } from '../../src/sim/index.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { GitStatusStore } from '../../src/report/git-status.js';
import { join } from 'node:path';
import { podKill, startWorld, waitFor, type World } from './harness.js';
import { exited, spawnController, stopChildren } from './spawn.js';

let world: World | undefined;
let privateRedis: PrivateRedis | undefined;

afterEach(async () => {
  await stopChildren();
  await world?.close();
  world = undefined;
  await privateRedis?.close();
  privateRedis = undefined;
}, 120_000);

const experiment = (name: string, lines: string[]) => [
  'apiVersion: faultline.dev/v1alpha1', 'kind: ChaosExperiment', `metadata: { name: ${name} }`, 'spec:', ...lines.map((l) => `  ${l}`), '',
].join('\n');

const API_FAULTS = {
  'experiments/catalog-scale-down.yaml': experiment('catalog-scale-down', [
    'fault: { type: scale-down, params: { replicas: 0 } }',
    'target: { namespace: shop, selector: { matchLabels: { app: catalog } }, mode: { type: all } }',
    'duration: 10m', 'safety: { maxBlastRadiusPercent: 100 }',
  ]),
  'experiments/frontend-node-cordon.yaml': experiment('frontend-node-cordon', [
    'fault: { type: node-cordon }',
    'target: { namespace: shop, selector: { matchLabels: { app: frontend } }, mode: { type: one } }',
    'duration: 10m', 'safety: { maxTargets: 1 }',
  ]),
  'experiments/checkout-http-fault.yaml': experiment('checkout-http-fault', [
    'fault: { type: http-fault, params: { virtualService: checkout, abort: { httpStatus: 503, percent: 50 } } }',
    'target: { namespace: shop, selector: { matchLabels: { app: checkout } }, mode: { type: one } }',
    'duration: 10m',
  ]),
};

const SCRIPT = ['--import', 'tsx', 'test/controller/controller-process.ts'];
const TOKEN = 'durable-revert-token';
const ENV = { FAULTLINE_MAX_BLAST_RADIUS_PERCENT: '100', FAULTLINE_MAX_CONCURRENT_RUNS: '10', FAULTLINE_RUNS_CONCURRENCY: '5', FAULTLINE_API_TOKEN: TOKEN };

/** What each API fault looks like in the simulator right now. */
function faults(w: World) {
  const catalog = w.sim.store.get<KObject>('apps/deployments', 'shop', 'catalog')!;
  const cordoned = w.sim.store.list<KObject>('nodes').filter((n) => (n.spec as { unschedulable?: boolean } | undefined)?.unschedulable);
  const vs = w.sim.store.get<KObject>('networking.istio.io/virtualservices', 'shop', 'checkout')!;
  const http = ((vs.spec as { http?: { fault?: unknown }[] }).http ?? []);
  const marked = (o: KObject) => o.metadata.labels?.['faultline.dev/run-id'] !== undefined || o.metadata.annotations?.['faultline.dev/run-id'] !== undefined;
  return {
    'scale-down': (catalog.spec as { replicas: number }).replicas !== 2 || marked(catalog),
    'node-cordon': cordoned.length > 0 || w.sim.store.list<KObject>('nodes').some(marked),
    'http-fault': http.some((r) => r.fault !== undefined) || marked(vs),
  };
}

const allActive = (w: World) => Object.values(faults(w)).every(Boolean);

/** Resolves with the ms from `since` at which each fault was gone (polled every 50 ms). */
async function revertTimes(w: World, since: number, timeoutMs: number): Promise<Record<string, number>> {
  const times: Record<string, number> = {};
  await waitFor(() => {
    for (const [k, active] of Object.entries(faults(w))) if (!active && times[k] === undefined) times[k] = Date.now() - since;
    return Object.keys(times).length === 3;
  }, `every fault reverted (so far ${JSON.stringify(times)}; still ${JSON.stringify(faults(w))})`, timeoutMs);
  return times;
}

/** Revert times re-based on the moment the new process had loaded its modules and began to start. */
function sinceStart(at: Record<string, number>, spawnedAt: number, startingAt: number | undefined): Record<string, number> {
  if (startingAt === undefined) throw new Error('the controller process printed no `starting` line');
  return Object.fromEntries(Object.entries(at).map(([k, ms]) => [k, Math.max(0, spawnedAt + ms - startingAt)]));
}

async function runs(w: World, redisUrlClient = w.redis): Promise<RunRecord[]> {
  return (await new RedisRunStore(redisUrlClient, w.prefix).list({ limit: 100 })).runs;
}

describe('kill -9 of `faultline run` with scale-down, node-cordon and http-fault active', () => {
  it('a restarted controller reverts every fault within 10 s of its start', async () => {
    world = await startWorld({ seed: API_FAULTS, env: ENV });
    const w = world;
    const env = { ...w.env, FL_KUBECONFIG: await w.kubeconfigFile(), FL_IDENTITY: 'replica-0', FL_REAL_EXECUTOR: '1', LOG_LEVEL: 'warn' };
    const victim = await spawnController(SCRIPT, env);
    await waitFor(() => allActive(w), 'three faults in place', 90_000);
    await waitFor(async () => (await runs(w)).filter((r) => r.state === 'Running').length === 3, 'three runs Running', 30_000);
    victim.child.kill('SIGKILL');
    await exited(victim.child);
    expect(allActive(w)).toBe(true); // the dead controller reverted nothing

    const restartAt = Date.now();
    const [at, next] = await Promise.all([revertTimes(w, restartAt, 60_000), spawnController(SCRIPT, env)]);
    const times = sinceStart(at, restartAt, next.startingAt());
    console.log(`[figure] kill -9 then restart: reverted (ms after the new controller started) ${JSON.stringify(times)}; (ms after spawn, incl. tsx loading the modules) ${JSON.stringify(at)}; listening after ${next.readyAt - restartAt} ms`);
    for (const [fault, ms] of Object.entries(times)) expect(ms, `${fault} reverted ${ms} ms after the controller started (bound 10 s)`).toBeLessThanOrEqual(10_000);
    // The dead runs end Failed through the runs lifecycle, once.
    const ended = await waitFor(async () => {
      const list = await runs(w);
      return list.length === 3 && list.every((r) => r.outcome) ? list : undefined;
    }, 'dead runs ended', 60_000);
    for (const r of ended) expect([r.experiment, r.state, r.reasonCode]).toEqual([r.experiment, 'Failed', 'ControllerDied']);
  }, 240_000);
});

describe('kill -9, Redis down, `faultline abort --all`, Redis back empty', () => {
  it('every fault is reverted within 10 s of the restart and the kill switch is still on', async () => {
    privateRedis = await startPrivateRedis();
    const pr = privateRedis;
    world = await startWorld({ seed: API_FAULTS, env: { ...ENV, REDIS_URL: pr.url } });
    const w = world;
    const env = { ...w.env, FL_KUBECONFIG: await w.kubeconfigFile(), KUBECONFIG: await w.kubeconfigFile(), FL_IDENTITY: 'replica-0', FL_REAL_EXECUTOR: '1', LOG_LEVEL: 'warn' };
    const victim = await spawnController(SCRIPT, env);
    await waitFor(() => allActive(w), 'three faults in place', 90_000);
    await waitFor(async () => (await runs(w, pr.client)).filter((r) => r.state === 'Running').length === 3, 'three runs Running', 30_000);
    victim.child.kill('SIGKILL');
    await exited(victim.child);

    // Redis is down: the kill switch still goes into the cluster, and the command returns.
    await pr.kill();
    const cli = async (args: string[]) => {
      const startAt = Date.now();
      const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const c = spawn('node_modules/.bin/node', ['src/cli/bin.js', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        c.stdout.on('data', (b: Buffer) => (out += b.toString()));
        c.stderr.on('data', (b: Buffer) => (out += b.toString()));
        c.on('exit', (code) => resolve({ code, out }));
      });
      return { ...r, ms: Date.now() - startAt };
    };
    // The same command with a usage error loads the same modules and exits at once: what the
    // machine takes to start the CLI, measured beside it.
    const baseline = await cli(['abort']);
    expect(baseline.code).toBe(2);
    const abort = await cli(['abort', '--all', '--reason', 'game day over']);
    const abortMs = abort.ms - baseline.ms;
    console.log(`[figure] faultline abort --all with Redis down: returned ${abort.ms} ms after spawn, ${abortMs} ms more than the CLI takes to start and exit on a usage error (${baseline.ms} ms); exit ${abort.code}: ${abort.out.trim()}`);
    expect(abortMs, `abort --all took ${abortMs} ms beyond CLI start-up (bound 10 s)`).toBeLessThanOrEqual(10_000);
    expect(abort.code).toBe(0);
    expect(abort.out).toMatch(/kill switch on in ConfigMap faultline\/faultline-kill-switch; Redis unreachable/);
    expect(abort.out.trim().split('\n')).toHaveLength(1);
    const cm = w.sim.store.get<KObject & { data?: Record<string, string> }>('configmaps', 'faultline', 'faultline-kill-switch');
    expect(cm?.data).toMatchObject({ active: 'true', reason: 'game day over' });

    // Redis comes back empty (no persistence), as deploy/redis does: ledger, heartbeats, queues all gone.
    await pr.start();
    expect(await pr.client.dbsize()).toBe(0);
    expect(allActive(w)).toBe(true);

    const restartAt = Date.now();
    const [at, next] = await Promise.all([revertTimes(w, restartAt, 60_000), spawnController(SCRIPT, env)]);
    const times = sinceStart(at, restartAt, next.startingAt());
    console.log(`[figure] kill -9 + Redis back empty, restart: reverted (ms after the new controller started) ${JSON.stringify(times)}; (ms after spawn, incl. tsx loading the modules) ${JSON.stringify(at)}; listening after ${next.readyAt - restartAt} ms`);
    for (const [fault, ms] of Object.entries(times)) expect(ms, `${fault} reverted ${ms} ms after the controller started (bound 10 s)`).toBeLessThanOrEqual(10_000);
    const ks = await fetch(`${next.url}/api/kill-switch`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.json() as Promise<{ active: boolean }>);
    expect(ks.active).toBe(true);
  }, 240_000);
});

describe('the API server down for 30 s while a run reverts', () => {
  it('the executor keeps retrying and the fault is gone within 10 s of the API server\'s return', async () => {
    world = await startWorld({ seed: { 'experiments/catalog-scale-down.yaml': API_FAULTS['experiments/catalog-scale-down.yaml'] }, env: ENV });
    const w = world;
    const env = { ...w.env, FL_KUBECONFIG: await w.kubeconfigFile(), FL_IDENTITY: 'replica-0', FL_REAL_EXECUTOR: '1', LOG_LEVEL: 'warn' };
    const ctl = await spawnController(SCRIPT, env);
    const run = await waitFor(async () => (await runs(w)).find((r) => r.state === 'Running'), 'scale-down Running', 90_000);
    expect(faults(w)['scale-down']).toBe(true);

    await w.sim.pause();
    const res = await fetch(`${ctl.url}/api/runs/${encodeURIComponent(run.id)}/abort`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBeLessThan(300);
    await waitFor(async () => (await runs(w)).find((r) => r.id === run.id)?.state === 'Reverting', 'run Reverting', 30_000);
    await new Promise((r) => setTimeout(r, 30_000));
    expect(faults(w)['scale-down']).toBe(true); // nothing could change while the API server was away
    await w.sim.resume();
    const backAt = Date.now();
    await waitFor(() => !faults(w)['scale-down'], 'replicas restored', 60_000);
    const ms = Date.now() - backAt;
    console.log(`[figure] API server down 30 s during a revert: reverted ${ms} ms after it returned`);
    expect(ms, `reverted ${ms} ms after the API server returned (bound 10 s)`).toBeLessThanOrEqual(10_000);
    const ended = await waitFor(async () => (await runs(w)).find((r) => r.id === run.id && r.outcome), 'run ended', 30_000);
    expect(ended.state).toBe('Aborted');
  }, 240_000);
});

describe('SIGTERM with a 10-minute fault active', () => {
  it('the process exits within the configured shutdown bound with the fault reverted; the manifests agree', async () => {
    const deployment = parse(readFileSync('deploy/base/deployment.yaml', 'utf8')) as { spec: { template: { spec: { terminationGracePeriodSeconds: number; containers: { env?: { name: string; value?: string }[] }[] } } } };
    const pod = deployment.spec.template.spec;
    const configured = pod.containers[0]!.env?.find((e) => e.name === 'FAULTLINE_SHUTDOWN_TIMEOUT')?.value;
    expect(configured, 'deploy/base/deployment.yaml sets FAULTLINE_SHUTDOWN_TIMEOUT').toBeDefined();
    const boundMs = Number(/^(\d+)s$/.exec(configured!)?.[1]) * 1000;
    expect(boundMs).toBeLessThan(pod.terminationGracePeriodSeconds * 1000);

    world = await startWorld({ seed: { 'experiments/catalog-scale-down.yaml': API_FAULTS['experiments/catalog-scale-down.yaml'] }, env: ENV });
    const w = world;
    const env = { ...w.env, FL_KUBECONFIG: await w.kubeconfigFile(), FL_IDENTITY: 'replica-0', FL_REAL_EXECUTOR: '1', LOG_LEVEL: 'warn', FAULTLINE_SHUTDOWN_TIMEOUT: configured! };
    const ctl = await spawnController(SCRIPT, env);
    await waitFor(async () => (await runs(w)).find((r) => r.state === 'Running'), 'scale-down Running', 90_000);
    expect(faults(w)['scale-down']).toBe(true);
    const termAt = Date.now();
    ctl.child.kill('SIGTERM');
    const code = await exited(ctl.child);
    const ms = Date.now() - termAt;
    console.log(`[figure] SIGTERM with a 10-minute fault: exited in ${ms} ms (bound ${boundMs} ms, grace period ${pod.terminationGracePeriodSeconds} s), code ${code}`);
    expect(ms, `exited ${ms} ms after SIGTERM (bound ${boundMs} ms)`).toBeLessThanOrEqual(boundMs);
    expect(faults(w)['scale-down']).toBe(false);
    const [r] = await runs(w);
    expect([r?.state, r?.reasonCode, r?.reason]).toEqual(['Aborted', 'ShuttingDown', 'aborted: controller shutting down (SIGTERM)']);
  }, 240_000);
});

describe('a one-off queued behind a busy slot when the controller dies and Redis comes back empty', () => {
  it('is queued again from the status branch and runs exactly once', async () => {
    privateRedis = await startPrivateRedis();
    const pr = privateRedis;
    world = await startWorld({
      seed: {
        // Holds the only run slot of the first controller for 10 minutes.
        'experiments/cart-hold.yaml': podKill('cart-hold', { app: 'cart', duration: '10m' }),
        'experiments/payments-kill.yaml': podKill('payments-kill', { app: 'payments' }),
      },
      env: { REDIS_URL: pr.url, FAULTLINE_API_TOKEN: TOKEN },
    });
    const w = world;
    const env = { ...w.env, FL_KUBECONFIG: await w.kubeconfigFile(), FL_IDENTITY: 'replica-0', FL_REAL_EXECUTOR: '1', LOG_LEVEL: 'warn' };
    const status = new GitStatusStore({ url: w.repoUrl, dir: join(w.workdir, 'reader') });
    const victim = await spawnController(SCRIPT, { ...env, FAULTLINE_RUNS_CONCURRENCY: '1' });
    // The status branch says both are applied with their runs queued; one runs, the other waits.
    await waitFor(async () => {
      const applied = await status.list();
      return applied.get('cart-hold')?.run === 'queued' && applied.get('payments-kill')?.run === 'queued';
    }, 'both applied, runs queued, on the status branch', 90_000);
    const running = await waitFor(async () => (await runs(w, pr.client)).find((r) => r.state === 'Running'), 'one run Running', 60_000);
    const queued = running.experiment === 'cart-hold' ? 'payments-kill' : 'cart-hold';
    const queuedApp = queued === 'cart-hold' ? 'cart' : 'payments';
    expect((await runs(w, pr.client)).some((r) => r.experiment === queued)).toBe(false);
    const deletionsBefore = w.podDeletions.get(queuedApp) ?? 0;
    victim.child.kill('SIGKILL');
    await exited(victim.child);
    await pr.client.flushall();

    await spawnController(SCRIPT, { ...env, FAULTLINE_RUNS_CONCURRENCY: '3' });
    const done = await waitFor(async () => (await runs(w, pr.client)).find((r) => r.experiment === queued && r.outcome), `${queued} ran`, 120_000);
    expect([done.state, done.reason]).toEqual(['Succeeded', undefined]);
    await waitFor(async () => (await status.list()).get(queued)?.run === 'ran', 'status branch says ran', 60_000);
    const all = (await runs(w, pr.client)).filter((r) => r.experiment === queued);
    console.log(`[figure] queued one-off after kill -9 + FLUSHALL: ${all.length} run(s) of ${queued}, ${(w.podDeletions.get(queuedApp) ?? 0) - deletionsBefore} pod(s) of ${queuedApp} killed`);
    expect(all).toHaveLength(1);
    expect((w.podDeletions.get(queuedApp) ?? 0) - deletionsBefore).toBe(1);
  }, 300_000);
});

// In-pod faults and pod-failure leave their undo on the pod itself (the run label and the revert
// data), so they too are found and undone by a controller whose Redis came back empty; before,
// only the Redis ledger knew them and an injector stayed until its own expiry (here 10 minutes),
// a pod-failure pod ran the pause image for good.
const POD_FAULTS = {
  'experiments/cart-delay.yaml': experiment('cart-delay', [
    'fault: { type: network-delay, params: { latency: 200ms } }',
    'target: { namespace: shop, selector: { matchLabels: { app: cart } }, mode: { type: one } }',
    'duration: 10m', 'safety: { maxBlastRadiusPercent: 100 }',
  ]),
  'experiments/payments-failure.yaml': experiment('payments-failure', [
    'fault: { type: pod-failure }',
    'target: { namespace: shop, selector: { matchLabels: { app: payments } }, mode: { type: one } }',
    'duration: 10m', 'safety: { maxBlastRadiusPercent: 100 }',
  ]),
};

/** In-pod injectors still live, pods running the pause image, pods still marked by a run. */
function podFaults(w: World) {
  let injectors = 0;
  let paused = 0;
  let marked = 0;
  for (const pod of w.sim.store.list<KObject>('pods', { namespace: 'shop' })) {
    const spec = pod.spec as { ephemeralContainers?: unknown[]; containers?: { image?: string }[] } | undefined;
    const status = pod.status as { ephemeralContainerStatuses?: { state?: { terminated?: unknown } }[] } | undefined;
    injectors += Math.max((spec?.ephemeralContainers ?? []).length - (status?.ephemeralContainerStatuses ?? []).filter((x) => x.state?.terminated).length, 0);
    if ((spec?.containers ?? []).some((c) => c.image?.includes('pause'))) paused++;
    if (pod.metadata.labels?.['faultline.dev/run-id'] !== undefined || pod.metadata.annotations?.['faultline.dev/revert'] !== undefined) marked++;
  }
  return { injectors, paused, marked };
}

describe('kill -9 with network-delay (in-pod) and pod-failure active, Redis back empty', () => {
  it('a restarted controller finds both on the pods and reverts them', async () => {
    privateRedis = await startPrivateRedis();
    const pr = privateRedis;
    world = await startWorld({ seed: POD_FAULTS, env: { ...ENV, REDIS_URL: pr.url } });
    const w = world;
    const env = { ...w.env, FL_KUBECONFIG: await w.kubeconfigFile(), FL_IDENTITY: 'replica-0', FL_REAL_EXECUTOR: '1', LOG_LEVEL: 'warn' };
    const victim = await spawnController(SCRIPT, env);
    await waitFor(async () => (await runs(w, pr.client)).filter((r) => r.state === 'Running').length === 2, 'two runs Running (faults confirmed)', 90_000);
    expect(podFaults(w)).toEqual({ injectors: 1, paused: 1, marked: 2 });
    victim.child.kill('SIGKILL');
    await exited(victim.child);
    await pr.client.flushall();
    expect(podFaults(w)).toEqual({ injectors: 1, paused: 1, marked: 2 }); // the dead controller reverted nothing

    const restartAt = Date.now();
    const next = await spawnController(SCRIPT, env);
    await waitFor(() => {
      const f = podFaults(w);
      return f.injectors === 0 && f.paused === 0 && f.marked === 0;
    }, `both faults reverted (now ${JSON.stringify(podFaults(w))})`, 60_000);
    const startedAt = next.startingAt() ?? next.spawnedAt;
    console.log(`[figure] kill -9 + FLUSHALL with network-delay and pod-failure active: both reverted from the pods' marks ${Date.now() - startedAt} ms after the new controller started (${Date.now() - restartAt} ms after spawn)`);
    expect(Date.now() - startedAt).toBeLessThanOrEqual(30_000);
  }, 240_000);
});
