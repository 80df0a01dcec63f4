import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { RedisRunStore } from '../../src/queue/run-store.js';
import type { RunRecord, RunState } from '../../src/runs/types.js';
import { deletePrefix, newRedis, testPrefix } from './redis-helpers.js';

let redis: Redis;
const prefix = testPrefix('runstore');
beforeAll(() => {
  redis = newRedis();
});
afterAll(async () => {
  await deletePrefix(redis, prefix);
  await redis.quit();
});

function run(id: string, experiment: string, createdMs: number, state: RunState): RunRecord {
  return {
    id,
    experiment,
    file: `experiments/${experiment}.yaml`,
    specHash: 'f'.repeat(64),
    revision: 'abc',
    faultType: 'pod-kill',
    trigger: 'reconcile',
    state,
    createdAt: new Date(createdMs).toISOString(),
    targets: [],
    blastRadius: [],
    guards: [],
    probes: [],
    timeline: [],
  };
}

describe('RedisRunStore', () => {
  it('pages newest first with a stable cursor, including runs created in the same millisecond', async () => {
    const store = new RedisRunStore(redis, prefix);
    const t0 = Date.parse('2026-11-22T10:00:00Z');
    const all: RunRecord[] = [];
    for (let i = 0; i < 25; i++) {
      // Groups of 5 share a timestamp, so ties must be broken consistently.
      const r = run(`run-${String(i).padStart(2, '0')}`, i % 2 ? 'odd' : 'even', t0 + Math.floor(i / 5) * 1000, i % 3 ? 'Succeeded' : 'Failed');
      all.push(r);
      await store.save(r);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list({ limit: 7, cursor });
      seen.push(...page.runs.map((r) => r.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(4);
    const expected = [...all].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.id < b.id ? 1 : -1)).map((r) => r.id);
    expect(seen).toEqual(expected);

    // A run added after the first page does not shift later pages.
    const first = await store.list({ limit: 10 });
    await store.save(run('run-new', 'even', t0 + 10_000, 'Running'));
    const second = await store.list({ limit: 10, cursor: first.nextCursor });
    expect(second.runs.map((r) => r.id)).toEqual(expected.slice(10, 20));
  });

  it('filters by experiment and state, and keeps the state index right when a run moves on', async () => {
    const p = `${prefix}-f`;
    const store = new RedisRunStore(redis, p);
    try {
      const t0 = Date.parse('2026-11-22T11:00:00Z');
      for (let i = 0; i < 12; i++) await store.save(run(`r${i}`, i < 6 ? 'a' : 'b', t0 + i, i % 2 ? 'Succeeded' : 'Failed'));
      const a = await store.list({ experiment: 'a', limit: 100 });
      expect(a.runs.map((r) => r.id)).toEqual(['r5', 'r4', 'r3', 'r2', 'r1', 'r0']);
      expect(a.nextCursor).toBeUndefined();
      const aFailed = await store.list({ experiment: 'a', state: 'Failed', limit: 2 });
      expect(aFailed.runs.map((r) => r.id)).toEqual(['r4', 'r2']);
      const rest = await store.list({ experiment: 'a', state: 'Failed', limit: 2, cursor: aFailed.nextCursor });
      expect(rest.runs.map((r) => r.id)).toEqual(['r0']);
      expect(rest.nextCursor).toBeUndefined();

      const running = run('live', 'b', t0 + 100, 'Running');
      await store.save(running);
      expect((await store.list({ state: 'Running' })).runs.map((r) => r.id)).toEqual(['live']);
      await store.save({ ...running, state: 'Succeeded' });
      expect((await store.list({ state: 'Running' })).runs).toEqual([]);
      expect((await store.list({ state: 'Succeeded', experiment: 'b' })).runs.map((r) => r.id)).toEqual(['live', 'r11', 'r9', 'r7']);
      expect(await store.get('live')).toMatchObject({ state: 'Succeeded' });
      expect(await store.get('nope')).toBeUndefined();
      await expect(store.list({ cursor: 'garbage' })).rejects.toThrow(/invalid cursor/);
    } finally {
      await deletePrefix(redis, p);
    }
  });
});
