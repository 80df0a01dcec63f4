// The injector path as a real kube-apiserver treats it: Pod Security admission from namespace
// labels (403), the pod spec immutable through the main endpoint (422), ephemeral containers
// with ports or an unknown targetContainerName refused (422); the plan predicts the 403; exec
// errors read as text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { createTargetResolver } from '../../src/cluster/index.js';
import type { ClusterTargetResolver } from '../../src/cluster/types.js';
import { DEFAULTS } from '../../src/config/index.js';
import { loadExperimentFiles } from '../../src/experiments/index.js';
import { errorText, execIn, FAULT_DRIVERS, type FaultContext } from '../../src/faults/index.js';
import { silentLogger } from '../../src/log.js';
import { planExperiment, type PlanDeps } from '../../src/safety/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { waitFor } from '../helpers/wait.js';

let sim: Simulator;
let kc: KubeConfig;
let core: CoreV1Api;
let resolver: ClusterTargetResolver;
const smp = () => setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

const restrictedApp: V1Pod = {
  metadata: { name: 'api-0', labels: { app: 'api' } },
  spec: {
    securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{ name: 'api', image: 'api:1', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
  },
};

beforeAll(async () => {
  sim = await startSimulator({ readyDelayMs: 20 });
  kc = sim.kubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  for (const [name, level] of [['strict', 'restricted'], ['base', 'baseline']] as const) {
    await core.createNamespace({ body: { metadata: { name, labels: { 'faultline.dev/chaos': 'enabled', 'pod-security.kubernetes.io/enforce': level } } } });
    await core.createNamespacedPod({ namespace: name, body: { ...restrictedApp, metadata: { ...restrictedApp.metadata, namespace: name } } });
  }
  resolver = createTargetResolver(kc);
  await resolver.ready();
  await waitFor('api pods ready', () => resolver.resolve({ namespace: 'strict', selector: { matchLabels: { app: 'api' } }, mode: { type: 'all' } }, 1).pods.length === 1
    && resolver.resolve({ namespace: 'base', selector: { matchLabels: { app: 'api' } }, mode: { type: 'all' } }, 1).pods.length === 1);
});
afterAll(async () => {
  resolver?.close();
  await sim?.close();
});

let n = 0;
const ctx = (type: 'network-delay' | 'cpu-stress' | 'container-kill', namespace: string, params: Record<string, unknown>): FaultContext => ({
  kc, runId: `psa-${type}.${String(++n).padStart(16, '0')}.once`, experiment: 'psa', params, durationMs: 2000,
  targets: resolver.resolve({ namespace, selector: { matchLabels: { app: 'api' } }, mode: { type: 'all' } }, 1),
  injectorImage: 'agent:1', log: silentLogger, namespace,
});

describe('Pod Security admission', () => {
  it('baseline refuses the NET_ADMIN injector with 403 and the real server\'s wording; admits container-kill (KILL is baseline)', async () => {
    const c = ctx('network-delay', 'base', { latency: '10ms' });
    const inj = await FAULT_DRIVERS['network-delay'].prepare(c);
    await expect(FAULT_DRIVERS['network-delay'].inject(c, inj)).rejects.toThrow(
      /^adding the injector to pod base\/api-0: 403: pods "api-0" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities \(container "faultline-[0-9a-f]+" must not include "NET_ADMIN" in securityContext\.capabilities\.add\)$/);
    const k = ctx('container-kill', 'base', { container: 'api' });
    await FAULT_DRIVERS['container-kill'].inject(k, await FAULT_DRIVERS['container-kill'].prepare(k));
  });

  it('restricted admits the non-root stress injector into a compliant pod, and refuses a root one', async () => {
    const c = ctx('cpu-stress', 'strict', {});
    await FAULT_DRIVERS['cpu-stress'].inject(c, await FAULT_DRIVERS['cpu-stress'].prepare(c));
    const k = ctx('container-kill', 'strict', { container: 'api' });
    await expect(FAULT_DRIVERS['container-kill'].inject(k, await FAULT_DRIVERS['container-kill'].prepare(k))).rejects.toThrow(
      /violates PodSecurity "restricted:latest": .*unrestricted capabilities \(container "faultline-[0-9a-f]+" must not include "KILL".*runAsNonRoot != true .*runAsUser=0/);
  });

  it('a pod that violates the level is refused at create', async () => {
    await expect(core.createNamespacedPod({ namespace: 'strict', body: { metadata: { name: 'rooty' }, spec: { containers: [{ name: 'x', image: 'x:1' }] } } }))
      .rejects.toMatchObject({ code: 403 });
  });

  it('the plan says up front which injector the namespace would refuse', () => {
    const deps: PlanDeps = { config: { protectedNamespaces: [...DEFAULTS.protectedNamespaces], optInLabel: { ...DEFAULTS.optInLabel }, maxBlastRadiusPercent: 100, maxTargets: 10, maxConcurrentRuns: 2, allowedWindows: [], freezeWindows: [], ownNamespace: 'faultline' } };
    const plan = (fault: string, ns: string) => {
      const yaml = `apiVersion: faultline.dev/v1alpha1\nkind: ChaosExperiment\nmetadata: { name: p }\nspec:\n  fault: ${fault}\n  target: { namespace: ${ns}, selector: { matchLabels: { app: api } }, mode: { type: all } }\n  duration: 30s\n`;
      const r = loadExperimentFiles([{ path: 'experiments/p.yaml', content: new TextEncoder().encode(yaml) }]);
      return planExperiment(r.experiments[0]!, resolver, deps).guards.find((g) => g.guard === 'pod-security');
    };
    expect(plan('{ type: network-delay, params: { latency: 10ms } }', 'base')).toEqual({ guard: 'pod-security', ok: false,
      reason: 'namespace base enforces Pod Security "baseline": the API server would refuse the injector (403); the network-delay injector needs "privileged" (root, adds NET_ADMIN)' });
    expect(plan('{ type: container-kill, params: { container: api } }', 'base')?.ok).toBe(true);
    expect(plan('{ type: cpu-stress }', 'strict')).toEqual({ guard: 'pod-security', ok: true,
      reason: 'namespace strict enforces Pod Security "restricted"; the cpu-stress injector needs "restricted" (non-root, no capabilities)' });
    expect(plan('{ type: pod-kill }', 'base')).toBeUndefined();
    expect(plan('{ type: network-partition, params: { cidrs: [10.0.0.0/8] } }', 'shop')?.reason).toMatch(/^namespace shop has no pod-security\.kubernetes\.io\/enforce label/);
  });
});

describe('pod spec and ephemeral container validation (422)', () => {
  it('the pod spec is immutable through the main pod endpoint, except images', async () => {
    await expect(core.patchNamespacedPod({ namespace: 'shop', name: 'orders-db-0', body: { spec: { containers: [{ name: 'orders-db', env: [{ name: 'X', value: '1' }] }] } } }, smp()))
      .rejects.toMatchObject({ code: 422 });
    const err = await core.patchNamespacedPod({ namespace: 'shop', name: 'orders-db-0', body: { spec: { ephemeralContainers: [{ name: 'sneaky', image: 'x:1' }] } } }, smp()).catch((e: unknown) => e);
    expect(errorText(err)).toMatch(/^422: Pod "orders-db-0" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\]\.image`/);
    await core.patchNamespacedPod({ namespace: 'shop', name: 'orders-db-0', body: { spec: { containers: [{ name: 'orders-db', image: 'orders-db:2' }] } } }, smp());
    await core.patchNamespacedPod({ namespace: 'shop', name: 'orders-db-0', body: { metadata: { annotations: { a: 'b' } } } }, smp());
  });

  it('ephemeral containers with ports or an unknown targetContainerName are refused', async () => {
    const add = (ec: Record<string, unknown>) => core.patchNamespacedPodEphemeralcontainers({ namespace: 'shop', name: 'orders-db-0', body: { spec: { ephemeralContainers: [{ image: 'x:1', ...ec }] } } }, smp()).catch((e: unknown) => e);
    expect(errorText(await add({ name: 'p', ports: [{ containerPort: 80 }] }))).toMatch(/spec\.ephemeralContainers\[0\]\.ports: Forbidden: cannot be set for an Ephemeral Container/);
    expect(errorText(await add({ name: 't', targetContainerName: 'nope' }))).toMatch(/spec\.ephemeralContainers\[0\]\.targetContainerName: Not found: "nope"/);
    expect(await add({ name: 'ok', targetContainerName: 'orders-db' })).toMatchObject({ metadata: { name: 'orders-db-0' } });
  });
});

describe('exec errors are text', () => {
  it('exec into a container that is not running says so', async () => {
    const err = await execIn(kc, 'shop', 'orders-db-0', 'nope', ['true']).catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(/^exec in shop\/orders-db-0\/nope: /);
    expect((err as Error).message).not.toContain('[object Object]');
    console.log(`exec error as reported: ${(err as Error).message}`);
  });
});
