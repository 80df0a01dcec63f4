// The run heartbeat the revert loop reads to tell a live run elsewhere from a dead one: it is
// set at once, kept fresh, gone on stop, and a Redis hiccup is logged once, not every beat.
import { pino } from 'pino';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { hasHeartbeat, HEARTBEAT_TTL_MS, startHeartbeat } from '../../src/runs/index.js';
import { deletePrefix, newRedis, testPrefix } from '../queue/redis-helpers.js';
import { waitFor } from '../helpers/wait.js';

const redis = newRedis();
const prefix = testPrefix('heartbeat');
afterAll(async () => {
  await deletePrefix(redis, prefix);
  await redis.quit();
});

describe('run heartbeat', () => {
  it('is there at once under its key with the 5 s TTL, and gone after stop', async () => {
    const hb = await startHeartbeat(redis, prefix, 'run-a', silentLogger);
    expect(await hasHeartbeat(redis, prefix, 'run-a')).toBe(true);
    expect(await redis.get(`${prefix}:run-heartbeat:run-a`)).toBe(String(process.pid));
    const ttl = await redis.pttl(`${prefix}:run-heartbeat:run-a`);
    expect(ttl).toBeGreaterThan(HEARTBEAT_TTL_MS - 2_000);
    expect(ttl).toBeLessThanOrEqual(HEARTBEAT_TTL_MS);
    expect(await hasHeartbeat(redis, prefix, 'run-b')).toBe(false);
    await hb.stop();
    expect(await hasHeartbeat(redis, prefix, 'run-a')).toBe(false);
  });

  it('is refreshed while the run lives, and not after stop', async () => {
    const key = `${prefix}:run-heartbeat:run-c`;
    const hb = await startHeartbeat(redis, prefix, 'run-c', silentLogger, { ttlMs: 60_000, everyMs: 20 });
    const first = await redis.pttl(key);
    expect(first).toBeLessThanOrEqual(60_000);
    await redis.pexpire(key, 30_000); // as if time had passed
    await waitFor('a refresh', async () => (await redis.pttl(key)) > 30_000);
    await hb.stop();
    await redis.set(key, 'after-stop', 'PX', 30_000);
    await new Promise((r) => setTimeout(r, 200)); // ten intervals
    expect(await redis.get(key)).toBe('after-stop');
    await redis.del(key);
  });

  it('a Redis that refuses the refresh is logged once per outage, not on every beat', async () => {
    const down = { value: false };
    const flaky = new Proxy(redis, {
      get(target, key, receiver) {
        if (key === 'set' && down.value) return () => Promise.reject(new Error('READONLY You can\'t write against a read only replica.'));
        const v = Reflect.get(target, key, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as Redis;
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const key = `${prefix}:run-heartbeat:run-d`;
    down.value = true; // down from the first beat
    const hb = await startHeartbeat(flaky, prefix, 'run-d', log, { ttlMs: 60_000, everyMs: 10 });
    expect(lines).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 100)); // more failed beats
    down.value = false;
    await waitFor('the heartbeat back', async () => (await redis.exists(key)) === 1);
    down.value = true;
    await waitFor('a second warning', () => lines.length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    await hb.stop();
    expect(lines.map((l) => [l.msg, l.err])).toEqual([
      ['could not refresh the run heartbeat', 'READONLY You can\'t write against a read only replica.'],
      ['could not refresh the run heartbeat', 'READONLY You can\'t write against a read only replica.'],
    ]);
    expect(lines[0]!.level).toBe(40);
  });
});
