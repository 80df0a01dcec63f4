import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { SlackNotifier, redisMessageStore, runEvent } from '../../src/report/slack.js';
import { WebhookNotifier } from '../../src/report/webhook.js';
import { reportFailureCount } from '../../src/report/failures.js';
import type { RunState } from '../../src/runs/types.js';
import { startHostServer, waitFor, type HostServer, type Recorded } from './host-server.js';
import { jobFor, runRecord } from './fixtures.js';

const servers: HostServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

let tsCounter = 100;
async function fakeSlack(): Promise<HostServer> {
  const s = await startHostServer((req) => {
    if (req.path === '/api/chat.postMessage') return { status: 200, body: { ok: true, channel: 'C0CHAOS', ts: `1700000000.000${tsCounter++}` } };
    if (req.path === '/api/chat.update') return { status: 200, body: { ok: true, channel: 'C0CHAOS', ts: (req.body as { ts: string }).ts } };
    return { status: 404, body: { ok: false, error: 'unknown_method' } };
  });
  servers.push(s);
  return s;
}

const STATES: RunState[] = ['Pending', 'Validating', 'Injecting', 'Running', 'Reverting', 'Succeeded'];
const body = (r: Recorded) => r.body as { channel: string; ts?: string; thread_ts?: string; text: string; blocks: { type: string }[] };

describe('Slack with a bot token', () => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = `fltest-${randomUUID()}`;
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('posts once per run, edits that message as the run moves, and threads one final summary', async () => {
    const slack = await fakeSlack();
    const n = new SlackNotifier({ botToken: 'xoxb-1', apiUrl: `${slack.url}/api`, defaultChannel: '#general', minIntervalMs: 5, store: redisMessageStore(redis, prefix) });
    const send = (state: RunState) => {
      const rec = runRecord('run-1', 'checkout-pod-kill', state);
      expect(n.onRunUpdate(rec, jobFor(rec, '#chaos'))).toBeUndefined(); // returns at once
    };
    send('Pending');
    await n.idle();
    // Four changes in quick succession while nothing is in flight: one edit with the newest.
    for (const state of ['Validating', 'Injecting', 'Running', 'Reverting'] as const) send(state);
    await n.idle();
    send('Succeeded');
    send('Succeeded'); // a repeated terminal update changes nothing
    await n.idle();
    const posts = slack.requests.filter((r) => r.path === '/api/chat.postMessage');
    const top = posts.filter((r) => !body(r).thread_ts);
    const thread = posts.filter((r) => body(r).thread_ts);
    const updates = slack.requests.filter((r) => r.path === '/api/chat.update');
    expect(top).toHaveLength(1);
    expect(body(top[0]!).channel).toBe('#chaos'); // the experiment's channel wins over the default
    expect(top[0]!.headers.authorization).toBe('Bearer xoxb-1');
    expect(updates).toHaveLength(2); // coalesced: Reverting, then Succeeded — no per-state spam
    expect(body(updates[0]!).blocks).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'section' })]));
    expect(JSON.stringify(body(updates[0]!).blocks)).toContain('Reverting');
    const ref = JSON.parse((await redis.get(`${prefix}:slack:msg:run-1`))!) as { channel: string; ts: string };
    expect(ref.channel).toBe('C0CHAOS');
    for (const u of updates) expect(body(u)).toMatchObject({ channel: 'C0CHAOS', ts: ref.ts }); // the same message
    expect(body(updates.at(-1)!).text).toContain('checkout-pod-kill: succeeded');
    expect(body(updates.at(-1)!).blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
    expect(thread).toHaveLength(1);
    expect(body(thread[0]!).thread_ts).toBe(ref.ts);
    expect(JSON.stringify(body(thread[0]!).blocks)).toContain('Recovery');
    // The message reference is in Redis: another replica edits the same message.
    const other = new SlackNotifier({ botToken: 'xoxb-1', apiUrl: `${slack.url}/api`, minIntervalMs: 5, store: redisMessageStore(redis, prefix) });
    const again = runRecord('run-1', 'checkout-pod-kill', 'Failed');
    other.onRunUpdate(again, jobFor(again, '#chaos'));
    await other.idle();
    expect(slack.requests.filter((r) => r.path === '/api/chat.postMessage' && !body(r).thread_ts)).toHaveLength(1);
    expect(body(slack.requests.filter((r) => r.path === '/api/chat.update').at(-1)!).text).toContain('failed');
  });

  it('names a run blocked by a guard as such', () => {
    const rec = runRecord('b', 'x', 'Aborted');
    rec.targets = [];
    rec.guards = [{ guard: 'blast-radius', ok: false, reason: '75% > 50%' }];
    expect(runEvent(rec)).toBe('blocked');
  });
});

describe('Slack with only an incoming webhook', () => {
  it('sends one message, at the end', async () => {
    const hook = await startHostServer(() => ({ status: 200, body: 'ok' }));
    servers.push(hook);
    const n = new SlackNotifier({ webhookUrl: `${hook.url}/services/T/B/X`, minIntervalMs: 5 });
    for (const state of STATES) {
      const rec = runRecord('run-2', 'cart-delay', state);
      n.onRunUpdate(rec, jobFor(rec));
    }
    n.onRunUpdate(runRecord('run-2', 'cart-delay', 'Succeeded'), jobFor(runRecord('run-2', 'cart-delay')));
    await n.idle();
    expect(hook.requests).toHaveLength(1);
    expect(hook.requests[0]).toMatchObject({ method: 'POST', path: '/services/T/B/X' });
    expect((hook.requests[0]!.body as { text: string }).text).toContain('cart-delay: succeeded');
  });
});

describe('a broken Slack never holds a run', () => {
  // A run as the runs stage drives it: every state change calls the listener, then the run is done.
  function runThrough(n: SlackNotifier, id: string, order: string[]): void {
    for (const state of STATES) {
      const rec = runRecord(id, 'checkout-pod-kill', state);
      n.onRunUpdate(rec, jobFor(rec, '#chaos'));
    }
    order.push(`run ${id} done`);
  }

  it('Slack hanging: the run finishes before Slack has answered anything', async () => {
    const order: string[] = [];
    const slack = await startHostServer(() => {
      order.push('slack request');
      return { status: 200, hang: true };
    });
    servers.push(slack);
    const failures = reportFailureCount('slack');
    const n = new SlackNotifier({ botToken: 'x', apiUrl: `${slack.url}/api`, minIntervalMs: 1, retry: { attempts: 2, timeoutMs: 300, baseDelayMs: 1 } });
    runThrough(n, 'hang-1', order);
    runThrough(n, 'hang-2', order);
    expect(order).toEqual(['run hang-1 done', 'run hang-2 done']);
    await waitFor(() => slack.requests.length >= 1, 'slack to be called');
    expect(slack.pending).toBeGreaterThanOrEqual(1); // still hanging while the runs are long done
    await n.idle(); // the notifier gives up on its own (timeouts), counted
    expect(reportFailureCount('slack')).toBeGreaterThan(failures);
  });

  it('Slack answering 500: retried a bounded number of times, counted, run unaffected', async () => {
    const slack = await startHostServer(() => ({ status: 500, body: { ok: false } }));
    servers.push(slack);
    const failures = reportFailureCount('slack');
    const n = new SlackNotifier({ botToken: 'x', apiUrl: `${slack.url}/api`, minIntervalMs: 1, retry: { attempts: 3, baseDelayMs: 1 } });
    const order: string[] = [];
    runThrough(n, 'err-1', order);
    expect(order).toEqual(['run err-1 done']);
    await n.idle();
    expect(reportFailureCount('slack')).toBeGreaterThan(failures);
    expect(slack.requests.length).toBeLessThanOrEqual(3 * STATES.length);
  });
});

describe('generic JSON webhook', () => {
  it('POSTs the run summary once when the run ends, retrying a 503', async () => {
    let calls = 0;
    const srv = await startHostServer(() => (calls++ === 0 ? { status: 503, body: {} } : { status: 204 }));
    servers.push(srv);
    const w = new WebhookNotifier({ url: `${srv.url}/hook`, retry: { baseDelayMs: 1 } });
    for (const state of STATES) {
      const rec = runRecord('wh-1', 'checkout-pod-kill', state);
      w.onRunUpdate(rec, jobFor(rec));
    }
    await w.idle();
    expect(srv.requests).toHaveLength(2);
    expect(srv.requests[1]!.body).toMatchObject({
      event: 'run.finished',
      experiment: 'checkout-pod-kill',
      run: { id: 'wh-1', outcome: 'succeeded', recoveryMs: 2300, blastRadius: [{ workload: 'Deployment/checkout', percent: 25 }] },
    });
  });
});
