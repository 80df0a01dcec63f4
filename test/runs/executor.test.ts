// The run executor end to end against the simulator (client-node over HTTP) and real Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { ABORT_COMMAND, NETWORK_DELAY_SCRIPT, READ_RESULT_COMMAND, RUN_ANNOTATION, shortRunId } from '../../src/faults/index.js';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { FaultLedger } from '../../src/runs/index.js';
import { RUN_PHASES } from '../../src/runs/executor.js';
import type { RunRecord } from '../../src/runs/types.js';
import { healthServer, job, onState, startWorld, type World } from './helpers.js';
import { waitFor } from '../helpers/wait.js';

const states = (r: RunRecord) => r.timeline.map((t) => t.state);
const checkout = { namespace: 'shop', selector: { matchLabels: { app: 'checkout' } } };

describe('pod-kill (shop without the checkout PDB)', () => {
  let w: World;
  beforeAll(async () => { w = await startWorld({ withoutPdb: true }); });
  afterAll(async () => { await w?.close(); });

  it('kills exactly 30% of 4 checkout pods = 2, the ReplicaSet recovers, recovery time recorded', async () => {
    const core = w.sim.kubeConfig().makeApiClient(CoreV1Api);
    const before = new Set((await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' })).items.map((p) => p.metadata!.uid!));
    const rec = await w.executor().execute(job('checkout-pod-kill', { type: 'pod-kill', params: { gracePeriodSeconds: 0 } }, { ...checkout, mode: { type: 'percent', value: 30 } }), new AbortController().signal);
    expect(rec).toMatchObject({ state: 'Succeeded', outcome: 'succeeded' });
    expect(states(rec)).toEqual(['Pending', 'Validating', 'Injecting', 'Running', 'Reverting', 'Succeeded']);
    expect(rec.targets).toHaveLength(2);
    expect(typeof rec.seed).toBe('number');
    expect(rec.blastRadius).toEqual([{ workload: 'Deployment/checkout', namespace: 'shop', hit: 2, ready: 4, percent: 50 }]);
    expect(rec.recoveryMs).toBeGreaterThan(0);
    const after = (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' })).items;
    const killed = rec.targets.map((t) => t.name);
    expect(after.filter((p) => killed.includes(p.metadata!.name!) && before.has(p.metadata!.uid!))).toHaveLength(0);
    expect(after.filter((p) => before.has(p.metadata!.uid!))).toHaveLength(2);
    expect((await w.sim.kubeConfig().makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: 'shop', name: 'checkout' })).status?.readyReplicas).toBe(4);
    expect(await new FaultLedger(w.redis, w.prefix).list()).toEqual({ entries: [], broken: [] });
    // listeners heard every transition
    expect([...new Set(w.records.filter((r) => r.id === rec.id).map((r) => r.state))]).toEqual(states(rec));
  });
});

describe('pod-kill with respectPdb when the budget is spent after the guards looked', () => {
  let w: World;
  beforeAll(async () => { w = await startWorld(); });
  afterAll(async () => { await w?.close(); });

  it('the API server refuses the eviction (429): the run fails naming the budget, nothing is killed', async () => {
    const core = w.sim.kubeConfig().makeApiClient(CoreV1Api);
    const before = (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' })).items.map((p) => p.metadata!.uid).sort();
    // The guard passed (checkout-pdb allows one); then another team tightens the budget.
    const tighten = onState('Injecting', () => {
      w.sim.store.mutate('poddisruptionbudgets', 'shop', 'checkout-pdb', (o) => { (o.spec as { minAvailable: number }).minAvailable = 4; });
    });
    const rec = await w.executor({ listeners: [tighten] }).execute(
      job('co-evict', { type: 'pod-kill', params: { gracePeriodSeconds: 0, respectPdb: true } }, { ...checkout, mode: { type: 'one' } }),
      new AbortController().signal,
    );
    console.log(`[figure] pod-kill respectPdb with a spent budget: ${rec.state} (${rec.reasonCode}): ${rec.reason}`);
    expect(rec).toMatchObject({ state: 'Failed', outcome: 'failed', reasonCode: 'InjectFailed' });
    expect(rec.reason).toMatch(/^fault not in place on 1 of 1 target\(s\): shop\/checkout-[^:]+: eviction refused: Cannot evict pod as it would violate the pod's disruption budget\. The disruption budget checkout-pdb /);
    const after = (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' })).items.map((p) => p.metadata!.uid).sort();
    expect(after).toEqual(before);
    expect(await new FaultLedger(w.redis, w.prefix).list()).toEqual({ entries: [], broken: [] });
  });
});

describe('the run goes through named phases', () => {
  let w: World;
  beforeAll(async () => { w = await startWorld({ withoutPdb: true }); });
  afterAll(async () => { await w?.close(); });

  const phasesOf = async (j: ReturnType<typeof job>) => {
    const lines: { msg: string; phase?: string; runId?: string }[] = [];
    const sink = new Writable({ write(chunk: Buffer, _e, done) { for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l)); done(); } });
    const rec = await w.executor({ log: pino({ level: 'debug' }, sink) }).execute(j, new AbortController().signal);
    return { rec, phases: lines.filter((l) => l.phase && l.runId === j.runId).map((l) => l.phase) };
  };

  it('a run that ends well: acquire, before-probes, inject, hold, revert, recover', async () => {
    const { rec, phases } = await phasesOf(job('phases-ok', { type: 'pod-kill' }, { ...checkout, mode: { type: 'one' } }));
    expect(rec.state).toBe('Succeeded');
    expect(phases).toEqual([...RUN_PHASES]);
  });

  it('a run a guard refuses skips to revert and recover', async () => {
    const { rec, phases } = await phasesOf(job('phases-refused', { type: 'pod-kill' }, { namespace: 'kube-system', selector: { matchLabels: { 'k8s-app': 'kube-dns' } }, mode: { type: 'one' } }));
    expect(rec).toMatchObject({ state: 'Failed', reasonCode: 'GuardRefused' });
    expect(phases).toEqual(['acquire', 'revert', 'recover']);
  });
});

describe('guards stop a run with a reason and inject nothing', () => {
  let w: World;
  beforeAll(async () => { w = await startWorld(); });
  afterAll(async () => { await w?.close(); });

  const refusedRun = async (j: ReturnType<typeof job>, guard: RegExp) => {
    const rec = await w.executor().execute(j, new AbortController().signal);
    expect(rec.state).toBe('Failed');
    expect(states(rec)).toEqual(['Pending', 'Validating', 'Reverting', 'Failed']);
    expect(rec.reason).toMatch(guard);
    expect(rec.timeline.find((t) => t.state === 'Reverting')!.message).toMatch(/^nothing injected/);
    expect(await new FaultLedger(w.redis, w.prefix).list()).toEqual({ entries: [], broken: [] });
    expect(w.sim.store.list('pods', {}).every((p) => !p.metadata.deletionTimestamp)).toBe(true);
    return rec;
  };

  it('protected namespace (kube-system, even though it is opted in)', async () => {
    await refusedRun(job('dns', { type: 'pod-kill' }, { namespace: 'kube-system', selector: { matchLabels: { 'k8s-app': 'kube-dns' } }, mode: { type: 'one' } }), /protected-namespace: namespace kube-system is protected/);
  });
  it('partition peers in a protected namespace (the peers are only read, but a cut from kube-system pods is refused)', async () => {
    await refusedRun(
      job('cut-dns', { type: 'network-partition', params: { peers: { namespace: 'kube-system', selector: { matchLabels: { 'k8s-app': 'kube-dns' } } } } }, { namespace: 'shop', selector: { matchLabels: { app: 'payments' } }, mode: { type: 'one' } }),
      /protected-namespace: peer namespace kube-system is protected/,
    );
  });
  it('namespace without opt-in', async () => {
    await refusedRun(job('billing', { type: 'pod-kill' }, { namespace: 'legacy', selector: { matchLabels: { app: 'billing' } }, mode: { type: 'one' } }), /opt-in: namespace legacy lacks the opt-in label/);
  });
  it('blast radius over the cap (experiment tightens it)', async () => {
    await refusedRun(job('cart-all', { type: 'pod-kill' }, { namespace: 'shop', selector: { matchLabels: { app: 'cart' } }, mode: { type: 'one' } }, { safety: { maxBlastRadiusPercent: 20 } }), /blast-radius: Deployment\/cart 1\/3 ready \(33.33%\) over the 20% cap \(experiment\)/);
  });
  it('the checkout PDB (2 of 4 would break minAvailable 3)', async () => {
    await refusedRun(job('co', { type: 'pod-kill' }, { ...checkout, mode: { type: 'fixed', value: 2 } }), /pdb: checkout-pdb/);
  });
  it('a locked workload', async () => {
    await w.safetyState.lockWorkloads(['shop/Deployment/frontend'], 'someone-else', 60_000);
    try {
      await refusedRun(job('fe', { type: 'pod-kill' }, { namespace: 'shop', selector: { matchLabels: { app: 'frontend' } }, mode: { type: 'one' } }), /lock: workload shop\/Deployment\/frontend is locked by another run/);
    } finally {
      await w.safetyState.releaseWorkloads(['shop/Deployment/frontend'], 'someone-else');
    }
  });
  it('a locked workload makes the run wait its turn (lockWait), then it runs once the lock is free', async () => {
    await w.safetyState.lockWorkloads(['shop/Deployment/frontend'], 'someone-else', 60_000);
    const running = w
      .executor({ lockWaitMs: 30_000 })
      .execute(job('fe-wait', { type: 'cpu-stress' }, { namespace: 'shop', selector: { matchLabels: { app: 'frontend' } }, mode: { type: 'one' } }, { duration: '1s' }), new AbortController().signal);
    // It says it is waiting, and has not injected anything while the lock is held.
    await waitFor('the run to say it waits for the lock', () => w.records.some((r) => r.id.includes('fe-wait') && r.timeline.some((t) => /^waiting: .*lock: workload shop\/Deployment\/frontend/.test(t.message))));
    expect(w.records.filter((r) => r.id.includes('fe-wait')).map((r) => r.state)).not.toContain('Injecting');
    await w.safetyState.releaseWorkloads(['shop/Deployment/frontend'], 'someone-else');
    const rec = await running;
    expect(rec).toMatchObject({ state: 'Succeeded', outcome: 'succeeded' });
    expect(states(rec)).toEqual(['Pending', 'Validating', 'Validating', 'Injecting', 'Running', 'Reverting', 'Succeeded']);
  });
  it('the freeze file and the kill switch', async () => {
    w.frozen.value = true;
    try {
      await refusedRun(job('fz', { type: 'pod-kill' }, { namespace: 'shop', selector: { matchLabels: { app: 'frontend' } }, mode: { type: 'one' } }), /freeze-file: the repository has .faultline\/freeze/);
    } finally {
      w.frozen.value = false;
    }
    await w.safetyState.setKillSwitch('game day over');
    try {
      await refusedRun(job('ks', { type: 'pod-kill' }, { namespace: 'shop', selector: { matchLabels: { app: 'frontend' } }, mode: { type: 'one' } }), /kill-switch/);
    } finally {
      await w.safetyState.clearKillSwitch();
    }
  });
  it('steady state not holding before injection', async () => {
    const h = await healthServer();
    h.status.code = 503;
    try {
      await refusedRun(job('pre', { type: 'pod-kill' }, { namespace: 'shop', selector: { matchLabels: { app: 'frontend' } }, mode: { type: 'one' } }, { probes: [{ name: 'up', http: { url: h.url } }] }), /steady state does not hold before injection: up: status 503/);
    } finally {
      await h.close();
    }
  });
});

describe('scale-down, node-cordon and http-fault revert on success, probe failure and abort', () => {
  let w: World;
  let health: Awaited<ReturnType<typeof healthServer>>;
  beforeAll(async () => {
    w = await startWorld();
    health = await healthServer();
  });
  afterAll(async () => {
    await health?.close();
    await w?.close();
  });

  const kc = () => w.sim.kubeConfig();
  const cartReplicas = async () => (await kc().makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: 'shop', name: 'cart' })).spec?.replicas;
  const cordoned = () => w.sim.store.list('nodes', {}).filter((n) => (n.spec as { unschedulable?: boolean }).unschedulable).map((n) => n.metadata.name);
  const vs = async () => (await kc().makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1beta1', plural: 'virtualservices', namespace: 'shop', name: 'checkout' })) as { metadata: { annotations?: Record<string, string> }; spec: { http: Record<string, unknown>[] } };

  const FAULTS = {
    'scale-down': {
      fault: { type: 'scale-down' as const, params: { replicas: 2 } },
      target: { namespace: 'shop', selector: { matchLabels: { app: 'cart' } }, mode: { type: 'one' as const } },
      active: async () => (await cartReplicas()) === 2,
      reverted: async () => (await cartReplicas()) === 3,
    },
    'node-cordon': {
      fault: { type: 'node-cordon' as const },
      target: { namespace: 'shop', selector: { matchLabels: { app: 'frontend' } }, mode: { type: 'one' as const } },
      active: async () => cordoned().length === 1,
      reverted: async () => cordoned().length === 0,
    },
    'http-fault': {
      fault: { type: 'http-fault' as const, params: { virtualService: 'checkout', abort: { httpStatus: 503, percent: 50 } } },
      target: { namespace: 'shop', selector: { matchLabels: { app: 'checkout' } }, mode: { type: 'one' as const } },
      active: async () => !!(await vs()).spec.http[0]!.fault,
      reverted: async () => { const v = await vs(); return !v.spec.http[0]!.fault && !v.metadata.annotations?.[RUN_ANNOTATION]; },
    },
  };

  for (const [name, f] of Object.entries(FAULTS)) {
    it(`${name}: success`, async () => {
      let seenActive = false;
      const ex = w.executor();
      const probe = { name: 'fault-visible', kubernetes: { namespace: 'shop', kind: 'Deployment' as const, name: 'cart', minReadyReplicas: 0 }, interval: '100ms' };
      const p = ex.execute(job(`${name}-ok`, f.fault, f.target, { duration: '2s', probes: [probe] }), new AbortController().signal);
      await waitFor('fault active', async () => (seenActive = await f.active()) || undefined);
      const rec = await p;
      expect(seenActive).toBe(true);
      expect(rec).toMatchObject({ state: 'Succeeded', outcome: 'succeeded' });
      expect(states(rec)).toEqual(['Pending', 'Validating', 'Injecting', 'Running', 'Reverting', 'Succeeded']);
      expect(await f.reverted()).toBe(true);
      expect(rec.probes.map((s) => s.phase)).toEqual(['before', 'during', 'after']);
      expect(rec.recoveryMs).toBeGreaterThanOrEqual(0);
      expect((await new FaultLedger(w.redis, w.prefix).list()).entries).toEqual([]);
    });

    it(`${name}: a failing during-probe fails the run and reverts`, async () => {
      health.status.code = 200;
      const ex = w.executor({ listeners: [onState('Running', () => { health.status.code = 500; })] });
      const rec = await ex.execute(job(`${name}-probe`, f.fault, f.target, { duration: '30s', probes: [{ name: 'checkout-up', http: { url: health.url }, interval: '50ms', failureThreshold: 2 }] }), new AbortController().signal);
      health.status.code = 200;
      expect(rec.state).toBe('Failed');
      expect(states(rec)).toEqual(['Pending', 'Validating', 'Injecting', 'Running', 'Reverting', 'Failed']);
      expect(rec.reason).toBe('steady state lost: probe checkout-up failed 2 times in a row: status 500, expected 2xx');
      expect(rec.probes.find((s) => s.phase === 'during')).toMatchObject({ name: 'checkout-up', ok: false });
      expect(await f.reverted()).toBe(true);
      expect((await new FaultLedger(w.redis, w.prefix).list()).entries).toEqual([]);
    });

    it(`${name}: abort (signal) reverts`, async () => {
      const ac = new AbortController();
      const ex = w.executor({ listeners: [onState('Running', () => ac.abort(new Error('operator said stop')))] });
      const rec = await ex.execute(job(`${name}-abort`, f.fault, f.target, { duration: '30s' }), ac.signal);
      expect(rec).toMatchObject({ state: 'Aborted', outcome: 'aborted', reason: 'aborted: operator said stop' });
      expect(states(rec)).toEqual(['Pending', 'Validating', 'Injecting', 'Running', 'Reverting', 'Aborted']);
      expect(await f.reverted()).toBe(true);
      expect((await new FaultLedger(w.redis, w.prefix).list()).entries).toEqual([]);
      expect(await w.safetyState.lockedWorkloads()).toEqual([]);
      expect(await w.safetyState.activeRuns()).toEqual([]);
    });
  }

  it('the kill switch set while Running aborts and reverts', async () => {
    const ex = w.executor({ listeners: [onState('Running', () => void w.safetyState.setKillSwitch('stop everything'))] });
    try {
      const rec = await ex.execute(job('ks-running', FAULTS['scale-down'].fault, FAULTS['scale-down'].target, { duration: '30s' }), new AbortController().signal);
      expect(rec).toMatchObject({ state: 'Aborted', reason: 'aborted: kill switch: stop everything' });
      expect(await cartReplicas()).toBe(3);
    } finally {
      await w.safetyState.clearKillSwitch();
    }
  });

  it('the freeze flag set while three runs of one executor hold their faults stops all three', async () => {
    let frozenReads = 0;
    const running = new Set<string>();
    const ex = w.executor({ isFrozen: async () => (frozenReads++, w.frozen.value), listeners: [{ onRunUpdate: (r) => void (r.state === 'Running' && running.add(r.id)) }] });
    const kill = (name: string, app: string) => job(name, { type: 'pod-kill' }, { namespace: 'shop', selector: { matchLabels: { app } }, mode: { type: 'one' } }, { duration: '60s' });
    try {
      const done = ['frontend', 'cart', 'catalog'].map((app, i) => ex.execute(kill(`shared-${i}`, app), new AbortController().signal));
      const deadline = Date.now() + 30_000;
      while (running.size < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(running.size).toBe(3);
      w.frozen.value = true;
      const recs = await Promise.all(done);
      for (const rec of recs) expect(rec).toMatchObject({ state: 'Aborted', reasonCode: expect.any(String) });
      expect(recs.map((r) => r.reason)).toEqual(Array(3).fill(recs[0]!.reason));
      expect(recs[0]!.reason).toMatch(/freeze/);
    } finally {
      w.frozen.value = false;
    }
    expect(frozenReads).toBeGreaterThan(3); // the acquire checks, then the shared poll
  });

  it('one executor polls the kill switch once per interval for all its live runs', async () => {
    let reads = 0;
    const counted = new Proxy(w.safetyState, {
      get: (target, key, receiver) => {
        const v = Reflect.get(target, key, receiver) as unknown;
        if (key === 'killSwitch') return (...a: unknown[]) => (reads++, (v as (...x: unknown[]) => unknown).apply(target, a));
        return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
      },
    });
    const running = new Set<string>();
    const ex = w.executor({ safetyState: counted, stopCheckMs: 50, listeners: [{ onRunUpdate: (r) => void (r.state === 'Running' && running.add(r.id)) }] });
    const kill = (name: string, app: string) => job(name, { type: 'pod-kill' }, { namespace: 'shop', selector: { matchLabels: { app } }, mode: { type: 'one' } }, { duration: '3s' });
    const done = ['frontend', 'cart', 'catalog'].map((app, i) => ex.execute(kill(`poll-${i}`, app), new AbortController().signal));
    const deadline = Date.now() + 30_000;
    while (running.size < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(running.size).toBe(3);
    const from = reads;
    const t = performance.now();
    await new Promise((r) => setTimeout(r, 1000));
    const polls = reads - from;
    const intervals = (performance.now() - t) / 50;
    // One read per interval for the three runs (per-run polling would make it up to three).
    expect(polls).toBeGreaterThan(0);
    expect(polls).toBeLessThanOrEqual(Math.ceil(intervals) + 1);
    for (const rec of await Promise.all(done)) expect(rec.state).toBe('Succeeded');
  });

  it('an abort before injection ends the run with nothing injected', async () => {
    const ac = new AbortController();
    ac.abort(new Error('early'));
    const rec = await w.executor().execute(job('early', FAULTS['scale-down'].fault, FAULTS['scale-down'].target), ac.signal);
    expect(states(rec)).toEqual(['Pending', 'Validating', 'Reverting', 'Aborted']);
    expect(await cartReplicas()).toBe(3);
  });

  it('in-pod fault: ephemeral container with the exact argv that ends on its own when the duration is over', async () => {
    const j = job('pay-delay', { type: 'network-delay', params: { latency: '200ms', jitter: '0ms', correlation: 0, interface: 'eth0' } }, { namespace: 'shop', selector: { matchLabels: { app: 'payments' } }, mode: { type: 'one' } }, { duration: '2s' });
    const rec = await w.executor().execute(j, new AbortController().signal);
    expect(rec.state).toBe('Succeeded');
    const name = `faultline-${shortRunId(j.runId)}`;
    const pod = await kc().makeApiClient(CoreV1Api).readNamespacedPod({ namespace: 'shop', name: rec.targets[0]!.name });
    expect(pod.spec?.ephemeralContainers?.find((c) => c.name === name)?.command).toEqual(['/bin/sh', '-c', NETWORK_DELAY_SCRIPT, 'faultline', 'apply', expect.stringMatching(/^\d{10}$/), '2', 'eth0', '200', '0', '0']);
    // Running only after the injector said "applied" (read by exec); its own expiry ends it, the
    // revert only execs an abort into a container that is still running, so either way it is over.
    const execs = w.sim.execLog.filter((e) => e.container === name).map((e) => e.command);
    expect(execs[0]).toEqual([...READ_RESULT_COMMAND]);
    expect(execs.every((c) => [JSON.stringify([...ABORT_COMMAND]), JSON.stringify([...READ_RESULT_COMMAND])].includes(JSON.stringify(c)))).toBe(true);
    expect(pod.status?.ephemeralContainerStatuses?.find((c) => c.name === name)?.state?.terminated).toBeDefined();
  });

  it('network-partition peers: the IPs the selector resolved to are in the run\'s timeline and in the injector\'s argv', async () => {
    const core = kc().makeApiClient(CoreV1Api);
    // Earlier tests scale cart down and kill pods (some still terminating): peers are the live
    // pods, so wait until cart has its replicas live and compare with those.
    const live = async () => (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=cart' })).items
      .filter((p) => p.status?.phase === 'Running' && p.status.podIP && !p.metadata?.deletionTimestamp);
    await waitFor('cart settled', async () => {
      const want = (await kc().makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: 'shop', name: 'cart' })).spec?.replicas;
      return (await live()).length === want ? true : undefined;
    });
    const j = job('pay-cut-cart', { type: 'network-partition', params: { direction: 'egress', peers: { selector: { matchLabels: { app: 'cart' } } } } }, { namespace: 'shop', selector: { matchLabels: { app: 'payments' } }, mode: { type: 'one' } }, { duration: '2s' });
    const rec = await w.executor().execute(j, new AbortController().signal);
    expect(rec.state).toBe('Succeeded');
    const carts = (await live())
      .map((p) => ({ name: p.metadata!.name!, ip: p.status!.podIP! })).sort((a, b) => (a.name < b.name ? -1 : 1));
    const note = rec.timeline.find((t) => t.state === 'Injecting' && t.message.startsWith('peers '));
    expect(note?.message).toBe(`peers shop/app=cart resolved to ${carts.map((c) => `${c.name} ${c.ip}`).join(', ')}`);
    const pod = await core.readNamespacedPod({ namespace: 'shop', name: rec.targets[0]!.name });
    const cmd = pod.spec?.ephemeralContainers?.find((c) => c.name === `faultline-${shortRunId(j.runId)}`)?.command;
    expect(cmd?.slice(-carts.length)).toEqual(carts.map((c) => `${c.ip}/32`));
    expect(await new FaultLedger(w.redis, w.prefix).list()).toEqual({ entries: [], broken: [] });
  });

  it('in-pod fault: abort ends the ephemeral container early through exec', async () => {
    const ac = new AbortController();
    const j = job('pay-delay-abort', { type: 'network-delay', params: { latency: '200ms' } }, { namespace: 'shop', selector: { matchLabels: { app: 'payments' } }, mode: { type: 'one' } }, { duration: '60s' });
    const rec = await w.executor({ listeners: [onState('Running', () => ac.abort(new Error('stop now')))] }).execute(j, ac.signal);
    expect(rec).toMatchObject({ state: 'Aborted', outcome: 'aborted' });
    const name = `faultline-${shortRunId(j.runId)}`;
    expect(w.sim.execLog.filter((e) => e.container === name).map((e) => e.command).at(-1)).toEqual([...ABORT_COMMAND]);
    const pod = await kc().makeApiClient(CoreV1Api).readNamespacedPod({ namespace: 'shop', name: rec.targets[0]!.name });
    expect(pod.status?.ephemeralContainerStatuses?.find((c) => c.name === name)?.state?.terminated).toBeDefined();
  });
});
