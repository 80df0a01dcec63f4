import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createQueues, enqueueReconcile, type Queues, type ReconcileJobData } from '../../src/queue/queues.js';
import { startReconcileWorker } from '../../src/queue/reconcile-worker.js';
import { deletePrefix, newRedis, testPrefix, waitFor } from './redis-helpers.js';

let redis: Redis;
let queues: Queues;
const prefix = testPrefix('reconcileq');
beforeAll(() => {
  redis = newRedis();
  queues = createQueues(redis, prefix);
});
afterAll(async () => {
  await queues.close();
  await deletePrefix(redis, prefix);
  await redis.quit();
});

describe('reconcile queue', () => {
  it('folds a burst of 50 webhooks into at most two passes, the last with the newest revision', async () => {
    const first = await enqueueReconcile(queues, { trigger: 'startup' });
    expect(first.added).toBe(true);
    const burst1 = await Promise.all(Array.from({ length: 49 }, (_, i) => enqueueReconcile(queues, { trigger: 'push', revision: `rev${i}` })));
    expect(burst1.filter((r) => r.added)).toHaveLength(0);
    expect(await queues.reconcile.getJobCounts('waiting', 'delayed')).toEqual({ waiting: 1, delayed: 0 });

    const seen: ReconcileJobData[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const worker = await startReconcileWorker({
      connection: redis,
      prefix,
      handler: async (data) => {
        seen.push(data);
        if (seen.length === 1) await gate; // hold the first pass while the next burst arrives
      },
    });
    try {
      await waitFor(() => seen.length === 1, 'first pass');
      // A second burst while the first pass is running: one more pass is kept, with the latest data.
      for (let i = 0; i < 50; i++) await enqueueReconcile(queues, { trigger: 'push', revision: `later${i}` });
      release();
      await waitFor(() => seen.length >= 2, 'second pass');
      await waitFor(async () => (await queues.reconcile.getJobCounts('waiting', 'active', 'delayed')).active === 0, 'idle');
      expect(seen).toHaveLength(2);
      expect(seen[0]!.trigger).toBe('startup');
      expect(seen[1]!.revision).toBe('later49');
    } finally {
      await worker.close();
    }
  });
});
