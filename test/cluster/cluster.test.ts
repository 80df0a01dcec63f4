// The cluster stage against the simulator, through @kubernetes/client-node over HTTP.
import { AppsV1Api, CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetResolver, emitEvent, LeaderElector } from '../../src/cluster/index.js';
import type { ClusterTargetResolver } from '../../src/cluster/types.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { waitFor } from '../helpers/wait.js';

let sim: Simulator;
let resolver: ClusterTargetResolver;

beforeAll(async () => {
  sim = await startSimulator({ recreateDelayMs: 200, readyDelayMs: 100 });
  resolver = createTargetResolver(sim.kubeConfig());
  await resolver.ready();
});
afterAll(async () => {
  resolver?.close();
  await sim?.close();
});

const checkout = { namespace: 'shop', selector: { matchLabels: { app: 'checkout' } } };

describe('target resolver (watch cache)', () => {
  it('30% of 4 checkout pods = 2, owned by Deployment/checkout through its ReplicaSet', async () => {
    const pods = await sim.kubeConfig().makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' });
    const names = pods.items.map((p) => p.metadata!.name!);
    const r = resolver.resolve({ ...checkout, mode: { type: 'percent', value: 30 } }, 42);
    expect(r.candidates).toBe(4);
    expect(r.pods).toHaveLength(2);
    for (const p of r.pods) {
      expect(names).toContain(p.name);
      expect(p.owner).toEqual({ kind: 'Deployment', name: 'checkout' });
      expect(p.ready).toBe(true);
    }
    expect(r.refs.map((t) => t.owner)).toEqual(['Deployment/checkout', 'Deployment/checkout']);
    expect(r.workloads).toEqual([{ workload: 'Deployment/checkout', namespace: 'shop', ready: 4, total: 4 }]);
    expect(r.blastRadius).toEqual([{ workload: 'Deployment/checkout', namespace: 'shop', hit: 2, ready: 4, percent: 50 }]);
  });

  it('same seed → same pods; StatefulSet owner; matchExpressions; other modes', () => {
    const a = resolver.resolve({ ...checkout, mode: { type: 'fixed', value: 2 } }, 7).pods.map((p) => p.name);
    expect(resolver.resolve({ ...checkout, mode: { type: 'fixed', value: 2 } }, 7).pods.map((p) => p.name)).toEqual(a);
    const seeds = new Set(Array.from({ length: 20 }, (_, s) => resolver.resolve({ ...checkout, mode: { type: 'one' } }, s).pods[0]!.name));
    expect(seeds.size).toBeGreaterThan(1);
    const db = resolver.resolve({ namespace: 'shop', selector: { matchLabels: { app: 'orders-db' } }, mode: { type: 'all' } }, 1);
    expect(db.pods.map((p) => [p.name, p.owner])).toEqual([['orders-db-0', { kind: 'StatefulSet', name: 'orders-db' }]]);
    const expr = resolver.resolve({ namespace: 'shop', selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['cart', 'catalog'] }] }, mode: { type: 'all' } }, 1);
    expect(expr.candidates).toBe(5);
    expect(expr.workloads.map((w) => `${w.workload}=${w.ready}`)).toEqual(['Deployment/cart=3', 'Deployment/catalog=2']);
    expect(resolver.resolve({ namespace: 'shop', selector: { matchLabels: { app: 'nope' } }, mode: { type: 'all' } }, 1).candidates).toBe(0);
  });

  it('namespace labels and PDB status come from the cache', () => {
    expect(resolver.namespaceLabels('shop')?.['faultline.dev/chaos']).toBe('enabled');
    expect(resolver.namespaceLabels('legacy')?.['faultline.dev/chaos']).toBeUndefined();
    expect(resolver.namespaceLabels('does-not-exist')).toBeUndefined();
    const r = resolver.resolve({ ...checkout, mode: { type: 'fixed', value: 2 } }, 3);
    expect(resolver.disruptionBudgets('shop', r.pods)).toEqual([{ name: 'checkout-pdb', namespace: 'shop', minAvailable: 3, expected: 4, healthy: 4, hit: 2 }]);
    const cart = resolver.resolve({ namespace: 'shop', selector: { matchLabels: { app: 'cart' } }, mode: { type: 'one' } }, 3);
    expect(resolver.disruptionBudgets('shop', cart.pods)).toEqual([]);
  });

  it('reflects a pod deletion through the watch, then the replacement', async () => {
    const core = sim.kubeConfig().makeApiClient(CoreV1Api);
    const before = resolver.resolve({ ...checkout, mode: { type: 'all' } }, 1).pods.map((p) => p.name);
    const victim = before[0]!;
    await core.deleteNamespacedPod({ name: victim, namespace: 'shop', gracePeriodSeconds: 0 });
    await waitFor('the deleted pod to leave the cache', () => !resolver.resolve({ ...checkout, mode: { type: 'all' } }, 1).pods.some((p) => p.name === victim));
    const after = await waitFor('the ReplicaSet replacement to be Ready in the cache', () => {
      const r = resolver.resolve({ ...checkout, mode: { type: 'all' } }, 1);
      return r.candidates === 4 && r;
    });
    expect(after.pods.map((p) => p.name)).not.toContain(victim);
    expect(after.workloads[0]).toMatchObject({ ready: 4, total: 4 });
  });

  it('a scale-up shows up as new candidates', async () => {
    const apps = sim.kubeConfig().makeApiClient(AppsV1Api);
    const d = await apps.readNamespacedDeployment({ name: 'payments', namespace: 'shop' });
    d.spec!.replicas = 3;
    await apps.replaceNamespacedDeployment({ name: 'payments', namespace: 'shop', body: d });
    await waitFor('3 ready payments pods', () => resolver.resolve({ namespace: 'shop', selector: { matchLabels: { app: 'payments' } }, mode: { type: 'all' } }, 1).candidates === 3);
  });
});

describe('events', () => {
  it('writes core/v1 Events on the target and on a run record; never throws', async () => {
    const kc = sim.kubeConfig();
    const written = await emitEvent(kc, {
      involved: { kind: 'Pod', namespace: 'shop', name: 'checkout-x' },
      runRecord: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'faultline', name: 'run-123' },
      reason: 'ChaosInjected',
      message: 'pod-kill by checkout-pod-kill',
      type: 'Warning',
      runId: 'run-123',
      experiment: 'checkout-pod-kill',
    });
    expect(written).toBe(2);
    const core = kc.makeApiClient(CoreV1Api);
    const shop = await core.listNamespacedEvent({ namespace: 'shop' });
    const ev = shop.items.find((e) => e.involvedObject.name === 'checkout-x');
    expect(ev).toMatchObject({ reason: 'ChaosInjected', type: 'Warning', involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: 'shop' } });
    expect(ev!.metadata.annotations?.['faultline.dev/run-id']).toBe('run-123');
    const ns = await core.listNamespacedEvent({ namespace: 'faultline' });
    expect(ns.items.some((e) => e.involvedObject.name === 'run-123' && e.involvedObject.kind === 'ConfigMap')).toBe(true);
    // an unreachable cluster: logged, not thrown
    const dead = sim.kubeConfig();
    dead.clusters[0] = { ...dead.clusters[0]!, server: 'http://127.0.0.1:1' };
    await expect(emitEvent(dead, { involved: { kind: 'Node', name: 'node-1' }, reason: 'X', message: 'm', type: 'Normal', runId: 'r', experiment: 'e' })).resolves.toBe(0);
  });
});

describe('leader election on a Lease', () => {
  it('two electors, one leader; on stop the other takes over; times are MicroTime', async () => {
    const kc = sim.kubeConfig();
    const opts = { name: 'faultline-leader', namespace: 'faultline', leaseDurationSeconds: 2, renewPeriodMs: 200, retryPeriodMs: 100 };
    const a = new LeaderElector(kc, { ...opts, identity: 'replica-a' });
    const b = new LeaderElector(kc, { ...opts, identity: 'replica-b' });
    const changes: string[] = [];
    a.onChange((l) => changes.push(`a:${l}`));
    b.onChange((l) => changes.push(`b:${l}`));
    a.start();
    await waitFor('a to lead', () => a.isLeader());
    b.start();
    // b keeps trying for a while and never leads while a renews
    for (let i = 0; i < 10; i++) {
      await b.tryAcquireOrRenew();
      expect(a.isLeader() && b.isLeader()).toBe(false);
    }
    expect(b.isLeader()).toBe(false);
    const lease = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: 'faultline-leader', namespace: 'faultline' });
    expect(lease.spec?.holderIdentity).toBe('replica-a');
    expect(String(lease.spec?.renewTime)).toMatch(/\.\d{6}Z$/);
    await a.stop();
    expect(a.isLeader()).toBe(false);
    await waitFor('b to take over', () => b.isLeader());
    await b.stop();
    expect(changes).toEqual(['a:true', 'a:false', 'b:true', 'b:false']);
  });

  it('a crashed leader (no release) is replaced after the lease expires', async () => {
    const kc = sim.kubeConfig();
    const opts = { name: 'crash-lease', namespace: 'faultline', leaseDurationSeconds: 1, renewPeriodMs: 200, retryPeriodMs: 100 };
    const a = new LeaderElector(kc, { ...opts, identity: 'a' });
    expect(await a.tryAcquireOrRenew()).toBe(true);
    // a "crashes": never renews again, never releases
    const b = new LeaderElector(kc, { ...opts, identity: 'b' });
    expect(await b.tryAcquireOrRenew()).toBe(false);
    const started = Date.now();
    b.start();
    await waitFor('b to take over the expired lease', () => b.isLeader());
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // not before the lease ran out
    const lease = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: 'crash-lease', namespace: 'faultline' });
    expect(lease.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await b.stop();
  });
});
