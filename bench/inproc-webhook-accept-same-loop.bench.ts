// Webhook acceptance latency: signed GitHub push deliveries (distinct delivery ids) at a fixed
// 200 requests/s for ~10 s against the real server on a loopback socket, real Redis for the
// de-duplication and a real BullMQ enqueue in the push handler, logs written (to /dev/null).
// The client runs on the server's own event loop (one process): a floor for the handler, not
// what a separate sender sees; push-to-inject.bench.ts times the webhook against `faultline run`.
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { loadConfig } from '../src/config/index.js';
import { buildServer, signGithub } from '../src/server/index.js';
import type { BenchResult } from './types.js';

const RATE = 200; // requests per second
const SECONDS = 10;

export default async function (): Promise<BenchResult[]> {
  return [...(await measure(true)), ...(await measure(false))];
}

/** One ~10 s run; `enqueue` = the push handler adds a real BullMQ job (as the controller's does). */
async function measure(enqueue: boolean): Promise<BenchResult[]> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `flbench-${randomUUID()}`;
  const secret = 'bench-secret';
  const config = loadConfig({
    env: { FAULTLINE_REPO_URL: 'https://git.example.com/chaos.git', FAULTLINE_BRANCH: 'master', REDIS_URL: redisUrl, FAULTLINE_REDIS_PREFIX: prefix, FAULTLINE_WEBHOOK_SECRET: `old-secret,${secret}` },
  });
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const queue = new Queue('reconcile', { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }), prefix });
  let enqueued = 0;
  const app = buildServer({
    config,
    redis,
    log: pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false })),
    onPush: async (e) => {
      if (enqueue) await queue.add('reconcile', { revision: e.after, deliveryId: e.deliveryId }, { jobId: `push.${e.deliveryId}`, removeOnComplete: true });
      if (enqueue) enqueued++;
    },
    onPullRequest: async () => undefined,
    readiness: async () => ({ ok: true, checks: {} }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;

  const require = createRequire(import.meta.url);
  const defs = require('@octokit/webhooks-examples') as { name: string; examples: { ref?: string; deleted?: boolean }[] }[];
  const example = defs.find((d) => d.name === 'push')!.examples.find((e) => e.ref === 'refs/heads/master' && e.deleted === false)!;
  const body = Buffer.from(JSON.stringify(example));
  const signature = signGithub(body, secret);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });

  const send = (delivery: string) =>
    new Promise<{ status: number; ms: number }>((resolve, reject) => {
      const start = process.hrtime.bigint();
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/webhooks/github',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': body.length,
            'x-github-event': 'push',
            'x-github-delivery': delivery,
            'x-hub-signature-256': signature,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - start) / 1e6 }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  // Warm-up (JIT, connections), not measured.
  await Promise.all(Array.from({ length: 50 }, () => send(randomUUID())));

  const total = RATE * SECONDS;
  const interval = 1000 / RATE;
  const pending: Promise<{ status: number; ms: number }>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    // Open loop: each request goes at its slot whether or not earlier ones have answered.
    const wait = t0 + i * interval - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(send(randomUUID()));
  }
  const results = await Promise.all(pending);
  const elapsed = (performance.now() - t0) / 1000;

  await app.close();
  agent.destroy();
  await queue.obliterate({ force: true });
  await queue.close();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();

  const ok = results.filter((r) => r.status === 202).map((r) => r.ms).sort((a, b) => a - b);
  const pct = (p: number) => ok[Math.min(ok.length - 1, Math.ceil((p / 100) * ok.length) - 1)] ?? NaN;
  const load = loadavg()[0]!.toFixed(1);
  const note = `${results.length} signed pushes in ${elapsed.toFixed(1)} s, ${ok.length} answered 202, ${enqueue ? `${enqueued - 50} BullMQ jobs added` : 'handler does nothing'}; loopback, client in the same process; load average ${load} on ${cpus().length} CPUs`;
  const tag = enqueue ? '' : ' (no enqueue)';
  return [
    { name: `webhook 202 latency p50 @200 req/s${tag}`, value: pct(50), unit: 'ms', note },
    { name: `webhook 202 latency p99 @200 req/s${tag}`, value: pct(99), unit: 'ms', target: '< 20 ms' },
    { name: `webhook 202 latency max @200 req/s${tag}`, value: ok[ok.length - 1] ?? NaN, unit: 'ms' },
    { name: `webhook achieved rate${tag}`, value: results.length / elapsed, unit: 'req/s', target: '200 req/s' },
    { name: `webhook non-202 answers${tag}`, value: results.length - ok.length, unit: 'count', target: '0' },
  ];
}
