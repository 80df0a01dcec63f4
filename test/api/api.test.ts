// The REST API through HTTP against a real controller: the example experiments from experiments/
// (3s runs; catalog-scale-down 60s so one run stays active) on the simulator. Reads require the
// token here (FAULTLINE_READ_REQUIRES_TOKEN); a second replica without any API token shows 403.
// Progress is polled in-process (controller.runs) so the polling does not eat the rate limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Controller } from '../../src/controller/index.js';
import type { RunRecord } from '../../src/runs/types.js';
import type { ExperimentStatus } from '../../src/server/control-plane.js';
import { startIn } from '../controller/harness.js';
import { allRuns, call, deploymentReplicas, startApiWorld, TOKEN, waitFor, type ApiWorld, type ErrorBody } from './helpers.js';

let w: ApiWorld;
let url: string;
let seedRevision: string;
/** Experiments that run once at start-up (no schedule, not suspended). */
const RUN_ONCE = [
  'cart-container-kill',
  'catalog-memory-stress',
  'catalog-pod-failure',
  'checkout-http-fault',
  'checkout-network-delay',
  'checkout-pod-kill',
  'frontend-cpu-stress',
  'frontend-node-cordon',
  'gameday-frontend-pod-kill',
  'payments-db-partition',
];

async function finishedRuns(c: Controller): Promise<RunRecord[]> {
  const { runs } = await c.runs.list({ limit: 1000 });
  return runs.filter((r) => r.outcome);
}

beforeAll(async () => {
  w = await startApiWorld({
    overrides: { 'catalog-scale-down': '60s' },
    env: { FAULTLINE_READ_REQUIRES_TOKEN: 'true', FAULTLINE_MAX_CONCURRENT_RUNS: '4', FAULTLINE_RUNS_CONCURRENCY: '4' },
  });
  url = w.url;
  seedRevision = await w.world.work.git('rev-parse', 'HEAD');
  // Every run-once example ends, and the long scale-down is in force.
  await waitFor(async () => {
    const done = new Set((await finishedRuns(w.controller)).map((r) => r.experiment));
    return RUN_ONCE.every((n) => done.has(n));
  }, 'the example runs to finish', 150_000);
  await waitFor(() => deploymentReplicas(w.world, 'catalog') === 1, 'catalog scaled down', 60_000);
}, 240_000);

afterAll(async () => {
  await w?.close();
});

describe('authentication', () => {
  it('answers 401 with no or a wrong token, on reads (read access requires it here) and on writes', async () => {
    for (const token of [null, 'wrong-token', `${TOKEN}x`, '']) {
      for (const [method, path] of [
        ['GET', '/api/experiments'],
        ['GET', '/api/runs'],
        ['GET', '/api/kill-switch'],
        ['GET', '/api/stream'],
        ['POST', '/api/experiments/checkout-pod-kill/trigger'],
        ['POST', '/api/runs/some-run/abort'],
        ['DELETE', '/api/kill-switch'],
      ] as const) {
        const res = await call<ErrorBody>(`${url}${path}`, { method, token });
        expect(res.status, `${method} ${path} with token ${String(token)}`).toBe(401);
        expect(res.body.error.code).toBe('unauthorized');
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
      }
      const abort = await call<ErrorBody>(`${url}/api/abort`, { method: 'POST', token, body: { reason: 'no' } });
      expect(abort.status).toBe(401);
    }
    // Nothing was triggered or aborted by the refused calls.
    expect((await call<{ active: boolean }>(`${url}/api/kill-switch`)).body.active).toBe(false);
    expect((await allRuns(url)).filter((r) => r.trigger === 'manual')).toEqual([]);
  });

  it('takes the token from a cookie for reads only, so a cross-site form cannot change state', async () => {
    const cookie = { cookie: `faultline_token=${encodeURIComponent(TOKEN)}` };
    expect((await call(`${url}/api/experiments`, { token: null, headers: cookie })).status).toBe(200);
    const write = await call<ErrorBody>(`${url}/api/experiments/checkout-pod-kill/trigger`, { method: 'POST', token: null, headers: cookie });
    expect(write.status).toBe(401);
  });

  it('answers 403 on a replica with no API token configured, and reads stay open there by default', async () => {
    const open = await startIn(w.world, { identity: 'no-token-replica', env: { FAULTLINE_API_TOKEN: '', FAULTLINE_READ_REQUIRES_TOKEN: 'false' } });
    try {
      const base = open.url!;
      for (const [method, path] of [
        ['POST', '/api/experiments/checkout-pod-kill/trigger'],
        ['POST', '/api/runs/some-run/abort'],
        ['DELETE', '/api/kill-switch'],
        ['GET', '/queues'],
      ] as const) {
        for (const token of [null, TOKEN]) {
          const res = await call<ErrorBody>(`${base}${path}`, { method, token });
          expect(res.status, `${method} ${path}`).toBe(403);
          expect(res.body.error.code).toBe('forbidden');
        }
      }
      expect((await call(`${base}/api/abort`, { method: 'POST', body: { reason: 'x' } })).status).toBe(403);
      const list = await call<{ experiments: ExperimentStatus[] }>(`${base}/api/experiments`, { token: null });
      expect(list.status).toBe(200);
      expect(list.body.experiments.map((e) => e.name)).toContain('checkout-pod-kill');
    } finally {
      await open.close();
    }
  });
});

describe('experiments', () => {
  it('lists every example with its source path, revision, spec hash, schedule, next run and last outcome', async () => {
    const res = await call<{ experiments: ExperimentStatus[] }>(`${url}/api/experiments`);
    expect(res.status).toBe(200);
    const byName = new Map(res.body.experiments.map((e) => [e.name, e]));
    expect([...byName.keys()].sort()).toEqual(
      [...RUN_ONCE, 'cart-pod-kill-nightly', 'catalog-scale-down', 'gameday-cart-latency', 'payments-network-loss', 'payments-bad-link', 'payments-bandwidth-limit', 'payments-packet-corrupt', 'payments-packet-duplicate'].sort(),
    );
    for (const e of byName.values()) {
      expect(e.revision).toBe(seedRevision);
      expect(e.specHash).toMatch(/^[0-9a-f]{64}$/);
      expect(e.file).toMatch(/^experiments\/[a-z-]+\.yaml$/);
    }
    for (const name of RUN_ONCE) {
      const e = byName.get(name)!;
      expect(e.state, `${name}: ${JSON.stringify(e.lastRun)}`).toBe('succeeded');
      expect(e.lastRun?.outcome).toBe('succeeded');
      expect(e.nextRun).toBeUndefined();
    }
    expect(byName.get('gameday-frontend-pod-kill')!.file).toBe('experiments/shop-gameday.yaml');
    const nightly = byName.get('cart-pod-kill-nightly')!;
    expect(nightly.schedule).toEqual({ cron: '0 3 * * 1-5', timezone: 'Europe/Berlin' });
    expect(Date.parse(nightly.nextRun!)).toBeGreaterThan(Date.now());
    expect(nightly.lastRun).toBeUndefined();
    expect(byName.get('payments-network-loss')!.state).toBe('suspended');
    expect(byName.get('catalog-scale-down')!.state).toBe('running');
    expect(byName.get('catalog-scale-down')!.lastRun?.state).toBe('Running');
  });

  it('shows one experiment, 404 for an unknown name and 400 naming the parameter for a malformed one', async () => {
    const one = await call<ExperimentStatus>(`${url}/api/experiments/checkout-pod-kill`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ name: 'checkout-pod-kill', fault: 'pod-kill', namespace: 'shop', file: 'experiments/checkout-pod-kill.yaml' });

    const missing = await call<ErrorBody>(`${url}/api/experiments/no-such-experiment`);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'not_found', message: expect.stringContaining('no-such-experiment') });

    const bad = await call<ErrorBody>(`${url}/api/experiments/Not_A_Name`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'bad_request', field: 'params.name' });

    const route = await call<ErrorBody>(`${url}/api/nothing-here`);
    expect(route.status).toBe(404);
    expect(route.body.error.code).toBe('not_found');
  });
});

describe('runs', () => {
  it('lists runs newest first, filtered by experiment and state, and pages with a cursor', async () => {
    const everything = await call<{ runs: RunRecord[]; nextCursor?: string }>(`${url}/api/runs?limit=200`);
    expect(everything.status).toBe(200);
    const all = everything.body.runs;
    expect(everything.body.nextCursor).toBeUndefined();
    expect(all.length).toBeGreaterThanOrEqual(RUN_ONCE.length + 1);
    const created = all.map((r) => r.createdAt);
    expect([...created].sort().reverse()).toEqual(created);

    // Pages of 3 walk the same list, each run once.
    const paged: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const q = new URLSearchParams({ limit: '3' });
      if (cursor) q.set('cursor', cursor);
      const page = await call<{ runs: RunRecord[]; nextCursor?: string }>(`${url}/api/runs?${q}`);
      expect(page.status).toBe(200);
      expect(page.body.runs.length).toBeLessThanOrEqual(3);
      paged.push(...page.body.runs.map((r) => r.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor && pages < 100);
    expect(paged).toEqual(all.map((r) => r.id));
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(all.length / 3));

    const one = await call<{ runs: RunRecord[] }>(`${url}/api/runs?experiment=checkout-pod-kill`);
    expect(one.body.runs.map((r) => r.experiment)).toEqual(['checkout-pod-kill']);
    const running = await call<{ runs: RunRecord[] }>(`${url}/api/runs?state=Running`);
    expect(running.body.runs.map((r) => r.experiment)).toEqual(['catalog-scale-down']);
    const succeeded = await call<{ runs: RunRecord[] }>(`${url}/api/runs?state=Succeeded&limit=200`);
    expect(succeeded.body.runs.length).toBeGreaterThanOrEqual(RUN_ONCE.length);
    expect(succeeded.body.runs.every((r) => r.state === 'Succeeded')).toBe(true);
    const none = await call<{ runs: RunRecord[] }>(`${url}/api/runs?experiment=checkout-pod-kill&state=Failed`);
    expect(none.body.runs).toEqual([]);
  });

  it('answers 400 naming the query field for a bad limit, state, experiment or cursor', async () => {
    for (const [query, field] of [
      ['limit=0', 'querystring.limit'],
      ['limit=201', 'querystring.limit'],
      ['limit=ten', 'querystring.limit'],
      ['state=Exploded', 'querystring.state'],
      ['experiment=Bad_Name', 'querystring.experiment'],
      ['cursor=not-a-cursor', 'querystring.cursor'],
    ] as const) {
      const res = await call<ErrorBody>(`${url}/api/runs?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error, query).toMatchObject({ code: 'bad_request', field });
      expect(res.body.error.message.length).toBeGreaterThan(0);
    }
  });

  it('shows one run with its timeline, targets, probes and recovery time', async () => {
    const [listed] = (await call<{ runs: RunRecord[] }>(`${url}/api/runs?experiment=checkout-pod-kill`)).body.runs;
    const res = await call<RunRecord>(`${url}/api/runs/${listed!.id}`);
    expect(res.status).toBe(200);
    const run = res.body;
    expect(run).toMatchObject({ experiment: 'checkout-pod-kill', faultType: 'pod-kill', state: 'Succeeded', outcome: 'succeeded', revision: seedRevision });
    const states = run.timeline.map((t) => t.state);
    expect(states[0]).toBe('Pending');
    expect(states).toContain('Running');
    expect(states.at(-1)).toBe('Succeeded');
    expect(states.indexOf('Running')).toBeLessThan(states.lastIndexOf('Reverting'));
    expect(run.targets.length).toBe(1); // 25% of 4 checkout pods
    expect(run.targets[0]).toMatchObject({ kind: 'Pod', namespace: 'shop' });
    expect(run.targets[0]!.name).toMatch(/^checkout-/);
    expect(run.blastRadius[0]).toMatchObject({ namespace: 'shop', hit: 1, ready: 4, percent: 25 });
    expect(run.probes.map((p) => p.name)).toContain('checkout-ready');
    expect(run.probes.every((p) => p.ok && p.checks > 0)).toBe(true);
    expect(typeof run.recoveryMs).toBe('number');
    expect(run.recoveryMs).toBeGreaterThanOrEqual(0);
    expect(run.guards.every((g) => g.ok)).toBe(true);

    const missing = await call<ErrorBody>(`${url}/api/runs/checkout-pod-kill.0000000000000000.once`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    const bad = await call<ErrorBody>(`${url}/api/runs/bad%20id%3B`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('params.id');
    // Longer than any run id: refused before routing.
    expect((await call(`${url}/api/runs/${'x'.repeat(300)}`)).status).toBe(414);
  });

  it('aborts one active run: 202, the run ends Aborted and the scale-down is reverted; 404 unknown, 409 finished', async () => {
    const running = (await call<{ runs: RunRecord[] }>(`${url}/api/runs?state=Running`)).body.runs[0]!;
    expect(running.experiment).toBe('catalog-scale-down');
    expect(deploymentReplicas(w.world, 'catalog')).toBe(1);

    const unknown = await call<ErrorBody>(`${url}/api/runs/no-such-run/abort`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    const done = (await call<{ runs: RunRecord[] }>(`${url}/api/runs?experiment=checkout-pod-kill`)).body.runs[0]!;
    const finished = await call<ErrorBody>(`${url}/api/runs/${done.id}/abort`, { method: 'POST' });
    expect(finished.status).toBe(409);
    expect(finished.body.error).toMatchObject({ code: 'conflict', message: expect.stringContaining('Succeeded') });

    const res = await call<{ aborted: string }>(`${url}/api/runs/${running.id}/abort`, { method: 'POST' });
    expect(res.status).toBe(202);
    expect(res.body.aborted).toBe(running.id);
    const ended = await waitFor(async () => {
      const r = await w.controller.runs.get(running.id);
      return r?.outcome ? r : undefined;
    }, 'the aborted run to end', 60_000);
    expect(ended.state).toBe('Aborted');
    expect(ended.reason).toMatch(/aborted by api:/);
    await waitFor(() => deploymentReplicas(w.world, 'catalog') === 2, 'catalog replicas restored', 30_000);
    // A single abort is not the kill switch.
    expect((await call<{ active: boolean }>(`${url}/api/kill-switch`)).body.active).toBe(false);
  });
});

describe('manual trigger', () => {
  it('queues a guarded manual run (202) that executes; 404 unknown, 409 suspended, 400 malformed name', async () => {
    const res = await call<{ runId: string }>(`${url}/api/experiments/checkout-pod-kill/trigger`, { method: 'POST' });
    expect(res.status).toBe(202);
    expect(res.body.runId).toMatch(/^checkout-pod-kill\.[0-9a-f]{16}\.manual-\d+$/);
    const run = await waitFor(async () => {
      const r = await w.controller.runs.get(res.body.runId);
      return r?.outcome ? r : undefined;
    }, 'the manual run to end', 60_000);
    expect(run).toMatchObject({ trigger: 'manual', state: 'Succeeded' });
    expect(run.guards.length).toBeGreaterThan(0);
    const shown = await call<RunRecord>(`${url}/api/runs/${res.body.runId}`);
    expect(shown.body.trigger).toBe('manual');

    const unknown = await call<ErrorBody>(`${url}/api/experiments/no-such-experiment/trigger`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    const suspended = await call<ErrorBody>(`${url}/api/experiments/payments-network-loss/trigger`, { method: 'POST' });
    expect(suspended.status).toBe(409);
    expect(suspended.body.error.message).toMatch(/suspended/);
    const bad = await call<ErrorBody>(`${url}/api/experiments/UPPER/trigger`, { method: 'POST' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('params.name');
    expect((await allRuns(url, 'experiment=payments-network-loss')).length).toBe(0);
  });
});

describe('kill switch endpoints (bodies; the revert itself is in kill-switch.test.ts)', () => {
  it('rejects bad bodies for POST /api/abort with 400 naming the field, and turns nothing on', async () => {
    const cases: [string, { body?: unknown; rawBody?: string; headers?: Record<string, string> }, string | undefined][] = [
      ['missing reason', { body: {} }, 'body.reason'],
      ['empty reason', { body: { reason: '' } }, 'body.reason'],
      ['reason not a string', { body: { reason: 42 } }, 'body.reason'],
      ['reason too long', { body: { reason: 'x'.repeat(501) } }, 'body.reason'],
      ['unknown field', { body: { reason: 'ok', everything: true } }, 'body.everything'],
      ['array body', { body: ['abort'] }, 'body'],
      ['no body', { rawBody: '' }, undefined],
      ['broken JSON', { rawBody: '{"reason": ' }, undefined],
    ];
    for (const [what, o, field] of cases) {
      const res = await call<ErrorBody>(`${url}/api/abort`, { method: 'POST', ...o });
      expect(res.status, what).toBe(400);
      expect(res.body.error.code, what).toBe('bad_request');
      if (field) expect(res.body.error.field, what).toBe(field);
    }
    const form = await call<ErrorBody>(`${url}/api/abort`, { method: 'POST', rawBody: 'reason=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    expect((await call<{ active: boolean }>(`${url}/api/kill-switch`)).body).toEqual({ active: false });
  });

  it('clears the kill switch with DELETE (idempotent)', async () => {
    const res = await call<{ active: boolean }>(`${url}/api/kill-switch`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ active: false });
  });
});

describe('stream, metrics and queues', () => {
  it('streams server-sent events: the first one carries the active runs and the kill switch', async () => {
    const controller = new AbortController();
    const res = await fetch(`${url}/api/stream`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('\n\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    const first = text.slice(0, text.indexOf('\n\n'));
    const lines = first.split('\n');
    expect(lines[0]).toBe('event: active');
    const data = JSON.parse(lines.find((l) => l.startsWith('data: '))!.slice(6)) as { at: string; killSwitch: boolean; active: unknown[] };
    expect(data.killSwitch).toBe(false);
    expect(Array.isArray(data.active)).toBe(true);
    expect(Number.isNaN(Date.parse(data.at))).toBe(false);
  });

  it('exports run metrics on /metrics after runs', async () => {
    const res = await call<string>(`${url}/metrics`, { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/^# TYPE faultline_runs_total counter$/m);
    expect(res.body).toMatch(/^faultline_runs_total\{[^}]*fault="pod-kill"[^}]*outcome="succeeded"[^}]*\} [1-9]\d*$/m);
    expect(res.body).toMatch(/^faultline_runs_total\{[^}]*fault="scale-down"[^}]*outcome="aborted"[^}]*\} 1$/m);
  });

  it('guards bull-board at /queues: 401 without or with a wrong token, 200 with it', async () => {
    expect((await call(`${url}/queues`, { token: null })).status).toBe(401);
    expect((await call(`${url}/queues`, { token: 'nope' })).status).toBe(401);
    expect((await call(`${url}/queues/api/queues`, { token: null })).status).toBe(401);
    const page = await call<string>(`${url}/queues`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const api = await call<{ queues: { name: string }[] }>(`${url}/queues/api/queues`);
    expect(api.status).toBe(200);
    expect(api.body.queues.map((q) => q.name).sort()).toEqual(['plans', 'reconcile', 'runs']);
  });
});

describe('rate limiting', () => {
  it('answers 429 with a JSON error once the per-minute limit is spent', async () => {
    let limited: Awaited<ReturnType<typeof call<ErrorBody>>> | undefined;
    let ok = 0;
    // The default limit is 600 a minute per client; this file has used part of it already.
    for (let i = 0; i < 700 && !limited; i++) {
      const res = await call<ErrorBody>(`${url}/api/runs?limit=1`); // the kill switch is never limited for a token holder
      if (res.status === 429) limited = res;
      else {
        expect(res.status).toBe(200);
        ok++;
      }
    }
    expect(limited, `no 429 after ${ok} requests`).toBeDefined();
    expect(limited!.headers.get('content-type')).toMatch(/application\/json/);
    expect(limited!.body.error.code).toBe('rate_limited');
    expect(limited!.body.error.message).toMatch(/rate limit/);
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    // Health checks are not rate limited.
    expect((await call(`${url}/healthz`, { token: null })).status).toBe(200);
  });
});
