// Hostile HTTP clients against a real controller (and a second replica on the same Redis):
// a flood cannot lock the kill switch away from its token holder, the limit is one bucket across
// replicas, bull-board cannot be written to, a slow body is cut off, and only declared JSON is
// read as JSON.
import { connect } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Controller } from '../../src/controller/index.js';
import { signGithub } from '../../src/server/index.js';
import { call, TOKEN } from '../api/helpers.js';
import { pushPayload, SECRET, startIn, startWorld, type World } from '../controller/harness.js';

let world: World;
let a: Controller;
let b: Controller;

beforeAll(async () => {
  world = await startWorld({ env: { FAULTLINE_API_TOKEN: TOKEN, FAULTLINE_REQUEST_TIMEOUT: '1s', FAULTLINE_RATE_LIMIT_MAX: '600' } });
  a = await startIn(world, { identity: 'replica-a' });
  b = await startIn(world, { identity: 'replica-b' });
}, 60_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
  await world?.close();
});

async function flood(url: string, n: number, concurrency = 20): Promise<Record<number, number>> {
  const counts: Record<number, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        const res = await fetch(url);
        await res.arrayBuffer();
        counts[res.status] = (counts[res.status] ?? 0) + 1;
      }
    }),
  );
  return counts;
}

describe('rate limit', () => {
  it('1,000 requests from one address, then POST /api/abort with the token succeeds; without the token it is limited', async () => {
    const started = Date.now();
    const counts = await flood(`${a.url}/api/kill-switch`, 1000); // no token: an ordinary reader
    console.log(`1000 GET /api/kill-switch from one address in ${Date.now() - started} ms: ${JSON.stringify(counts)}`);
    expect(counts[429]).toBeGreaterThan(0);
    // The bucket is shared through Redis: the other replica limits this address too.
    const other = await fetch(`${b.url}/api/kill-switch`);
    await other.arrayBuffer();
    expect(other.status).toBe(429);

    const abort = await call(`${a.url}/api/abort`, { method: 'POST', body: { reason: 'flood test' } });
    expect(abort.status).toBe(202);
    expect((await call<{ active: unknown }>(`${b.url}/api/kill-switch`)).body.active).toBeTruthy();
    const clear = await call(`${b.url}/api/kill-switch`, { method: 'DELETE' });
    expect(clear.status).toBe(200);

    // Without the token (or with a wrong one) nothing is switched on: this address is over its
    // limit, and a request without a valid token is counted like any other; reads stay limited.
    expect((await call(`${a.url}/api/abort`, { method: 'POST', token: null, body: { reason: 'x' } })).status).toBe(429);
    expect((await call(`${a.url}/api/abort`, { method: 'POST', token: 'wrong', body: { reason: 'x' } })).status).toBe(429);
    expect((await call<{ active: unknown }>(`${a.url}/api/kill-switch`)).body.active).toBeFalsy();
    expect((await call(`${a.url}/api/kill-switch`, { token: null })).status).toBe(429);
    // Health checks are never limited.
    expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
  }, 120_000);
});

describe('token guessing on the kill switch', () => {
  it('wrong tokens on POST /api/abort answer 401 and are counted until the address is limited (429); the right token still works', async () => {
    // A fresh client address (the flood above spent 127.0.0.1's bucket): loopback is all of 127/8.
    const dispatcher = new Agent({ localAddress: '127.0.0.2' });
    const abort = async (token: string) => {
      const res = await undiciFetch(`${a.url}/api/abort`, {
        method: 'POST',
        dispatcher,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'guess' }),
      });
      await res.arrayBuffer();
      return res.status;
    };
    const counts: Record<number, number> = {};
    for (let i = 0; i < 650; i++) {
      const status = await abort(`guess-${i}`);
      counts[status] = (counts[status] ?? 0) + 1;
    }
    console.log(`[figure] 650 POST /api/abort with wrong tokens from one address (limit 600/min): ${JSON.stringify(counts)}`);
    expect(counts[401]).toBe(600);
    expect(counts[429]).toBe(50);
    expect((await call<{ active: unknown }>(`${a.url}/api/kill-switch`)).body.active).toBeFalsy();
    // The token holder on the same, limited address is let through.
    expect(await abort(TOKEN)).toBe(202);
    expect((await call(`${b.url}/api/kill-switch`, { method: 'DELETE' })).status).toBe(200);
    await dispatcher.close();
  }, 120_000);
});

describe('bull-board is read-only', () => {
  it('a hand-made job posted to /queues is refused and never reaches the queue', async () => {
    const before = await a.queues.runs.getJobCounts();
    const job = { name: 'run', data: { experiment: 'evil', runId: 'evil-1', spec: { spec: { fault: { type: 'scale-down' } } } } };
    for (const path of ['/queues/api/queues/runs/add', '/queues/api/queues/runs/retry/failed', '/queues/api/queues/runs/clean/completed', '/queues/api/queues/pause']) {
      const res = await call<{ error: { code: string } }>(`${a.url}${path}`, { method: path.endsWith('add') ? 'POST' : 'PUT', body: job });
      expect(res.status, path).toBe(405);
      expect(res.body.error.code).toBe('read_only');
    }
    expect(await a.queues.runs.getJobCounts()).toEqual(before);
    expect((await call(`${a.url}/queues/api/queues`)).status).toBe(200); // reading still works
  });
});

describe('timeouts and content types', () => {
  it('a client trickling its body is cut off within the configured request timeout (1s)', async () => {
    const { port } = new URL(a.url!);
    const started = Date.now();
    const closedAfter = await new Promise<number>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(`POST /webhooks/github HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n`);
        const trickle = setInterval(() => socket.writable && socket.write('{'), 200);
        socket.on('close', () => {
          clearInterval(trickle);
          resolve(Date.now() - started);
        });
      });
      socket.on('error', () => undefined);
      setTimeout(() => reject(new Error('still open after 20s')), 20_000);
    });
    console.log(`slow-body client cut off after ${closedAfter} ms (requestTimeout 1s)`);
    expect(closedAfter).toBeGreaterThanOrEqual(900);
    expect(closedAfter).toBeLessThan(10_000); // generous: the cut-off is 1s plus Node's check interval
  });

  it('a correctly signed text/plain body is not parsed as JSON (415); an API body as text/plain is refused too', async () => {
    const body = pushPayload({ after: 'a'.repeat(40) });
    const res = await fetch(`${a.url}/webhooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-github-event': 'push', 'x-github-delivery': 'plain-1', 'x-hub-signature-256': signGithub(body, SECRET) },
      body,
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');
    const api = await call(`${b.url}/api/abort`, { method: 'POST', rawBody: JSON.stringify({ reason: 'text' }), headers: { 'content-type': 'text/plain' } });
    expect(api.status).toBe(415);
    expect((await call<{ active: unknown }>(`${b.url}/api/kill-switch`)).body.active).toBeFalsy();
  });

  it('an API body over its limit (16 KiB) is refused with 413', async () => {
    const res = await call(`${b.url}/api/abort`, { method: 'POST', body: { reason: 'x'.repeat(20_000) } });
    expect(res.status).toBe(413);
  });
});
