// network-netem: the positional arguments the driver validates and hands its script ("-" for an
// effect not given), the file format's checks, and the same argv in the injector the driver adds
// to a simulated pod. What real tc makes of the argument list is in test/linux/bandwidth.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { createTargetResolver } from '../../src/cluster/index.js';
import type { ClusterTargetResolver } from '../../src/cluster/types.js';
import { FAULT_DRIVERS, NETWORK_NETEM_SCRIPT, shortRunId } from '../../src/faults/index.js';
import { netemArgs } from '../../src/faults/network-netem/driver.js';
import { silentLogger } from '../../src/log.js';
import { loadText } from '../experiments/helpers.js';

describe('network-netem arguments', () => {
  it('every effect in one argument list; absent effects are "-"', () => {
    expect(netemArgs({ delay: { latency: '90ms', jitter: '10ms', correlation: 25, reorder: { percent: 25, correlation: 50 } }, loss: { percent: 2.5 }, corrupt: { percent: 1, correlation: 5 }, duplicate: { percent: 1 }, rate: '1mbps' }))
      .toEqual(['eth0', '90', '10', '25', '25', '50', '2.5', '0', '1', '1', '0', '5', '8000']);
    expect(netemArgs({ loss: { percent: 10 }, interface: 'eth1' })).toEqual(['eth1', '-', '-', '-', '-', '-', '10', '0', '-', '-', '-', '-', '-']);
    expect(() => netemArgs({})).toThrow('network-netem needs at least one effect');
    expect(() => netemArgs({ loss: { percent: '10; reboot' } })).toThrow(/fault parameter percent/);
    expect(() => netemArgs({ rate: '1mbit;x' })).toThrow(/fault parameter rate/);
  });

  it('validates: at least one effect, reorder only under a delay, bounded values', () => {
    const doc = (params: string) => `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata:
  name: bad-link
spec:
  fault:
    type: network-netem
    params: ${params}
  target:
    namespace: shop
    selector: { matchLabels: { app: cart } }
    mode: { type: all }
  duration: 30s
`;
    const problems = (p: string) => loadText(doc(p)).problems.map((x) => x.message);
    expect(problems('{ delay: { latency: 50ms }, loss: { percent: 1 } }')).toEqual([]);
    expect(problems('{ interface: eth0 }')).toEqual(['spec.fault.params: network-netem needs at least one of delay, loss, corrupt, duplicate, rate']);
    expect(problems('{ reorder: { percent: 5 } }').some((m) => /^spec\.fault\.params\.reorder: unknown field "reorder"/.test(m))).toBe(true);
    expect(problems('{ delay: { latency: 20s } }')[0]).toMatch(/^spec\.fault\.params\.delay\.latency: /);
    expect(problems('{ loss: { percent: 0 } }')[0]).toMatch(/^spec\.fault\.params\.loss\.percent: /);
  });
});

describe('network-netem driver against the simulator', () => {
  let sim: Simulator;
  let kc: KubeConfig;
  let resolver: ClusterTargetResolver;
  beforeAll(async () => {
    sim = await startSimulator({ readyDelayMs: 20 });
    kc = sim.kubeConfig();
    resolver = createTargetResolver(kc);
    await resolver.ready();
  });
  afterAll(async () => {
    resolver?.close();
    await sim?.close();
  });

  it('adds one injector per pod with the constant script and the validated arguments, and reverts', async () => {
    const params = { delay: { latency: '90ms' }, duplicate: { percent: 3 }, rate: '500kbit' };
    const ctx = {
      kc, runId: 'netem.0000000000000001.once', experiment: 'bad-link', params, durationMs: 2000,
      targets: resolver.resolve({ namespace: 'shop', selector: { matchLabels: { app: 'catalog' } }, mode: { type: 'all' } }, 3),
      injectorImage: 'ghcr.io/faultline/agent:test', log: silentLogger, namespace: 'shop',
    };
    const driver = FAULT_DRIVERS['network-netem'];
    const inj = await driver.prepare(ctx);
    await driver.inject(ctx, inj);
    for (const p of ctx.targets.pods) {
      const pod = await kc.makeApiClient(CoreV1Api).readNamespacedPod({ namespace: 'shop', name: p.name });
      const ec = pod.spec?.ephemeralContainers?.find((e) => e.name === `faultline-${shortRunId(ctx.runId)}`);
      expect(ec?.command?.slice(0, 5)).toEqual(['/bin/sh', '-c', NETWORK_NETEM_SCRIPT, 'faultline', 'apply']);
      expect(ec?.command?.slice(6)).toEqual(['2', 'eth0', '90', '0', '0', '-', '-', '-', '-', '-', '3', '0', '-', '500']);
      expect(ec?.securityContext?.capabilities).toEqual({ drop: ['ALL'], add: ['NET_ADMIN'] });
    }
    expect((await driver.confirm!(ctx, inj, { timeoutMs: 10_000 })).every((o) => o.ok)).toBe(true);
    await driver.revert(kc, inj, silentLogger);
  });
});
