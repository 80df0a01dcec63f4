// Polling without webhooks: a push is reconciled by the poll alone, and polls that find the same
// head as the last complete pass queue nothing (no reconcile job, no fetch), while a Redis that
// lost the catalog, or a new push, gets a pass again.
import { afterEach, describe, expect, it } from 'vitest';
import type { Controller } from '../../src/controller/index.js';
import { exampleCheckoutPodKill, reconciled, startIn, startWorld, type World } from './harness.js';

let world: World | undefined;
let controller: Controller | undefined;

afterEach(async () => {
  await controller?.close();
  controller = undefined;
  await world?.close();
  world = undefined;
});

/** Reconcile jobs ever taken by the worker (completed or failed). */
async function passes(ctl: Controller): Promise<number> {
  const c = await ctl.queues.reconcile.getJobCounts('completed', 'failed', 'active', 'waiting');
  return (c.completed ?? 0) + (c.failed ?? 0) + (c.active ?? 0) + (c.waiting ?? 0);
}

describe('polling', () => {
  it('a push is reconciled by polling alone; idle polls queue no pass; a lost catalog or a new head does', async () => {
    world = await startWorld();
    const w = world;
    const seed = await w.work.git('rev-parse', 'HEAD');
    controller = await startIn(w, { env: { FAULTLINE_POLL_INTERVAL: '200ms' } });
    const ctl = controller;
    await reconciled(w, seed);

    // Ten poll intervals with nothing new: not one more reconcile job.
    await new Promise((r) => setTimeout(r, 500)); // the start-up pass's job settles
    const before = await passes(ctl);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await passes(ctl)).toBe(before);

    // A push, no webhook: the poll sees the new head and a pass reconciles it.
    await w.work.write('experiments/checkout-pod-kill.yaml', await exampleCheckoutPodKill('1s'));
    const pushed = await w.work.commitAndPush('add checkout-pod-kill');
    const catalog = await reconciled(w, pushed, 30_000);
    expect(catalog.entries.map((e) => e.name)).toContain('checkout-pod-kill');
    expect(await passes(ctl)).toBeGreaterThan(before);

    // Redis lost the catalog (a flush): the next poll sees it and publishes it again.
    await w.redis.del(`${w.prefix}:catalog`);
    const again = await reconciled(w, pushed, 30_000);
    expect(again.entries.map((e) => e.name)).toContain('checkout-pod-kill');
  }, 90_000);
});
