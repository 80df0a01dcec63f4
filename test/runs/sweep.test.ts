// The orphan sweep: a "dead" executor left a scale-down in the ledger (and in the cluster);
// the next controller's sweep restores the replicas and clears the ledger. Live runs are left alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api } from '@kubernetes/client-node';
import { FAULT_DRIVERS } from '../../src/faults/index.js';
import type { FaultContext } from '../../src/faults/types.js';
import { pino } from 'pino';
import { silentLogger } from '../../src/log.js';
import { FaultLedger, sweepOrphans } from '../../src/runs/index.js';
import { startWorld, type World } from './helpers.js';
import { waitFor } from '../helpers/wait.js';

describe('sweepOrphans', () => {
  let w: World;
  beforeAll(async () => { w = await startWorld(); });
  afterAll(async () => { await w?.close(); });

  it('restores replicas from a ledger entry left by a dead executor, and leaves live runs alone', async () => {
    const kc = w.sim.kubeConfig();
    const apps = kc.makeApiClient(AppsV1Api);
    const ledger = new FaultLedger(w.redis, w.prefix);
    const inject = async (runId: string, app: string, replicas: number) => {
      const ctx: FaultContext = {
        kc, runId, experiment: `${app}-scale`, params: { replicas }, durationMs: 60_000, injectorImage: 'x', log: silentLogger,
        targets: w.resolver.resolve({ namespace: 'shop', selector: { matchLabels: { app } }, mode: { type: 'one' } }, 1),
      };
      // exactly what the executor does: ledger first, then the cluster; then it "dies"
      const inj = await FAULT_DRIVERS['scale-down'].prepare(ctx);
      await ledger.write(inj);
      await FAULT_DRIVERS['scale-down'].inject(ctx, inj);
    };
    await inject('dead.0000000000000001.once', 'cart', 0);
    await inject('live.0000000000000002.once', 'catalog', 1);
    await ledger.write({ runId: 'broken', experiment: 'x', fault: 'scale-down', touched: [], revertData: {}, expiresAt: '' }).then(() => w.redis.hset(`${w.prefix}:ledger`, 'broken', '{not json'));
    expect((await apps.readNamespacedDeployment({ namespace: 'shop', name: 'cart' })).spec?.replicas).toBe(0);

    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const result = await sweepOrphans({ kc, redis: w.redis, prefix: w.prefix, log, isLive: (id) => id.startsWith('live.') });

    expect(result.reverted).toEqual(['dead.0000000000000001.once']);
    expect(result.live).toEqual(['live.0000000000000002.once']);
    expect(result.failed.map((f) => f.runId)).toEqual(['broken']);
    expect((await apps.readNamespacedDeployment({ namespace: 'shop', name: 'cart' })).spec?.replicas).toBe(3);
    expect((await apps.readNamespacedDeployment({ namespace: 'shop', name: 'catalog' })).spec?.replicas).toBe(1);
    await waitFor('cart ready again', async () => (await apps.readNamespacedDeployment({ namespace: 'shop', name: 'cart' })).status?.readyReplicas === 3);
    expect((await ledger.list()).entries.map((e) => e.runId)).toEqual(['live.0000000000000002.once']);
    // each orphan is logged, with its run id
    expect(lines.filter((l) => l.runId === 'dead.0000000000000001.once').map((l) => l.msg)).toEqual(
      expect.arrayContaining(['revert loop: reverting a fault whose run is not live', 'revert loop: reverted']));
    expect(lines.some((l) => l.runId === 'broken' && /unreadable/.test(String(l.msg)))).toBe(true);

    // once the live run is gone too, a later sweep restores it as well
    const again = await sweepOrphans({ kc, redis: w.redis, prefix: w.prefix, log: silentLogger, isLive: () => false });
    expect(again.reverted).toEqual(['live.0000000000000002.once']);
    expect((await apps.readNamespacedDeployment({ namespace: 'shop', name: 'catalog' })).spec?.replicas).toBe(2);
  });
});
