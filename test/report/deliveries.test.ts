// The durable notification queue on real Redis: retries with backoff until the endpoint takes
// it, a refusal (4xx) ends it at once and is counted, and one id is delivered once.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { DurableDeliveries } from '../../src/report/queue.js';
import { HttpError } from '../../src/hosts/retry.js';
import { reportFailureCount } from '../../src/report/failures.js';
import { waitFor } from '../controller/harness.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const prefixes: string[] = [];
afterAll(async () => {
  for (const p of prefixes) {
    const keys = await redis.keys(`${p}:*`);
    if (keys.length) await redis.del(...keys);
  }
  redis.disconnect();
});

function deliveries(): DurableDeliveries {
  const prefix = `fltest-notify-${randomUUID().slice(0, 8)}`;
  prefixes.push(prefix);
  return new DurableDeliveries({ connection: redis, prefix, backoffMs: 50, attempts: 5 });
}

describe('DurableDeliveries', () => {
  it('retries a failing delivery with backoff until it goes through, and delivers one id once', async () => {
    const d = deliveries();
    const tries: string[] = [];
    d.register('webhook', 'webhook', async (data) => {
      tries.push((data as { run: string }).run);
      if (tries.length < 3) throw new Error('connect ECONNREFUSED');
    });
    d.start();
    d.send('webhook', 'run-1', { run: 'run-1' }, 'webhook for run-1');
    d.send('webhook', 'run-1', { run: 'run-1' }, 'webhook for run-1'); // the same run again: dropped
    await waitFor(() => tries.length >= 3, 'three tries', 20_000);
    await d.idle();
    d.send('webhook', 'run-1', { run: 'run-1' }, 'webhook for run-1'); // also after it was delivered
    await d.idle();
    await new Promise((r) => setTimeout(r, 300));
    await d.close();
    expect(tries).toEqual(['run-1', 'run-1', 'run-1']); // two failures, one success, nothing more
  });

  it('gives up at once on a refusal (4xx) and counts it as a report failure', async () => {
    const d = deliveries();
    let tries = 0;
    d.register('webhook', 'webhook', async () => {
      tries++;
      throw new HttpError(404, {}, 'webhook 404');
    });
    const before = reportFailureCount('webhook');
    d.start();
    d.send('webhook', 'run-2', {}, 'webhook for run-2');
    await waitFor(() => reportFailureCount('webhook') > before, 'the failure counted', 20_000);
    await d.close();
    expect(tries).toBe(1);
  });

  it('refuses a kind nobody handles', () => {
    const d = deliveries();
    expect(() => d.send('nope', 'x', {}, 'nothing')).toThrow(/no notifier handles deliveries of kind nope/);
    return d.close();
  });
});
