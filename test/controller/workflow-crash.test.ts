// kill -9 of `faultline run` in the middle of a workflow (scale-down, node-cordon and a
// network-delay injector in place at once): a restarted controller leaves nothing faulted (the
// simulator's replicas, cordons and ephemeral containers are checked), ends the workflow run
// Failed with ControllerDied, does not run the later steps, and releases the workflow's locks.
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { GitStatusStore } from '../../src/report/git-status.js';
import { keys } from '../../src/queue/index.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import type { KObject } from '../../src/sim/index.js';
import { RedisRunStore } from '../../src/queue/index.js';
import { SafetyState } from '../../src/safety/state.js';
import { RedisWorkflowRunStore } from '../../src/workflows/run-store.js';
import { startWorld, waitFor, type World } from './harness.js';
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

const SCRIPT = ['--import', 'tsx', 'test/controller/controller-process.ts'];
const ENV = { FAULTLINE_MAX_BLAST_RADIUS_PERCENT: '100', FAULTLINE_MAX_CONCURRENT_RUNS: '10', FAULTLINE_RUNS_CONCURRENCY: '4' };

const GAMEDAY = `apiVersion: faultline.dev/v1alpha1
kind: ChaosWorkflow
metadata: { name: crash-gameday }
spec:
  steps:
    - { name: baseline, pause: 1s }
    - name: break
      parallel:
        - { name: catalog-down, fault: { type: scale-down, params: { replicas: 0 } }, target: { namespace: shop, selector: { matchLabels: { app: catalog } }, mode: { type: all } }, duration: 10m }
        - { name: cordon-frontend, fault: { type: node-cordon }, target: { namespace: shop, selector: { matchLabels: { app: frontend } }, mode: { type: one } }, duration: 10m }
        - { name: slow-cart, fault: { type: network-delay, params: { latency: 100ms } }, target: { namespace: shop, selector: { matchLabels: { app: cart } }, mode: { type: one } }, duration: 10m }
    - { name: later, fault: { type: pod-kill }, target: { namespace: shop, selector: { matchLabels: { app: payments } }, mode: { type: one } }, duration: 1s }
`;

/** What is faulted in the simulator now. */
function faulted(w: World) {
  const catalog = w.sim.store.get<KObject>('apps/deployments', 'shop', 'catalog')!;
  const cordoned = w.sim.store.list<KObject>('nodes').filter((n) => (n.spec as { unschedulable?: boolean } | undefined)?.unschedulable).length;
  // An injector is live until its ephemeral container has terminated.
  let injectors = 0;
  for (const pod of w.sim.store.list<KObject>('pods', { namespace: 'shop' })) {
    const statuses = ((pod.status as { ephemeralContainerStatuses?: { state?: { terminated?: unknown } }[] } | undefined)?.ephemeralContainerStatuses ?? []);
    const declared = ((pod.spec as { ephemeralContainers?: unknown[] } | undefined)?.ephemeralContainers ?? []).length;
    injectors += Math.max(declared - statuses.filter((s) => s.state?.terminated).length, 0);
  }
  return { catalogReplicas: (catalog.spec as { replicas: number }).replicas, cordoned, injectors };
}

describe('kill -9 of the controller mid-workflow', () => {
  it('leaves nothing faulted after a restart, ends the run ControllerDied and does not continue it', async () => {
    world = await startWorld({ seed: { 'experiments/crash-gameday.yaml': GAMEDAY }, env: ENV });
    const w = world;
    const env = { ...w.env, FL_KUBECONFIG: await w.kubeconfigFile(), FL_IDENTITY: 'replica-0', FL_REAL_EXECUTOR: '1', LOG_LEVEL: 'warn' };
    const store = new RedisWorkflowRunStore(w.redis, w.prefix);
    const victim = await spawnController(SCRIPT, env);
    await waitFor(() => {
      const f = faulted(w);
      return f.catalogReplicas === 0 && f.cordoned === 1 && f.injectors === 1;
    }, 'all three faults of the parallel group in place', 90_000);
    const live = await waitFor(async () => {
      const [r] = await store.list({ workflow: 'crash-gameday', limit: 1 });
      return r && r.steps.filter((s) => s.faultWindow && !s.faultWindow.to).length === 3 ? r : undefined;
    }, 'three steps Running with their fault in place', 30_000);
    victim.child.kill('SIGKILL');
    await exited(victim.child);
    expect(faulted(w)).toEqual({ catalogReplicas: 0, cordoned: 1, injectors: 1 }); // the dead controller reverted nothing

    const restartAt = Date.now();
    const next = await spawnController(SCRIPT, env);
    await waitFor(() => {
      const f = faulted(w);
      return f.catalogReplicas === 2 && f.cordoned === 0 && f.injectors === 0;
    }, `every fault reverted (now ${JSON.stringify(faulted(w))})`, 60_000);
    const startedAt = next.startingAt() ?? next.spawnedAt;
    console.log(`[figure] kill -9 mid-workflow: all 3 parallel faults reverted ${Date.now() - startedAt} ms after the new controller started (${Date.now() - restartAt} ms after spawn, incl. loading the modules)`);

    const ended = await waitFor(async () => {
      const r = await store.get(live.id);
      return r?.phase === 'Failed' ? r : undefined;
    }, 'the workflow run ended', 60_000);
    expect(ended.reasonCode).toBe('ControllerDied');
    expect(ended.steps.map((s) => [s.name, s.phase])).toEqual([
      ['baseline', 'Succeeded'], ['break', 'Failed'], ['catalog-down', 'Failed'], ['cordon-frontend', 'Failed'], ['slow-cart', 'Failed'], ['later', 'Skipped'],
    ]);
    // The step runs end through the runs lifecycle (the revert loop), the later step never ran.
    const runs = new RedisRunStore(w.redis, w.prefix);
    for (const s of ended.steps.filter((x) => x.kind === 'fault' && x.name !== 'later')) {
      const run = await waitFor(async () => {
        const r = await runs.get(s.runId!);
        return r?.outcome ? r : undefined;
      }, `step run ${s.runId} ended`, 60_000);
      expect([run.state, run.reasonCode]).toEqual(['Failed', 'ControllerDied']);
    }
    expect(ended.steps.find((s) => s.name === 'later')!.runId).toBeUndefined();
    expect((await runs.list({ limit: 100 })).runs.map((r) => r.experiment)).not.toContain('crash-gameday--later');
    expect(await new SafetyState(w.redis, { prefix: w.prefix, maxConcurrentRuns: 10 }).lockedWorkloads()).toEqual([]);
    // It stays ended: BullMQ re-delivers the dead worker's job (stalled check), which finds the
    // run's marker and ends it without running anything again.
    const queue = new Queue('workflows', { connection: w.redis, prefix: w.prefix });
    try {
      await waitFor(async () => ['completed', 'failed'].includes(await queue.getJobState(live.id)), 'the re-delivered workflow job to finish', 120_000);
    } finally {
      await queue.close();
    }
    expect((await runs.list({ limit: 100 })).runs.map((r) => r.experiment)).not.toContain('crash-gameday--later');
    expect((await store.get(live.id))?.phase).toBe('Failed');
    expect((await store.list({ workflow: 'crash-gameday', limit: 10 })).map((r) => r.id)).toEqual([live.id]);
    expect(next.output()).not.toMatch(/"level":(50|60)/);
  }, 300_000);
});

// The same crash, and Redis comes back empty: the run store, the run marker and the workflow's
// applied state are gone. The status branch noted the run's start before its first step, so the
// restarted controller records it ControllerDied and does not run the gameday a second time; a
// further restart with Redis empty again finds the finished run on the branch and leaves it.
describe('kill -9 mid-workflow and Redis back empty', () => {
  it('reverts every fault, records the run ControllerDied from the status branch and never runs it again', async () => {
    privateRedis = await startPrivateRedis();
    const pr = privateRedis;
    world = await startWorld({ seed: { 'experiments/crash-gameday.yaml': GAMEDAY }, env: { ...ENV, REDIS_URL: pr.url } });
    const w = world;
    const env = { ...w.env, FL_KUBECONFIG: await w.kubeconfigFile(), FL_IDENTITY: 'replica-0', FL_REAL_EXECUTOR: '1', LOG_LEVEL: 'warn' };
    const store = new RedisWorkflowRunStore(pr.client, w.prefix);
    const branch = new GitStatusStore({ url: w.repoUrl, dir: join(w.workdir, 'wf-reader') });
    const victim = await spawnController(SCRIPT, env);
    await waitFor(() => {
      const f = faulted(w);
      return f.catalogReplicas === 0 && f.cordoned === 1 && f.injectors === 1;
    }, 'all three faults of the parallel group in place', 90_000);
    const [live] = await store.list({ workflow: 'crash-gameday', limit: 1 });
    expect(live?.phase).toBe('Running');
    expect((await branch.getWorkflow('crash-gameday'))?.started?.runId).toBe(live!.id);
    victim.child.kill('SIGKILL');
    await exited(victim.child);
    await pr.client.flushall();
    const paymentsKilled = w.podDeletions.get('payments') ?? 0;

    const applied = async () => (await pr.client.hget(keys.workflowsApplied(w.prefix), 'crash-gameday')) !== null;
    const second = await spawnController(SCRIPT, env);
    await waitFor(() => {
      const f = faulted(w);
      return f.catalogReplicas === 2 && f.cordoned === 0 && f.injectors === 0;
    }, `every fault reverted (now ${JSON.stringify(faulted(w))})`, 60_000);
    const onBranch = await waitFor(async () => (await branch.getWorkflow('crash-gameday'))?.runs.find((r) => r.id === live!.id), 'the dead run on the status branch', 60_000);
    expect([onBranch.phase, onBranch.reasonCode]).toEqual(['Failed', 'ControllerDied']);
    await waitFor(applied, 'the workflow decided on (applied state written)', 60_000);
    expect((await store.list({ workflow: 'crash-gameday', limit: 10 })).map((r) => [r.id, r.phase])).toEqual([[live!.id, 'Failed']]);
    const queue = new Queue('workflows', { connection: pr.client, prefix: w.prefix });
    try {
      expect(await queue.getJobCounts('waiting', 'active', 'delayed')).toEqual({ waiting: 0, active: 0, delayed: 0 });
    } finally {
      await queue.close();
    }
    expect(faulted(w)).toEqual({ catalogReplicas: 2, cordoned: 0, injectors: 0 });
    expect(second.output()).toContain('recorded ControllerDied, not run again');

    // Once more, Redis empty again: the branch has the finished run; nothing is queued.
    second.child.kill('SIGKILL');
    await exited(second.child);
    await pr.client.flushall();
    const third = await spawnController(SCRIPT, { ...env, LOG_LEVEL: 'info' });
    await waitFor(applied, 'the workflow decided on again', 90_000);
    expect(third.output()).toContain('already ran (status branch): not queued again');
    expect(await store.list({ workflow: 'crash-gameday', limit: 10 })).toEqual([]);
    expect(faulted(w)).toEqual({ catalogReplicas: 2, cordoned: 0, injectors: 0 });
    expect((await branch.getWorkflow('crash-gameday'))?.runs.map((r) => r.id)).toEqual([live!.id]);
    expect((w.podDeletions.get('payments') ?? 0) - paymentsKilled).toBe(0);
  }, 300_000);
});
