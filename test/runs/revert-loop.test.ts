// The revert loop on its own, in process: what it reverts, what it leaves (live runs, a held
// lock, an unreadable heartbeat, Redis away), how it backs off a revert that fails, and what it
// tells the metrics and the log. The cluster is the simulator; Redis is REDIS_URL.
import { AppsV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAULT_DRIVERS } from '../../src/faults/index.js';
import type { FaultContext, Injection } from '../../src/faults/types.js';
import { silentLogger } from '../../src/log.js';
import { faultsOverdue, revertAttempts, revertsPending } from '../../src/metrics.js';
import { FaultLedger, RevertLoop, type RevertLoopOptions } from '../../src/runs/index.js';
import { SafetyState } from '../../src/safety/index.js';
import { deletePrefix, testPrefix } from '../queue/redis-helpers.js';
import { waitFor } from '../helpers/wait.js';
import { startWorld, type World } from './helpers.js';

let w: World;
let prefix: string;
let ledger: FaultLedger;
beforeAll(async () => { w = await startWorld(); }, 60_000);
afterAll(async () => { await w?.close(); });
beforeEach(async () => {
  // a fresh prefix per test; scale every deployment back so earlier tests' faults do not count
  prefix = testPrefix('revert-loop');
  ledger = new FaultLedger(w.redis, prefix);
  await new RevertLoop({ kc: w.sim.kubeConfig(), redis: w.redis, prefix, log: silentLogger, isLocal: () => false }).pass();
  await deletePrefix(w.redis, prefix);
});

const apps = () => w.sim.kubeConfig().makeApiClient(AppsV1Api);
const replicas = async (name: string) => (await apps().readNamespacedDeployment({ namespace: 'shop', name })).spec?.replicas;

/** Injects a scale-down the way the executor does (ledger, then cluster) and "dies". */
async function scaleDown(runId: string, app: string, opts: { ledger?: boolean } = {}): Promise<Injection> {
  const kc = w.sim.kubeConfig();
  // an earlier test's revert brings the pods back: wait until the resolver sees one
  const targets = await waitFor(`a ${app} pod`, () => {
    const t = w.resolver.resolve({ namespace: 'shop', selector: { matchLabels: { app } }, mode: { type: 'one' } }, 1);
    return t.pods.length > 0 && t;
  });
  const ctx: FaultContext = {
    kc, runId, experiment: `${app}-scale`, params: { replicas: 0 }, durationMs: 60_000, injectorImage: 'x', log: silentLogger, targets,
  };
  const inj = await FAULT_DRIVERS['scale-down'].prepare(ctx);
  if (opts.ledger !== false) await ledger.write(inj);
  await FAULT_DRIVERS['scale-down'].inject(ctx, inj);
  return inj;
}

/** A ledger entry no driver can revert (the revert fails every time, with a clear reason). */
const unrevertable = (runId: string, expiresAt = new Date().toISOString()): Injection =>
  ({ runId, experiment: 'ghost', fault: 'no-such-fault' as Injection['fault'], touched: [{ kind: 'Node', name: 'node-1' }] as Injection['touched'], revertData: {}, expiresAt });

function loop(over: Partial<RevertLoopOptions> = {}): RevertLoop {
  return new RevertLoop({ kc: w.sim.kubeConfig(), redis: w.redis, prefix, log: silentLogger, isLocal: () => false, ...over });
}

function capture(): { log: RevertLoopOptions['log']; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) }) };
}

const gauge = async (g: typeof revertsPending) => (await g.get()).values[0]?.value;
const attempts = async (result: 'ok' | 'error') => (await revertAttempts.get()).values.find((v) => v.labels.by === 'loop' && v.labels.result === result)?.value ?? 0;

/** A client to a Redis that is not there: every command fails at once. */
function deadRedis(): Redis {
  const r = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  return r;
}

describe('what a pass reverts', () => {
  it('a dead run is reverted, its slot and workload locks freed, and the log says what was touched', async () => {
    const runId = 'dead.1111111111111111.once';
    const inj = await scaleDown(runId, 'cart');
    const state = new SafetyState(w.redis, { prefix, maxConcurrentRuns: 5 });
    await state.acquireSlot(runId, 60_000);
    await state.lockWorkloads(['shop/Deployment/cart'], runId, 60_000);
    await state.lockWorkloads(['shop/Deployment/catalog'], 'someone-else', 60_000);
    const okBefore = await attempts('ok');
    const { log, lines } = capture();

    expect(await loop({ log }).pass()).toEqual({ reverted: [runId], failed: [], live: [], waiting: [] });
    expect(await replicas('cart')).toBe(3);
    expect((await ledger.list()).entries).toEqual([]);
    expect(await state.activeRuns()).toEqual([]);
    expect(await state.lockedWorkloads()).toEqual(['shop/Deployment/catalog']);
    expect(await attempts('ok')).toBe(okBefore + 1);
    expect(await gauge(revertsPending)).toBe(0);
    const reverting = lines.find((l) => l.msg === 'revert loop: reverting a fault whose run is not live');
    expect(reverting).toMatchObject({ runId, experiment: 'cart-scale', fault: 'scale-down', touched: inj.touched.map((t) => `${t.kind}/shop/${t.name}`) });
    expect(inj.touched.length).toBeGreaterThan(0);
    expect(lines.find((l) => l.msg === 'revert loop: reverted')).toMatchObject({ runId, fault: 'scale-down' });
    // the revert lock was let go
    expect(await w.redis.exists(`${prefix}:revert-lock:${runId}`)).toBe(0);
    // and the next pass finds nothing (a pass's result is not reused)
    expect(await loop({ log }).pass()).toEqual({ reverted: [], failed: [], live: [], waiting: [] });
  });

  it('a fault the cluster marks but the ledger lost (Redis flushed) is reverted from the cluster', async () => {
    await scaleDown('flushed.2222222222222222.once', 'cart', { ledger: false });
    expect(await replicas('cart')).toBe(0);
    expect((await loop().pass()).reverted).toEqual(['flushed.2222222222222222.once']);
    expect(await replicas('cart')).toBe(3);
  });

  it('a run executing here or with a fresh heartbeat is live and left alone', async () => {
    await scaleDown('local.3333333333333333.once', 'cart');
    await scaleDown('beating.4444444444444444.once', 'catalog');
    // the key the executor's heartbeat writes (src/runs/heartbeat.ts)
    await w.redis.set(`${prefix}:run-heartbeat:beating.4444444444444444.once`, '1', 'PX', 60_000);
    const r = await loop({ isLocal: (id) => id.startsWith('local.') }).pass();
    expect(r).toEqual({ reverted: [], failed: [], live: expect.arrayContaining(['local.3333333333333333.once', 'beating.4444444444444444.once']) as string[], waiting: [] });
    expect(r.live).toHaveLength(2);
    expect(await replicas('cart')).toBe(0);
  });

  it('a run whose heartbeat cannot be read counts as live: its fault is not reverted on a guess', async () => {
    await scaleDown('unknown.5555555555555555.once', 'cart');
    const flaky = new Proxy(w.redis, {
      get(target, key, receiver) {
        if (key === 'exists') return () => Promise.reject(new Error('LOADING Redis is loading the dataset in memory'));
        const v = Reflect.get(target, key, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    expect(await loop({ redis: flaky }).pass()).toEqual({ reverted: [], failed: [], live: ['unknown.5555555555555555.once'], waiting: [] });
    expect(await replicas('cart')).toBe(0);
  });

  it('another replica holding the revert lock makes the fault wait, not revert twice', async () => {
    const runId = 'locked.6666666666666666.once';
    await scaleDown(runId, 'cart');
    await w.redis.set(`${prefix}:revert-lock:${runId}`, 'other-replica', 'PX', 60_000);
    expect(await loop().pass()).toEqual({ reverted: [], failed: [], live: [], waiting: [runId] });
    expect(await replicas('cart')).toBe(0);
    expect(await gauge(revertsPending)).toBe(1);
    await w.redis.del(`${prefix}:revert-lock:${runId}`);
    expect((await loop().pass()).reverted).toEqual([runId]);
  });

  it('a run record that cannot be ended is logged; the fault still counts as reverted', async () => {
    const { log, lines } = capture();
    await scaleDown('record.7777777777777777.once', 'cart');
    const r = await loop({ log, onReverted: () => Promise.reject(new Error('run store away')) }).pass();
    expect(r.reverted).toEqual(['record.7777777777777777.once']);
    expect(lines.find((l) => l.msg === 'revert loop: could not end the run record')).toMatchObject({ runId: 'record.7777777777777777.once', err: 'run store away' });
  });

  it('concurrent calls share one pass', async () => {
    await scaleDown('shared.8888888888888888.once', 'cart');
    const l = loop();
    const [a, b] = [l.pass(), l.pass()];
    expect(a).toBe(b);
    expect((await a).reverted).toEqual(['shared.8888888888888888.once']);
  });
});

describe('marked objects without revert data', () => {
  it('are logged for a human by name and left alone', async () => {
    await apps().patchNamespacedDeployment({ namespace: 'shop', name: 'payments', body: { metadata: { labels: { 'faultline.dev/run-id': 'lost.1' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const { log, lines } = capture();
    try {
      expect(await loop({ log }).pass()).toEqual({ reverted: [], failed: [], live: [], waiting: [] });
      const broken = lines.find((l) => l.msg === 'revert loop: object marked by a run without readable revert data; left for a human');
      expect(broken).toMatchObject({ object: expect.stringContaining('payments') as string });
      expect(typeof broken?.err).toBe('string');
    } finally {
      await apps().patchNamespacedDeployment({ namespace: 'shop', name: 'payments', body: { metadata: { labels: { 'faultline.dev/run-id': null } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    }
  });
});

describe('a revert that fails', () => {
  it('is retried with growing backoff up to the cap, named with its reason, and the attempts are logged', async () => {
    const runId = 'ghost.9999999999999999.once';
    await ledger.write(unrevertable(runId));
    const { log, lines } = capture();
    const l = loop({ log, maxBackoffMs: 600 });
    const errorsBefore = await attempts('error');

    expect(await l.pass()).toEqual({ reverted: [], failed: [{ runId, error: 'unknown fault type no-such-fault' }], live: [], waiting: [] });
    expect(await gauge(revertsPending)).toBe(1);
    // right after a failure it backs off
    expect(await l.pass()).toEqual({ reverted: [], failed: [], live: [], waiting: [runId] });
    await waitFor('the second attempt', async () => (await l.pass()).failed.length === 1);
    await waitFor('the third attempt', async () => (await l.pass()).failed.length === 1);
    const failures = lines.filter((x) => x.msg === 'revert loop: revert failed; retrying');
    expect(failures.map((x) => [x.attempts, x.retryInMs])).toEqual([[1, 500], [2, 600], [3, 600]]);
    expect(failures[0]).toMatchObject({ runId, experiment: 'ghost', fault: 'no-such-fault', err: 'unknown fault type no-such-fault' });
    expect(await attempts('error')).toBe(errorsBefore);  // no driver was called: not a revert attempt
  });

  it('with the API server away the ledger still names the fault: its revert fails, counts as an error, and the entry stays', async () => {
    const runId = 'apigone.aaaaaaaaaaaaaaaa.once';
    const inj = await scaleDown(runId, 'cart');
    const away = new KubeConfig();
    away.loadFromClusterAndUser({ name: 'away', server: 'http://127.0.0.1:1', skipTLSVerify: true }, { name: 'u' });
    const { log, lines } = capture();
    const before = await attempts('error');
    const cordon: Injection = { runId: 'cordon.1.once', experiment: 'node-cordon', fault: 'node-cordon', touched: [{ kind: 'Node', name: 'node-1' }] as Injection['touched'], revertData: {}, expiresAt: new Date().toISOString() };
    await ledger.write(cordon);
    const r = await loop({ kc: away, log }).pass();
    expect(r.reverted).toEqual([]);
    expect(r.failed.map((f) => f.runId).sort()).toEqual([runId, 'cordon.1.once']);
    expect(await attempts('error')).toBe(before + 2);
    expect((await ledger.list()).entries.find((e) => e.runId === runId)).toEqual(inj);
    // a cluster-scoped object is named without a namespace
    expect(lines.find((x) => x.msg === 'revert loop: reverting a fault whose run is not live' && x.runId === 'cordon.1.once')).toMatchObject({ touched: ['Node/node-1'] });
    await ledger.remove('cordon.1.once');
    expect(lines.some((l) => l.msg === 'revert loop: could not list marked objects in the cluster' && typeof l.err === 'string')).toBe(true);
    expect((await loop().pass()).reverted).toEqual([runId]); // back: reverted
  });

  it('backoff is forgotten once the fault is gone or its run is live again: a new fault of that run is tried at once', async () => {
    const runId = 'again.bbbbbbbbbbbbbbbb.once';
    const l = loop({ maxBackoffMs: 60_000 });
    await ledger.write(unrevertable(runId));
    expect((await l.pass()).failed).toHaveLength(1);
    await ledger.remove(runId);
    expect(await l.pass()).toEqual({ reverted: [], failed: [], live: [], waiting: [] });
    await scaleDown(runId, 'cart');
    expect((await l.pass()).reverted).toEqual([runId]);

    const live = { value: false };
    const l2 = loop({ maxBackoffMs: 60_000, isLocal: () => live.value });
    const other = 'again2.cccccccccccccccc.once';
    await ledger.write(unrevertable(other));
    expect((await l2.pass()).failed).toHaveLength(1);
    live.value = true;
    expect((await l2.pass()).live).toEqual([other]);
    live.value = false;
    expect((await l2.pass()).failed).toHaveLength(1); // tried at once, not waiting
  });
});

describe('Redis away', () => {
  it('nothing is reverted (live runs cannot be told from dead ones); the faults the cluster shows are pending', async () => {
    await scaleDown('a.dddddddddddddddd.once', 'cart');
    await scaleDown('b.eeeeeeeeeeeeeeee.once', 'catalog');
    await scaleDown('c.eeeeeeeeeeeeeeee.once', 'frontend');
    const redis = deadRedis();
    const { log, lines } = capture();
    const r = await loop({ redis, log, isLocal: (id) => id.startsWith('a.') }).pass();
    expect(r.reverted).toEqual([]);
    expect(r.live).toEqual([]);
    expect(r.waiting).toEqual([]);
    expect(r.skipped).toMatch(/^redis: /);
    expect(r.skipped).not.toMatch(/timed out/);
    expect(await gauge(revertsPending)).toBe(2); // the two not executing here
    expect(await replicas('cart')).toBe(0);
    expect(lines.find((l) => /Redis unreachable/.test(String(l.msg)))).toMatchObject({ faults: 3, reason: r.skipped });
    redis.disconnect();
  });

  it('a ledger read that hangs is given up after 3 s and named', async () => {
    const hanging = new Proxy(w.redis, {
      get(target, key, receiver) {
        if (key === 'hgetall' || key === 'hscan' || key === 'hvals') return () => new Promise(() => undefined);
        const v = Reflect.get(target, key, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const r = await loop({ redis: hanging }).pass();
    expect(r.skipped).toBe('redis: reading the fault ledger timed out after 3000ms');
  }, 20_000);
});

describe('overdue faults', () => {
  it('a fault in place longer than the grace after its end counts as overdue; pod-kill (instant) never does', async () => {
    const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
    await ledger.write(unrevertable('old.1.once', ago(120_000)));
    await ledger.write(unrevertable('older.5.once', ago(600_000)));
    await ledger.write(unrevertable('recent.2.once', ago(30_000)));
    await ledger.write(unrevertable('future.3.once', new Date(Date.now() + 60_000).toISOString()));
    await ledger.write({ ...unrevertable('kill.4.once', ago(120_000)), fault: 'pod-kill' });
    await loop({ isLocal: () => true, overdueAfterMs: 60_000 }).pass();
    expect(await gauge(faultsOverdue)).toBe(2);
    await loop({ isLocal: () => true }).pass(); // default grace 5 min: only the one 10 min past its end
    expect(await gauge(faultsOverdue)).toBe(1);
  });
});

describe('the background loop', () => {
  it('reverts on its own once started, and stop() ends it: a fault left after stop stays', async () => {
    const l = loop({ intervalMs: 20 });
    await l.stop(); // stopping a loop that never ran is fine
    l.start();
    await scaleDown('bg.ffffffffffffffff.once', 'cart');
    await waitFor('the loop reverted it', async () => (await replicas('cart')) === 3 || undefined);
    // and keeps going: a later fault is reverted by a later pass
    await scaleDown('bg2.ffffffffffffffff.once', 'catalog');
    await waitFor('the loop reverted the second', async () => (await replicas('catalog')) === 2 || undefined);
    await l.stop();
    await scaleDown('after.0000000000000009.once', 'catalog');
    await new Promise((r) => setTimeout(r, 200)); // ten intervals
    expect(await replicas('catalog')).toBe(0);
    expect((await ledger.list()).entries.map((e) => e.runId)).toEqual(['after.0000000000000009.once']);
  });
});
