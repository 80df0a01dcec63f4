// SIGKILL of the controller while a scale-down is active: the fault stays in the cluster, the
// ledger remembers it, and the next controller's start-up sweep restores the replicas.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api } from '@kubernetes/client-node';
import { silentLogger } from '../../src/log.js';
import { FaultLedger, hasHeartbeat, sweepOrphans } from '../../src/runs/index.js';
import { REDIS_URL } from '../queue/redis-helpers.js';
import { job, startWorld, type World } from './helpers.js';
import { waitFor } from '../helpers/wait.js';

const CHILD = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url));

describe('controller crash during a scale-down', () => {
  let w: World;
  beforeAll(async () => { w = await startWorld(); });
  afterAll(async () => { await w?.close(); });

  it('the next controller restores the replicas from the ledger', async () => {
    const apps = w.sim.kubeConfig().makeApiClient(AppsV1Api);
    const j = job('cart-scale', { type: 'scale-down', params: { replicas: 2 } }, { namespace: 'shop', selector: { matchLabels: { app: 'cart' } }, mode: { type: 'one' } }, { duration: '10m' });
    // node itself with the tsx loader (not the tsx CLI, which would run the controller in a grandchild)
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, FL_KUBECONFIG: w.sim.kubeconfigYaml(), FL_REDIS_URL: REDIS_URL, FL_PREFIX: w.prefix, FL_JOB: JSON.stringify(j) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
    await waitFor('child Running', () => out.includes('RUNNING'), 60_000);
    expect((await apps.readNamespacedDeployment({ namespace: 'shop', name: 'cart' })).spec?.replicas).toBe(2);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(out).not.toContain('FINISHED');
    child.stdout.destroy();

    // the dead controller never reverted: still scaled down, still in the ledger
    expect((await apps.readNamespacedDeployment({ namespace: 'shop', name: 'cart' })).spec?.replicas).toBe(2);
    expect((await new FaultLedger(w.redis, w.prefix).list()).entries.map((e) => e.runId)).toEqual([j.runId]);

    expect(await w.safetyState.lockedWorkloads()).toEqual(['shop/Deployment/cart']);
    // The dead run's heartbeat (5 s TTL) still looks live right after the kill: left alone until it lapses.
    const early = await sweepOrphans({ kc: w.sim.kubeConfig(), redis: w.redis, prefix: w.prefix, log: silentLogger, isLive: () => false });
    if (await hasHeartbeat(w.redis, w.prefix, j.runId)) expect(early.live).toEqual([j.runId]);
    await waitFor('heartbeat lapsed', async () => !(await hasHeartbeat(w.redis, w.prefix, j.runId)), 10_000);
    const result = await sweepOrphans({ kc: w.sim.kubeConfig(), redis: w.redis, prefix: w.prefix, log: silentLogger, isLive: () => false });
    expect(result.reverted).toEqual([j.runId]);
    expect((await apps.readNamespacedDeployment({ namespace: 'shop', name: 'cart' })).spec?.replicas).toBe(3);
    expect((await new FaultLedger(w.redis, w.prefix).list()).entries).toEqual([]);
    expect(await w.safetyState.lockedWorkloads()).toEqual([]);
    expect(await w.safetyState.activeRuns()).toEqual([]);
  });
});
