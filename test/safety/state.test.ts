// SafetyState against real Redis, under a unique key prefix.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetyState } from '../../src/safety/state.js';
import { ClusterKillSwitch } from '../../src/safety/cluster-kill-switch.js';
import { startSimulator } from '../../src/sim/index.js';

const prefix = `fltest-${randomUUID()}`;
let redis: Redis;

beforeAll(() => {
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('SafetyState', () => {
  it('global concurrency cap: slots are atomic under contention, idempotent per run, released explicitly', async () => {
    const s = new SafetyState(redis, { prefix: `${prefix}:slots`, maxConcurrentRuns: 2 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => s.acquireSlot(`run-${i}`, 60_000)));
    expect(results.filter(Boolean)).toHaveLength(2);
    const holders = await s.activeRuns();
    expect(holders).toHaveLength(2);
    expect(await s.acquireSlot(holders[0]!, 60_000)).toBe(true); // same run again: still its slot
    expect(await s.acquireSlot('late', 60_000)).toBe(false);
    await s.releaseSlot(holders[0]!);
    expect(await s.acquireSlot('late', 60_000)).toBe(true);
  });

  it('an expired slot (crashed holder) frees itself', async () => {
    const s = new SafetyState(redis, { prefix: `${prefix}:ttl`, maxConcurrentRuns: 1 });
    expect(await s.acquireSlot('crashed', 50)).toBe(true);
    const deadline = Date.now() + 5000;
    let got = false;
    while (!got && Date.now() < deadline) {
      got = await s.acquireSlot('next', 60_000);
      if (!got) await new Promise((r) => setTimeout(r, 20));
    }
    expect(got).toBe(true);
    expect(await s.activeRuns()).toEqual(['next']);
  });

  it('workload locks: contention, all-or-nothing, release only by the owner token', async () => {
    const s = new SafetyState(redis, { prefix: `${prefix}:locks`, maxConcurrentRuns: 2 });
    const checkout = 'shop/Deployment/checkout';
    const cart = 'shop/Deployment/cart';
    // two runs race for the same workload: exactly one wins
    const race = await Promise.all(['t1', 't2', 't3'].map((t) => s.lockWorkloads([checkout], t, 60_000)));
    const winners = race.map((r, i) => (r.ok ? `t${i + 1}` : undefined)).filter(Boolean);
    expect(winners).toHaveLength(1);
    const owner = winners[0]!;
    const loser = owner === 't1' ? 't2' : 't1';
    const refused = await s.lockWorkloads([cart, checkout], loser, 60_000);
    expect(refused).toEqual({ ok: false, heldBy: `${checkout} held by ${owner}` });
    // all-or-nothing: cart was not taken by the refused request
    expect(await s.lockedWorkloads()).toEqual([checkout]);
    expect(await s.releaseWorkloads([checkout], loser)).toBe(0); // not the owner
    expect(await s.lockedWorkloads()).toEqual([checkout]);
    expect(await s.extendWorkloads([checkout], owner, 120_000)).toBe(1);
    expect(await s.releaseWorkloads([checkout], owner)).toBe(1);
    expect(await s.lockWorkloads([cart, checkout], loser, 60_000)).toEqual({ ok: true });
    expect(await s.lockedWorkloads()).toEqual([cart, checkout]);
  });

  it('a run about to start asks only about its own workloads and the slot count (lockedAmong, activeRunCount)', async () => {
    const s = new SafetyState(redis, { prefix: `${prefix}:among`, maxConcurrentRuns: 5 });
    const [checkout, cart, db] = ['shop/Deployment/checkout', 'shop/Deployment/cart', 'shop/StatefulSet/db'];
    expect(await s.lockedAmong([checkout, cart])).toEqual([]);
    expect(await s.lockedAmong([])).toEqual([]);
    expect(await s.lockWorkloads([checkout, db], 'wf-1', 60_000)).toEqual({ ok: true });
    // The same answer the full list gives, restricted to the asked workloads (duplicates collapse).
    expect(await s.lockedAmong([cart, checkout, checkout])).toEqual([checkout]);
    expect(await s.lockedAmong([cart, checkout, db])).toEqual((await s.lockedWorkloads()).filter((w) => [cart, checkout, db].includes(w)));
    // A workflow's steps share its token: its own locks do not count against it.
    expect(await s.lockedAmong([checkout, db], 'wf-1')).toEqual([]);
    expect(await s.lockedAmong([checkout, db], 'wf-2')).toEqual([checkout, db].sort());

    expect(await s.activeRunCount()).toBe(0);
    expect(await s.activeRunCount('me')).toBe(0);
    for (const r of ['a', 'b', 'me']) expect(await s.acquireSlot(r, 60_000)).toBe(true);
    expect(await s.activeRunCount()).toBe(3);
    expect(await s.activeRunCount('me')).toBe(2); // its own slot is not another run
    expect(await s.activeRunCount('stranger')).toBe(3);
    // An expired holder is not counted.
    expect(await s.acquireSlot('crashed', 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(await s.activeRunCount('me')).toBe(2);
    expect((await s.activeRuns()).length).toBe(3);
  });

  it('many runs asking at once read the cluster copy of the kill switch once (against the simulator)', async () => {
    const sim = await startSimulator({});
    try {
      const real = new ClusterKillSwitch(sim.kubeConfig(), 'faultline');
      let reads = 0;
      const counted = Object.assign(Object.create(real) as ClusterKillSwitch, { read: () => (reads++, real.read()) });
      const s = new SafetyState(redis, { prefix: `${prefix}:cluster`, maxConcurrentRuns: 2, cluster: counted, clusterCacheMs: 60_000 });
      expect(await Promise.all(Array.from({ length: 50 }, () => s.isKillSwitchSet()))).toEqual(Array(50).fill(false));
      expect(reads).toBe(1);
      // Set in the cluster only (Redis flushed): every caller sees it, still from one read per wave.
      await real.set('set while Redis was away');
      const fresh = new SafetyState(redis, { prefix: `${prefix}:cluster2`, maxConcurrentRuns: 2, cluster: counted, clusterCacheMs: 60_000 });
      reads = 0;
      expect(await Promise.all(Array.from({ length: 50 }, () => fresh.isKillSwitchSet()))).toEqual(Array(50).fill(true));
      expect(reads).toBeLessThanOrEqual(2);
    } finally {
      await sim.close();
    }
  });

  it('kill switch: set, read, clear', async () => {
    const s = new SafetyState(redis, { prefix: `${prefix}:kill`, maxConcurrentRuns: 2 });
    expect(await s.isKillSwitchSet()).toBe(false);
    await s.setKillSwitch('faultline abort --all');
    expect(await s.isKillSwitchSet()).toBe(true);
    expect(await s.killSwitch()).toMatchObject({ reason: 'faultline abort --all' });
    await s.clearKillSwitch();
    expect(await s.isKillSwitchSet()).toBe(false);
  });
});
