import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { RedisLeaderLock } from '../../src/queue/leader.js';
import { deletePrefix, newRedis, testPrefix, waitFor } from './redis-helpers.js';

let redis: Redis;
const prefix = testPrefix('leader');
beforeAll(() => {
  redis = newRedis();
});
afterAll(async () => {
  await deletePrefix(redis, prefix);
  await redis.quit();
});

describe('RedisLeaderLock', () => {
  it('two contenders: exactly one wins; only the holder can renew or release', async () => {
    const a = new RedisLeaderLock(redis, { prefix, name: 'duel', ttlMs: 5000, token: 'replica-a' });
    const b = new RedisLeaderLock(redis, { prefix, name: 'duel', ttlMs: 5000, token: 'replica-b' });
    const [ra, rb] = await Promise.all([a.tryAcquire(), b.tryAcquire()]);
    expect([ra, rb].filter(Boolean)).toHaveLength(1);
    const [winner, loser] = ra ? [a, b] : [b, a];
    expect(winner.isLeader()).toBe(true);
    expect(loser.isLeader()).toBe(false);
    expect(await winner.tryAcquire()).toBe(true); // renew
    await loser.release(); // not the holder: no effect
    expect(await redis.get(winner.key)).toBe(winner.token);
    await winner.release();
    expect(await redis.get(winner.key)).toBeNull();
    expect(await loser.tryAcquire()).toBe(true);
    await loser.release();
  });

  it('a holder that stops renewing loses the lock on expiry and the other takes over', async () => {
    const changes: string[] = [];
    const crashed = new RedisLeaderLock(redis, { prefix, name: 'handover', ttlMs: 600 });
    expect(await crashed.tryAcquire()).toBe(true);
    // The second replica campaigns in the background.
    const standby = new RedisLeaderLock(redis, { prefix, name: 'handover', ttlMs: 600, renewEveryMs: 100 });
    standby.start((leader) => changes.push(leader ? 'leader' : 'follower'));
    expect(standby.isLeader()).toBe(false);
    // The crashed holder never renews; its own view lapses with the TTL too.
    await waitFor(() => standby.isLeader(), 'standby to take over', 10_000);
    expect(crashed.isLeader()).toBe(false);
    expect(await crashed.tryAcquire()).toBe(false);
    expect(changes).toEqual(['leader']);
    await standby.stop();
    expect(changes).toEqual(['leader', 'follower']);
    expect(await redis.get(standby.key)).toBeNull();
  });
});
