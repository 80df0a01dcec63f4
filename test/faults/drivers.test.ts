// Fault drivers against the Kubernetes simulator through client-node: what each does to the
// cluster and that revert puts it back (idempotently).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { createTargetResolver } from '../../src/cluster/index.js';
import type { ClusterTargetResolver } from '../../src/cluster/types.js';
import { ABORT_COMMAND, FAULT_DRIVERS, NETWORK_DELAY_SCRIPT, NETWORK_PARTITION_SCRIPT, RUN_ANNOTATION, shortRunId } from '../../src/faults/index.js';
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
  it('network-delay adds an ephemeral container with the exact argv; revert ends it through exec', async () => {
    const c = ctx('network-delay', { latency: '150ms', jitter: '10ms', correlation: 25, interface: 'eth0' }, { namespace: 'shop', selector: { matchLabels: { app: 'payments' } }, mode: { type: 'one' } });
    const target = c.targets.pods[0]!;
    const inj = await FAULT_DRIVERS['network-delay'].prepare(c);
    await FAULT_DRIVERS['network-delay'].inject(c, inj);
    const name = `faultline-${shortRunId(c.runId)}`;
    const pod = await core.readNamespacedPod({ namespace: 'shop', name: target.name });
    const ec = pod.spec?.ephemeralContainers?.find((e) => e.name === name);
    expect(ec).toMatchObject({
      image: 'ghcr.io/faultline/agent:test',
      targetContainerName: target.containers[0],
      command: ['/bin/sh', '-c', NETWORK_DELAY_SCRIPT, 'faultline', 'eth0', '150', '10', '25', '2'],
      securityContext: { capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] }, allowPrivilegeEscalation: false },
    });
    expect(ec?.args).toBeUndefined();
    expect(pod.metadata?.annotations?.[RUN_ANNOTATION]).toBe(c.runId);
    await waitFor('fault container running', async () =>
      (await core.readNamespacedPod({ namespace: 'shop', name: target.name })).status?.ephemeralContainerStatuses?.find((s) => s.name === name)?.state?.running);
    await FAULT_DRIVERS['network-delay'].revert(kc, inj, silentLogger);
    expect(sim.execLog.filter((e) => e.container === name).map((e) => e.command)).toEqual([[...ABORT_COMMAND]]);
    const after = await core.readNamespacedPod({ namespace: 'shop', name: target.name });
    expect(after.status?.ephemeralContainerStatuses?.find((s) => s.name === name)?.state?.terminated).toBeDefined();
    expect(after.metadata?.annotations?.[RUN_ANNOTATION]).toBeUndefined();
    await FAULT_DRIVERS['network-delay'].revert(kc, inj, silentLogger); // already ended: no second exec
    expect(sim.execLog.filter((e) => e.container === name)).toHaveLength(1);
  });

  it('network-partition, cpu-stress and memory-stress build their argv from validated params', async () => {
    const t = { namespace: 'shop', selector: { matchLabels: { app: 'catalog' } }, mode: { type: 'all' } } as Target;
    const cases: [FaultType, Record<string, unknown>, (runId: string) => string[], boolean][] = [
      ['network-partition', { direction: 'egress', cidrs: ['10.1.0.0/16', 'fd00::/8'], ports: [5432, 6379] },
        (id) => ['/bin/sh', '-c', NETWORK_PARTITION_SCRIPT, 'faultline', 'eth0', 'egress', '2', '5432,6379', shortRunId(id), '10.1.0.0/16', 'fd00::/8'], true],
      ['cpu-stress', { workers: 2, load: 75 }, () => ['2', '75', '2'], false],
      ['memory-stress', { size: '1Gi', workers: 4 }, () => ['4', '256', '2'], false],
    ];
    for (const [type, params, expected, netAdmin] of cases) {
      const c = ctx(type, params, t);
      const inj = await FAULT_DRIVERS[type].prepare(c);
      await FAULT_DRIVERS[type].inject(c, inj);
      for (const p of c.targets.pods) {
        const pod = await core.readNamespacedPod({ namespace: 'shop', name: p.name });
        const ec = pod.spec?.ephemeralContainers?.find((e) => e.name === `faultline-${shortRunId(c.runId)}`);
        const argv = expected(c.runId);
        if (argv[0] === '/bin/sh') expect(ec?.command).toEqual(argv);
        else expect(ec?.command?.slice(4)).toEqual(argv);
        expect(ec?.securityContext?.capabilities?.add).toEqual(netAdmin ? ['NET_ADMIN'] : []);
      }
      await waitFor(`${type} containers running`, async () => {
        for (const p of c.targets.pods) {
          const pod = await core.readNamespacedPod({ namespace: 'shop', name: p.name });
          if (!pod.status?.ephemeralContainerStatuses?.find((s) => s.name === `faultline-${shortRunId(c.runId)}`)?.state?.running) return false;
        }
        return true;
      });
      await FAULT_DRIVERS[type].revert(kc, inj, silentLogger);
    }
  });
});
