// The kill switch through the API, on the simulator: two long faults in force (catalog scaled
// down, a node cordoned), POST /api/abort ends both runs Aborted and the simulator shows the
// replicas restored and the node schedulable again; triggers are refused until DELETE clears it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/runs/types.js';
import { call, deploymentReplicas, startApiWorld, waitFor, type ApiWorld, type ErrorBody } from './helpers.js';

let w: ApiWorld;

function cordonedNodes(): string[] {
  return ['node-1', 'node-2', 'node-3'].filter((n) => (w.world.sim.store.get('nodes', undefined, n) as { spec?: { unschedulable?: boolean } }).spec?.unschedulable);
}

async function runOf(experiment: string): Promise<RunRecord | undefined> {
  return (await w.controller.runs.list({ experiment, limit: 1 })).runs[0];
}

beforeAll(async () => {
  w = await startApiWorld({ short: '3s', overrides: { 'catalog-scale-down': '60s', 'frontend-node-cordon': '60s' } });
}, 60_000);

afterAll(async () => {
  await w?.close();
});

describe('POST /api/abort (kill switch)', () => {
  it('aborts and reverts every active fault in the simulator, and refuses triggers until cleared', async () => {
    const url = w.url;
    expect(deploymentReplicas(w.world, 'catalog')).toBe(2);
    expect(cordonedNodes()).toEqual([]);

    // Both long faults in force in the cluster.
    await waitFor(async () => (await runOf('catalog-scale-down'))?.state === 'Running' && deploymentReplicas(w.world, 'catalog') === 1, 'catalog scaled down', 120_000);
    await waitFor(async () => (await runOf('frontend-node-cordon'))?.state === 'Running' && cordonedNodes().length === 1, 'a node cordoned', 120_000);
    const scale = (await runOf('catalog-scale-down'))!;
    const cordon = (await runOf('frontend-node-cordon'))!;

    const res = await call<{ aborted: string[] }>(`${url}/api/abort`, { method: 'POST', body: { reason: 'game day over' } });
    expect(res.status).toBe(202);
    expect(res.body.aborted).toEqual(expect.arrayContaining([scale.id, cordon.id]));
    expect((await call<{ active: boolean }>(`${url}/api/kill-switch`)).body).toEqual({ active: true });

    for (const id of [scale.id, cordon.id]) {
      const ended = await waitFor(async () => {
        const r = await w.controller.runs.get(id);
        return r?.outcome ? r : undefined;
      }, `run ${id} to end`, 60_000);
      expect(ended.state).toBe('Aborted');
      expect(ended.reason).toMatch(/kill switch: game day over/);
      expect(ended.timeline.map((t) => t.state)).toContain('Reverting');
    }
    await waitFor(() => deploymentReplicas(w.world, 'catalog') === 2, 'catalog replicas restored', 30_000);
    await waitFor(() => cordonedNodes().length === 0, 'node uncordoned', 30_000);
    const shown = await call<RunRecord>(`${url}/api/runs/${scale.id}`);
    expect(shown.body).toMatchObject({ state: 'Aborted', outcome: 'aborted' });

    // Nothing is active any more: the stream says so, with the switch on.
    const active = await waitFor(async () => {
      const runs = (await w.controller.runs.list({ limit: 200 })).runs.filter((r) => !r.outcome);
      return runs.length === 0 ? true : undefined;
    }, 'no active runs', 60_000);
    expect(active).toBe(true);

    // While the switch is on, a manual run is refused up front and nothing is queued.
    const before = (await w.controller.runs.list({ experiment: 'checkout-pod-kill', limit: 100 })).runs.length;
    const refused = await call<ErrorBody>(`${url}/api/experiments/checkout-pod-kill/trigger`, { method: 'POST' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'conflict', message: expect.stringMatching(/kill switch/) });
    const waiting = await w.controller.queues.runs.getJobs(['waiting', 'delayed', 'prioritized', 'active'], 0, -1);
    expect(waiting.filter((j) => j?.data.trigger === 'manual')).toEqual([]);
    expect((await w.controller.runs.list({ experiment: 'checkout-pod-kill', limit: 100 })).runs.length).toBe(before);

    // A second abort is harmless: nothing left to abort.
    const again = await call<{ aborted: string[] }>(`${url}/api/abort`, { method: 'POST', body: { reason: 'again' } });
    expect(again.status).toBe(202);
    expect(again.body.aborted).toEqual([]);

    // Cleared: triggers work again and the run executes.
    const cleared = await call<{ active: boolean }>(`${url}/api/kill-switch`, { method: 'DELETE' });
    expect(cleared.body).toEqual({ active: false });
    const ok = await call<{ runId: string }>(`${url}/api/experiments/checkout-pod-kill/trigger`, { method: 'POST' });
    expect(ok.status).toBe(202);
    const manual = await waitFor(async () => {
      const r = await w.controller.runs.get(ok.body.runId);
      return r?.outcome ? r : undefined;
    }, 'manual run after clearing', 60_000);
    expect(manual.state).toBe('Succeeded');
  }, 240_000);
});
