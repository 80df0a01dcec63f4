// Fault drivers against the Kubernetes simulator through client-node: what each does to the
// cluster and that revert puts it back (idempotently).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { createTargetResolver } from '../../src/cluster/index.js';
import type { ClusterTargetResolver } from '../../src/cluster/types.js';
import { ABORT_COMMAND, FAULT_DRIVERS, NETWORK_DELAY_SCRIPT, READ_RESULT_COMMAND, RESULT_FILE, RUN_ANNOTATION, shortRunId } from '../../src/faults/index.js';
import type { FaultContext } from '../../src/faults/types.js';
import type { FaultType, Target } from '../../src/experiments/model.js';
import { silentLogger } from '../../src/log.js';
import { waitFor } from '../helpers/wait.js';

let sim: Simulator;
let kc: KubeConfig;
let resolver: ClusterTargetResolver;
let core: CoreV1Api;
let apps: AppsV1Api;
let custom: CustomObjectsApi;

beforeAll(async () => {
  sim = await startSimulator({ readyDelayMs: 20, recreateDelayMs: 100 });
  kc = sim.kubeConfig();
  resolver = createTargetResolver(kc);
  await resolver.ready();
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
});
afterAll(async () => {
  resolver?.close();
  await sim?.close();
});

const checkout = (mode: Target['mode'] = { type: 'all' }): Target => ({ namespace: 'shop', selector: { matchLabels: { app: 'checkout' } }, mode });
let n = 0;
function ctx(type: FaultType, params: Record<string, unknown>, target: Target, seed = 7): FaultContext {
  return {
    kc, runId: `drv-${type}.${String(++n).padStart(16, '0')}.once`, experiment: `drv-${type}`, params, durationMs: 2000,
    targets: resolver.resolve(target, seed), injectorImage: 'ghcr.io/faultline/agent:test', log: silentLogger, namespace: target.namespace,
  };
}
const readyCount = async (name: string) => (await apps.readNamespacedDeployment({ namespace: 'shop', name })).status?.readyReplicas ?? 0;

describe('pod-kill', () => {
  it('deletes exactly the chosen pods (30% of 4 = 2) and the ReplicaSet recreates them', async () => {
    const c = ctx('pod-kill', { gracePeriodSeconds: 0 }, checkout({ type: 'percent', value: 30 }));
    expect(c.targets.pods).toHaveLength(2);
    const inj = await FAULT_DRIVERS['pod-kill'].prepare(c);
    await FAULT_DRIVERS['pod-kill'].inject(c, inj);
    const killed = new Set(c.targets.pods.map((p) => p.uid));
    const live = (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' })).items;
    expect(live.filter((p) => killed.has(p.metadata!.uid!))).toHaveLength(0);
    await waitFor('checkout back to 4 ready', async () => (await readyCount('checkout')) === 4);
    await FAULT_DRIVERS['pod-kill'].revert(kc, inj, silentLogger); // nothing to undo, must not throw
  });
});

describe('pod-kill with respectPdb (the Eviction API)', () => {
  it('a pod with no budget is evicted and confirmed gone', async () => {
    const c = ctx('pod-kill', { gracePeriodSeconds: 0, respectPdb: true }, { namespace: 'shop', selector: { matchLabels: { app: 'cart' } }, mode: { type: 'one' } });
    const inj = await FAULT_DRIVERS['pod-kill'].prepare(c);
    await FAULT_DRIVERS['pod-kill'].inject(c, inj);
    const outcomes = await FAULT_DRIVERS['pod-kill'].confirm!(c, inj, { timeoutMs: 5000 });
    expect(outcomes).toEqual([{ target: `shop/${c.targets.pods[0]!.name}`, ok: true, message: 'evicted' }]);
    await waitFor('cart back to 3 ready', async () => (await readyCount('cart')) === 3);
  });

  it('a spent budget: the API server refuses (429), no pod is killed, and confirm names the budget for each pod', async () => {
    const policy = kc.makeApiClient((await import('@kubernetes/client-node')).PolicyV1Api);
    await policy.createNamespacedPodDisruptionBudget({ namespace: 'shop', body: { metadata: { name: 'payments-all' }, spec: { minAvailable: '100%', selector: { matchLabels: { app: 'payments' } } } } });
    try {
      await waitFor('payments-all processed', async () => (await policy.readNamespacedPodDisruptionBudget({ namespace: 'shop', name: 'payments-all' })).status?.expectedPods === 2);
      const c = ctx('pod-kill', { gracePeriodSeconds: 0, respectPdb: true }, { namespace: 'shop', selector: { matchLabels: { app: 'payments' } }, mode: { type: 'all' } });
      const inj = await FAULT_DRIVERS['pod-kill'].prepare(c);
      await FAULT_DRIVERS['pod-kill'].inject(c, inj); // refusals are not thrown: every pod is tried
      const outcomes = await FAULT_DRIVERS['pod-kill'].confirm!(c, inj, { timeoutMs: 5000 });
      expect(outcomes).toHaveLength(2);
      for (const o of outcomes) {
        expect(o.ok).toBe(false);
        expect(o.message).toBe("eviction refused: Cannot evict pod as it would violate the pod's disruption budget. The disruption budget payments-all needs 2 healthy pods and has 2 currently");
      }
      const live = (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=payments' })).items;
      expect(live.map((p) => p.metadata!.uid).sort()).toEqual(c.targets.pods.map((p) => p.uid).sort());
    } finally {
      await policy.deleteNamespacedPodDisruptionBudget({ namespace: 'shop', name: 'payments-all' });
    }
  });
});

describe('scale-down', () => {
  it('records replicas before scaling, scales, and revert restores them idempotently', async () => {
    const c = ctx('scale-down', { replicas: 0 }, { namespace: 'shop', selector: { matchLabels: { app: 'cart' } }, mode: { type: 'one' } });
    const inj = await FAULT_DRIVERS['scale-down'].prepare(c);
    expect(inj.revertData).toEqual({ replicas: 0, workloads: [{ kind: 'Deployment', namespace: 'shop', name: 'cart', replicas: 3 }] });
    expect(inj.touched).toEqual([{ kind: 'Deployment', namespace: 'shop', name: 'cart' }]);
    await FAULT_DRIVERS['scale-down'].inject(c, inj);
    const scaled = await apps.readNamespacedDeployment({ namespace: 'shop', name: 'cart' });
    expect(scaled.spec?.replicas).toBe(0);
    expect(scaled.metadata?.annotations?.[RUN_ANNOTATION]).toBe(c.runId);
    await waitFor('cart at 0 ready', async () => (await readyCount('cart')) === 0);
    await FAULT_DRIVERS['scale-down'].revert(kc, inj, silentLogger);
    await FAULT_DRIVERS['scale-down'].revert(kc, inj, silentLogger);
    const restored = await apps.readNamespacedDeployment({ namespace: 'shop', name: 'cart' });
    expect(restored.spec?.replicas).toBe(3);
    expect(restored.metadata?.annotations?.[RUN_ANNOTATION]).toBeUndefined();
    await waitFor('cart back to 3 ready', async () => (await readyCount('cart')) === 3);
  });
});

describe('node-cordon', () => {
  it('cordons the target pods\' nodes and uncordons only those it cordoned', async () => {
    const c = ctx('node-cordon', {}, { namespace: 'shop', selector: { matchLabels: { app: 'frontend' } }, mode: { type: 'all' } });
    const nodes = [...new Set(c.targets.pods.map((p) => p.nodeName!))].sort();
    expect(nodes.length).toBeGreaterThan(1);
    const pre = nodes[0]!; // cordoned by someone else before the run
    await core.patchNode({ name: pre, body: { spec: { unschedulable: true } } }, (await import('../../src/faults/k8s.js')).mergePatch());
    const inj = await FAULT_DRIVERS['node-cordon'].prepare(c);
    expect(inj.touched.map((t) => t.name)).toEqual(nodes.slice(1));
    await FAULT_DRIVERS['node-cordon'].inject(c, inj);
    for (const name of nodes) expect((await core.readNode({ name })).spec?.unschedulable).toBe(true);
    await FAULT_DRIVERS['node-cordon'].revert(kc, inj, silentLogger);
    await FAULT_DRIVERS['node-cordon'].revert(kc, inj, silentLogger);
    expect((await core.readNode({ name: pre })).spec?.unschedulable).toBe(true);
    for (const name of nodes.slice(1)) {
      const node = await core.readNode({ name });
      expect(node.spec?.unschedulable ?? false).toBe(false);
      expect(node.metadata?.annotations?.[RUN_ANNOTATION]).toBeUndefined();
    }
    await core.patchNode({ name: pre, body: { spec: { unschedulable: null } } }, (await import('../../src/faults/k8s.js')).mergePatch());
  });
});

describe('http-fault', () => {
  const vs = () => custom.getNamespacedCustomObject({ group: 'networking.istio.io', version: 'v1beta1', plural: 'virtualservices', namespace: 'shop', name: 'checkout' }) as Promise<{ metadata: { annotations?: Record<string, string> }; spec: { http: Record<string, unknown>[] } }>;
  it('patches abort/delay into every http route and revert restores the original routes', async () => {
    const original = (await vs()).spec.http;
    const c = ctx('http-fault', { virtualService: 'checkout', abort: { httpStatus: 503, percent: 50 }, delay: { fixedDelay: '200ms', percent: 10 } }, checkout());
    const inj = await FAULT_DRIVERS['http-fault'].prepare(c);
    expect(inj.revertData).toEqual({ namespace: 'shop', name: 'checkout', originalHttp: original });
    await FAULT_DRIVERS['http-fault'].inject(c, inj);
    const faulted = await vs();
    expect(faulted.metadata.annotations?.[RUN_ANNOTATION]).toBe(c.runId);
    expect(faulted.spec.http.map((r) => r.fault)).toEqual(original.map(() => ({
      abort: { httpStatus: 503, percentage: { value: 50 } }, delay: { fixedDelay: '0.2s', percentage: { value: 10 } },
    })));
    // a second http-fault on the same VirtualService is refused while this one is active
    await expect(FAULT_DRIVERS['http-fault'].prepare(ctx('http-fault', { virtualService: 'checkout', abort: { httpStatus: 500, percent: 1 } }, checkout()))).rejects.toThrow(/already carries a fault/);
    await FAULT_DRIVERS['http-fault'].revert(kc, inj, silentLogger);
    await FAULT_DRIVERS['http-fault'].revert(kc, inj, silentLogger);
    const restored = await vs();
    expect(restored.spec.http).toEqual(original);
    expect(restored.metadata.annotations?.[RUN_ANNOTATION]).toBeUndefined();
  });
});

describe('in-pod faults', () => {
  const ecName = (runId: string) => `faultline-${shortRunId(runId)}`;
  const status = async (pod: string, name: string) =>
    (await core.readNamespacedPod({ namespace: 'shop', name: pod })).status?.ephemeralContainerStatuses?.find((s) => s.name === name);
  const opts = { timeoutMs: 10_000 };

  it('network-delay: the exact argv and privileges, a confirmed handshake, revert ends it through exec', async () => {
    const c = ctx('network-delay', { latency: '150ms', jitter: '10ms', correlation: 25, interface: 'eth0' }, { namespace: 'shop', selector: { matchLabels: { app: 'payments' } }, mode: { type: 'one' } });
    const target = c.targets.pods[0]!;
    const driver = FAULT_DRIVERS['network-delay'];
    const inj = await driver.prepare(c);
    const notAfter = (inj.revertData as { args: string[] }).args[0]!;
    expect(Number(notAfter)).toBeGreaterThan(Date.now() / 1000);
    await driver.inject(c, inj);
    const name = ecName(c.runId);
    const pod = await core.readNamespacedPod({ namespace: 'shop', name: target.name });
    const ec = pod.spec?.ephemeralContainers?.find((e) => e.name === name);
    expect(ec).toMatchObject({
      image: 'ghcr.io/faultline/agent:test',
      targetContainerName: target.containers[0],
      command: ['/bin/sh', '-c', NETWORK_DELAY_SCRIPT, 'faultline', 'apply', notAfter, '2', 'eth0', '150', '10', '25'],
      workingDir: '/tmp',
      terminationMessagePath: RESULT_FILE,
      securityContext: { runAsUser: 0, runAsNonRoot: false, capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] }, allowPrivilegeEscalation: false },
    });
    expect(ec?.args).toBeUndefined();
    expect(pod.metadata?.annotations?.[RUN_ANNOTATION]).toBe(c.runId);
    expect(await driver.confirm!(c, inj, opts)).toEqual([{ target: `shop/${target.name}`, ok: true, message: 'applied' }]);
    expect(sim.execLog.filter((e) => e.container === name).map((e) => e.command)).toContainEqual([...READ_RESULT_COMMAND]);
    await driver.revert(kc, inj, silentLogger);
    expect(sim.execLog.filter((e) => e.container === name).map((e) => e.command).at(-1)).toEqual([...ABORT_COMMAND]);
    expect((await status(target.name, name))?.state?.terminated).toMatchObject({ exitCode: 0, message: 'reverted' });
    const after = await core.readNamespacedPod({ namespace: 'shop', name: target.name });
    expect(after.metadata?.annotations?.[RUN_ANNOTATION]).toBeUndefined();
    const execs = sim.execLog.filter((e) => e.container === name).length;
    await driver.revert(kc, inj, silentLogger); // already ended: no second exec
    expect(sim.execLog.filter((e) => e.container === name)).toHaveLength(execs);
  });

  it('network-partition, cpu-stress and memory-stress: argv from validated params, per-fault privileges', async () => {
    const t = { namespace: 'shop', selector: { matchLabels: { app: 'catalog' } }, mode: { type: 'all' } } as Target;
    const cases: [FaultType, Record<string, unknown>, (runId: string) => string[], string[], number][] = [
      ['network-partition', { direction: 'egress', cidrs: ['10.1.0.0/16', 'fd00::/8'], ports: [5432, 6379] },
        (id) => ['eth0', 'egress', '5432,6379', shortRunId(id), '10.1.0.0/16', 'fd00::/8'], ['NET_ADMIN', 'NET_RAW'], 0],
      ['cpu-stress', { workers: 2, load: 75 }, () => ['2', '75'], [], 65532],
      // size is the total: stress-ng splits --vm-bytes across its workers itself
      ['memory-stress', { size: '1Gi', workers: 4 }, () => ['4', '1024'], [], 65532],
      // tc units: 1mbps is a megabyte per second, 8000 kbit/s
      ['network-bandwidth', { rate: '1mbps', buffer: 10000, limit: 20000 }, () => ['eth0', '8000', '10000', '20000'], ['NET_ADMIN'], 0],
      ['network-corrupt', { percent: 40, correlation: 25 }, () => ['eth0', '40', '25'], ['NET_ADMIN'], 0],
      ['network-duplicate', { percent: 12.5 }, () => ['eth0', '12.5', '0'], ['NET_ADMIN'], 0],
    ];
    for (const [type, params, expected, caps, uid] of cases) {
      const c = ctx(type, params, t);
      const inj = await FAULT_DRIVERS[type].prepare(c);
      await FAULT_DRIVERS[type].inject(c, inj);
      for (const p of c.targets.pods) {
        const pod = await core.readNamespacedPod({ namespace: 'shop', name: p.name });
        const ec = pod.spec?.ephemeralContainers?.find((e) => e.name === ecName(c.runId));
        expect(ec?.command?.slice(0, 5)).toEqual(['/bin/sh', '-c', ec?.command?.[2], 'faultline', 'apply']);
        expect(ec?.command?.slice(6)).toEqual(['2', ...expected(c.runId)]);
        expect(ec?.securityContext).toMatchObject({ runAsUser: uid, runAsNonRoot: uid !== 0, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: caps } });
      }
      const outcomes = await FAULT_DRIVERS[type].confirm!(c, inj, opts);
      expect(outcomes.every((o) => o.ok), JSON.stringify(outcomes)).toBe(true);
      await FAULT_DRIVERS[type].revert(kc, inj, silentLogger);
    }
  });

  it('handshake: an injector that fails reports the tool\'s own error; one that never starts times out', async () => {
    const c = ctx('network-loss', { percent: 5 }, { namespace: 'shop', selector: { matchLabels: { app: 'catalog' } }, mode: { type: 'all' } });
    const [bad, stuck, ...rest] = c.targets.pods;
    sim.injectors.behave((pod) => pod.name === bad!.name ? { fail: 'tc qdisc add: Error: Specified qdisc kind is unknown.' }
      : pod.name === stuck!.name ? { neverStart: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "ghcr.io/faultline/agent:test"' } } : undefined);
    try {
      const driver = FAULT_DRIVERS['network-loss'];
      const inj = await driver.prepare(c);
      await driver.inject(c, inj);
      const outcomes = await driver.confirm!(c, inj, { timeoutMs: 1500 });
      expect(outcomes.find((o) => o.target === `shop/${bad!.name}`)).toEqual({ target: `shop/${bad!.name}`, ok: false, message: 'injector failed: tc qdisc add: Error: Specified qdisc kind is unknown.' });
      expect(outcomes.find((o) => o.target === `shop/${stuck!.name}`)?.message).toMatch(/^not confirmed within 2s: injector waiting \(ImagePullBackOff: Back-off pulling image/);
      for (const p of rest) expect(outcomes.find((o) => o.target === `shop/${p.name}`)?.ok).toBe(true);
      // revert: ends the applied ones, leaves the failed one alone, waits out the stuck one's start deadline
      const short = { ...inj, revertData: { ...inj.revertData, args: [String(Math.floor(Date.now() / 1000)), ...(inj.revertData as { args: string[] }).args.slice(1)] } };
      await driver.revert(kc, short, silentLogger);
      for (const p of rest) expect((await status(p.name, ecName(c.runId)))?.state?.terminated?.message).toBe('reverted');
      expect((await status(bad!.name, ecName(c.runId)))?.state?.terminated).toMatchObject({ exitCode: 3 });
    } finally {
      sim.injectors.behave(undefined);
    }
  });

  it('container-kill: SIGTERM restarts the container (checked in the pod status); an app that ignores it fails the handshake', async () => {
    const c = ctx('container-kill', { container: 'checkout' }, checkout({ type: 'fixed', value: 2 }));
    const [ignores] = c.targets.pods;
    sim.injectors.behave((pod) => (pod.name === ignores!.name ? { ignoreTerm: true } : undefined));
    try {
      const driver = FAULT_DRIVERS['container-kill'];
      const inj = await driver.prepare(c);
      await driver.inject(c, inj);
      const pod = await core.readNamespacedPod({ namespace: 'shop', name: c.targets.pods[1]!.name });
      expect(pod.spec?.ephemeralContainers?.[0]).toMatchObject({ targetContainerName: 'checkout', securityContext: { runAsUser: 0, capabilities: { add: ['KILL'], drop: ['ALL'] } } });
      expect(pod.spec?.ephemeralContainers?.[0]?.command?.slice(4)).toEqual(['apply', expect.any(String), '2', 'TERM']);
      const outcomes = await driver.confirm!(c, inj, { timeoutMs: 1500 });
      expect(outcomes[1]).toEqual({ target: `shop/${c.targets.pods[1]!.name}`, ok: true, message: 'applied' });
      expect(outcomes[0]!.ok).toBe(false);
      expect(outcomes[0]!.message).toMatch(/has not restarted \(restartCount still 0\); its main process may ignore SIGTERM/);
      for (const p of c.targets.pods) expect((await core.readNamespacedPod({ namespace: 'shop', name: p.name })).metadata?.annotations?.[RUN_ANNOTATION]).toBe(c.runId);
      await driver.revert(kc, inj, silentLogger);
      // After the revert no pod carries the run's annotation any more (the restarted pod included).
      for (const p of c.targets.pods) expect((await core.readNamespacedPod({ namespace: 'shop', name: p.name })).metadata?.annotations?.[RUN_ANNOTATION]).toBeUndefined();
    } finally {
      sim.injectors.behave(undefined);
    }
  });

  it('refuses hostNetwork pods before touching any pod, unless allowed', async () => {
    const c = ctx('cpu-stress', {}, checkout());
    const victim = c.targets.pods[1]!;
    sim.store.mutate('pods', 'shop', victim.name, (p) => { p.spec = { ...p.spec, hostNetwork: true }; });
    try {
      const inj = await FAULT_DRIVERS['cpu-stress'].prepare(c);
      await expect(FAULT_DRIVERS['cpu-stress'].inject(c, inj)).rejects.toThrow(`pod shop/${victim.name} uses hostNetwork: cpu-stress would act on the node itself`);
      for (const p of c.targets.pods) {
        const pod = await core.readNamespacedPod({ namespace: 'shop', name: p.name });
        expect(pod.spec?.ephemeralContainers?.some((e) => e.name === ecName(c.runId)), 'no pod touched').toBeFalsy();
      }
      await FAULT_DRIVERS['cpu-stress'].inject({ ...c, allowHostNetwork: true }, inj);
      await FAULT_DRIVERS['cpu-stress'].revert(kc, inj, silentLogger);
    } finally {
      sim.store.mutate('pods', 'shop', victim.name, (p) => { p.spec = { ...p.spec, hostNetwork: undefined }; });
    }
  });
});

describe('pod-failure', () => {
  it('runs the pause image in every container, records the originals on the pod and in the ledger, and revert restores them exactly', async () => {
    const c = ctx('pod-failure', {}, { namespace: 'shop', selector: { matchLabels: { app: 'catalog' } }, mode: { type: 'one' } });
    const [target] = c.targets.pods;
    const before = await core.readNamespacedPod({ namespace: 'shop', name: target!.name });
    const images = Object.fromEntries(before.spec!.containers.map((x) => [x.name, x.image]));
    const driver = FAULT_DRIVERS['pod-failure'];
    const inj = await driver.prepare(c);
    expect(inj.revertData).toMatchObject({ pauseImage: 'registry.k8s.io/pause:3.9', pods: [{ namespace: 'shop', name: target!.name, uid: target!.uid, containers: images, initContainers: {} }] });
    await driver.inject(c, inj);
    const outcomes = await driver.confirm!(c, inj, { timeoutMs: 10_000 });
    expect(outcomes).toEqual([{ target: `shop/${target!.name}`, ok: true, message: 'applied' }]);
    const failed = await core.readNamespacedPod({ namespace: 'shop', name: target!.name });
    expect(failed.metadata!.uid).toBe(target!.uid); // the pod stays
    expect(failed.spec!.containers.map((x) => x.image)).toEqual(failed.spec!.containers.map(() => 'registry.k8s.io/pause:3.9'));
    expect(failed.status!.containerStatuses!.every((s) => s.image === 'registry.k8s.io/pause:3.9' && (s.restartCount ?? 0) >= 1)).toBe(true);
    expect(JSON.parse(failed.metadata!.annotations!['faultline.dev/pod-failure-images']!)).toEqual({ containers: images, initContainers: {} });
    expect(failed.metadata!.annotations![RUN_ANNOTATION]).toBe(c.runId);
    await driver.revert(kc, inj, silentLogger);
    await driver.revert(kc, inj, silentLogger); // idempotent
    const restored = await core.readNamespacedPod({ namespace: 'shop', name: target!.name });
    expect(Object.fromEntries(restored.spec!.containers.map((x) => [x.name, x.image]))).toEqual(images);
    expect(restored.metadata!.annotations?.['faultline.dev/pod-failure-images']).toBeUndefined();
    expect(restored.metadata!.annotations?.[RUN_ANNOTATION]).toBeUndefined();
    await waitFor('containers run the original images again', async () =>
      ((await core.readNamespacedPod({ namespace: 'shop', name: target!.name })).status!.containerStatuses ?? []).every((s) => s.image === images[s.name]));
  });

  it('never touches a pod that replaced the chosen one, and a second run cannot stack on a failed pod', async () => {
    const c = ctx('pod-failure', {}, { namespace: 'shop', selector: { matchLabels: { app: 'catalog' } }, mode: { type: 'one' } }, 11);
    const driver = FAULT_DRIVERS['pod-failure'];
    const inj = await driver.prepare(c);
    await driver.inject(c, inj);
    await expect(driver.prepare(ctx('pod-failure', {}, { namespace: 'shop', selector: { matchLabels: { app: 'catalog' } }, mode: { type: 'one' } }, 11))).rejects.toThrow(/already has its images replaced/);
    const other = { ...inj, runId: 'someone-else.0000000000000000.once' };
    await driver.revert(kc, other, silentLogger); // not ours: left alone
    const still = await core.readNamespacedPod({ namespace: 'shop', name: c.targets.pods[0]!.name });
    expect(still.spec!.containers[0]!.image).toBe('registry.k8s.io/pause:3.9');
    await driver.revert(kc, inj, silentLogger);
    const back = await core.readNamespacedPod({ namespace: 'shop', name: c.targets.pods[0]!.name });
    expect(back.spec!.containers[0]!.image).not.toBe('registry.k8s.io/pause:3.9');
  });
});
