// Notifications outlive the process: a run's webhook and Slack messages, pending while their
// endpoints are down, survive kill -9 of `faultline run` (they wait in Redis, BullMQ queue
// `notifications`) and are delivered exactly once by the restarted controller. A second enqueue
// for the same run (a redelivered run reporting again) is dropped by its job id.
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisRunStore } from '../../src/queue/index.js';
import { DurableDeliveries, QUEUE_NOTIFICATIONS, deliveryJobId } from '../../src/report/queue.js';
import { WebhookNotifier } from '../../src/report/webhook.js';
import type { RunRecord } from '../../src/runs/types.js';
import { podKill, startWorld, waitFor, type World } from './harness.js';
import { exited, spawnController, stopChildren } from './spawn.js';

let world: World | undefined;
let standIn: Server | undefined;

afterEach(async () => {
  await stopChildren();
  await world?.close();
  world = undefined;
  await new Promise((resolve) => (standIn ? standIn.close(resolve) : resolve(undefined)));
  standIn = undefined;
}, 120_000);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Received {
  path: string;
  body: Record<string, unknown>;
}

/** The webhook and Slack endpoints, brought up on a port that refused connections until now. */
async function startStandIn(port: number, received: Received[]): Promise<Server> {
  const server = createHttpServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '/', body: JSON.parse(text) as Record<string, unknown> });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

const SCRIPT = ['--import', 'tsx', 'test/controller/controller-process.ts'];

describe('a notification pending while its endpoint is down', () => {
  it('survives kill -9 of `faultline run` and is delivered exactly once after the restart; a duplicate enqueue is dropped', async () => {
    const port = await freePort(); // nothing listens there yet: the endpoints are down
    const base = `http://127.0.0.1:${port}`;
    world = await startWorld({
      seed: { 'experiments/checkout-pod-kill.yaml': podKill('checkout-pod-kill', { app: 'checkout', duration: '1s' }) },
      env: {
        FAULTLINE_NOTIFY_WEBHOOK_URL: `${base}/hook`,
        SLACK_WEBHOOK_URL: `${base}/slack`,
        FAULTLINE_NOTIFY_RETRY_DELAY: '1s',
        FAULTLINE_NOTIFY_ATTEMPTS: '30',
      },
    });
    const w = world;
    const env = { ...w.env, FL_KUBECONFIG: await w.kubeconfigFile(), FL_IDENTITY: 'replica-0', FL_REAL_EXECUTOR: '1', LOG_LEVEL: 'warn' };
    const notifications = new Queue(QUEUE_NOTIFICATIONS, { connection: w.redis, prefix: w.prefix });
    try {
      const victim = await spawnController(SCRIPT, env);
      const run = await waitFor(async () => (await new RedisRunStore(w.redis, w.prefix).list({ limit: 10 })).runs.find((r) => r.outcome), 'the run ended', 90_000);
      expect(run.state).toBe('Succeeded');
      const ids = [deliveryJobId('webhook', run.id), deliveryJobId('slack.webhook', run.id)];
      // Both deliveries were tried against the dead endpoints and wait for a retry.
      await waitFor(async () => {
        const jobs = await Promise.all(ids.map((id) => notifications.getJob(id)));
        return jobs.every((j) => j && j.attemptsMade >= 1);
      }, 'both deliveries tried at least once', 60_000);
      victim.child.kill('SIGKILL');
      await exited(victim.child);
      const states = await Promise.all(ids.map(async (id) => (await notifications.getJob(id))!.getState()));
      console.log(`[figure] after kill -9 the pending notifications are in Redis: ${ids.map((id, i) => `${id}=${states[i]}`).join(', ')}`);
      for (const s of states) expect(['delayed', 'waiting', 'active']).toContain(s);

      // The endpoints come up, then a new controller starts.
      const received: Received[] = [];
      standIn = await startStandIn(port, received);
      const restartAt = Date.now();
      const next = await spawnController(SCRIPT, env);
      await waitFor(() => received.some((r) => r.path === '/hook') && received.some((r) => r.path === '/slack'), 'both notifications delivered', 90_000);
      const deliveredMs = Date.now() - restartAt;
      await waitFor(async () => {
        const jobs = await Promise.all(ids.map((id) => notifications.getJob(id)));
        return jobs.every((j) => j?.finishedOn);
      }, 'delivery jobs completed', 30_000);

      // A duplicate enqueue for the same run, through the same queue the controller uses: dropped.
      const dupe = new DurableDeliveries({ connection: w.redis, prefix: w.prefix });
      const dupeNotifier = new WebhookNotifier({ url: `${base}/hook`, deliveries: dupe });
      dupeNotifier.onRunUpdate(run, { spec: { spec: {} } } as never);
      await dupe.close();
      const counts = await notifications.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed');
      // Give the running controller's worker time to (wrongly) pick up a second job, then count.
      await new Promise((r) => setTimeout(r, 3000));
      const hooks = received.filter((r) => r.path === '/hook');
      const slack = received.filter((r) => r.path === '/slack');
      console.log(`[figure] restart with the endpoints back: webhook and Slack delivered ${deliveredMs} ms after the new controller was spawned; deliveries per endpoint: webhook ${hooks.length}, slack ${slack.length}; queue after a duplicate enqueue: ${JSON.stringify(counts)}`);
      expect(hooks).toHaveLength(1);
      expect(slack).toHaveLength(1);
      expect((hooks[0]!.body.run as RunRecord).id).toBe(run.id);
      expect(hooks[0]!.body.event).toBe('run.finished');
      expect(JSON.stringify(slack[0]!.body)).toContain('checkout-pod-kill: succeeded');
      expect(counts).toMatchObject({ waiting: 0, delayed: 0, active: 0, completed: 2 });
      expect(next.child.exitCode).toBeNull();
    } finally {
      await notifications.close();
    }
  }, 240_000);
});
