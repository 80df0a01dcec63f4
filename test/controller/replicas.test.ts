// A second replica starting up sweeps only what dead controllers left behind: a fault another
// live replica is running right now stays in place until that run reverts it.
import { AppsV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { Controller } from '../../src/controller/index.js';
import { requestAbort } from '../../src/queue/index.js';
import { FaultLedger } from '../../src/runs/index.js';
import { postWebhook, pushPayload, reconciled, runsOf, startIn, startWorld, waitFor, type World } from './harness.js';

let world: World | undefined;
const controllers: Controller[] = [];

afterEach(async () => {
  // A run still going (a failed assertion) is aborted so close() need not wait for it.
  if (world) await requestAbort(world.redis, world.prefix, { all: true, reason: 'test cleanup' });
  for (const c of controllers.splice(0)) await c.close();
  await world?.close();
  world = undefined;
});

const scaleDown = (duration: string) =>
  [
    'apiVersion: faultline.dev/v1alpha1',
    'kind: ChaosExperiment',
    'metadata: { name: catalog-scale-down }',
    'spec:',
    '  fault: { type: scale-down, params: { replicas: 0 } }',
    '  target: { namespace: shop, selector: { matchLabels: { app: catalog } }, mode: { type: all } }',
    `  duration: ${duration}`,
    '  safety: { maxBlastRadiusPercent: 100 }',
    '',
  ].join('\n');

describe('replica start-up and live faults', () => {
  it('a replica that starts while another runs a fault leaves that fault alone', async () => {
    world = await startWorld({ env: { FAULTLINE_MAX_BLAST_RADIUS_PERCENT: '100' } });
    const w = world;
    const seed = await w.work.git('rev-parse', 'HEAD');
    const apps = w.sim.kubeConfig().makeApiClient(AppsV1Api);
    const replicas = async () => (await apps.readNamespacedDeployment({ name: 'catalog', namespace: 'shop' })).spec?.replicas;
    expect(await replicas()).toBe(2);

    const a = await startIn(w, { identity: 'replica-a' });
    controllers.push(a);
    await reconciled(w, seed);
    await w.work.write('experiments/catalog-scale-down.yaml', scaleDown('5m'));
    const rev = await w.work.commitAndPush('scale catalog down');
    expect((await postWebhook(a.url!, pushPayload({ after: rev, before: seed }))).status).toBe(202);
    const running = await waitFor(async () => {
      const r = (await runsOf(a, 'catalog-scale-down'))[0];
      return r?.state === 'Running' ? r : undefined;
    }, 'scale-down running', 60_000);
    expect(await replicas()).toBe(0);
    const ledger = new FaultLedger(w.redis, w.prefix);
    expect(await ledger.get(running.id)).toBeDefined();

    // A second replica starts (its orphan sweep runs before it takes any work).
    const b = await startIn(w, { identity: 'replica-b' });
    controllers.push(b);
    expect(await ledger.get(running.id)).toBeDefined();
    expect(await replicas()).toBe(0);
    expect((await runsOf(a, 'catalog-scale-down'))[0]!.state).toBe('Running');

    // The run's own end reverts it: deleting the experiment aborts the run.
    await w.work.remove('experiments/catalog-scale-down.yaml');
    const gone = await w.work.commitAndPush('remove scale-down');
    expect((await postWebhook(b.url!, pushPayload({ after: gone, before: rev }))).status).toBe(202);
    const ended = await waitFor(async () => {
      const r = (await runsOf(a, 'catalog-scale-down'))[0];
      return r?.outcome ? r : undefined;
    }, 'run aborted', 60_000);
    expect(ended.state).toBe('Aborted');
    expect(await replicas()).toBe(2);
    expect(await ledger.get(running.id)).toBeUndefined();
  }, 150_000);
});
