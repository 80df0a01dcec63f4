// Chaos Mesh NetworkChaos onto network-netem (several effects, rate, reorder) and onto
// network-partition's peers (pod-to-pod targets), through the loader; refusals by name and line.
import { describe, expect, it } from 'vitest';
import { rateKbitParam } from '../../src/faults/params.js';
import { loadText } from './helpers.js';

const chaos = (body: string) => `apiVersion: chaos-mesh.org/v1alpha1
kind: NetworkChaos
metadata:
  name: net
  namespace: shop
spec:
  mode: one
  selector:
    labelSelectors: { app: cart }
  duration: 30s
${body}`;
const params = (body: string) => {
  const r = loadText(chaos(body));
  expect(r.problems).toEqual([]);
  return r.experiments[0]!.experiment.spec.fault;
};
const messages = (body: string) => loadText(chaos(body)).problems.map((p) => `${p.line}: ${p.message}`);

describe('Chaos Mesh netem onto network-netem', () => {
  it('a delay that reorders, a netem rate and action rate become one netem qdisc', () => {
    expect(params('  action: delay\n  delay: { latency: 50ms, reorder: { reorder: "10", correlation: "5" } }\n')).toEqual({
      type: 'network-netem', params: { interface: 'eth0', delay: { latency: '50ms', jitter: '0ms', correlation: 0, reorder: { percent: 10, correlation: 5 } } },
    });
    expect(params('  action: rate\n  rate: { rate: 1MBPS }\n')).toEqual({ type: 'network-netem', params: { interface: 'eth0', rate: '1mbps' } });
    expect(params('  action: netem\n  corrupt: { corrupt: "1" }\n  duplicate: { duplicate: "2", correlation: "50" }\n')).toEqual({
      type: 'network-netem', params: { interface: 'eth0', corrupt: { percent: 1, correlation: 0 }, duplicate: { percent: 2, correlation: 50 } },
    });
  });

  it('refuses what netem here cannot do, by name', () => {
    expect(messages('  action: delay\n  delay: { latency: 50ms, reorder: { reorder: "10", gap: 5 } }\n')).toEqual([
      '12: chaos-mesh.org/v1alpha1 NetworkChaos: gap has no Faultline equivalent: network-netem reorders at random, not every gap-th packet',
    ]);
    expect(messages('  action: netem\n  loss: { loss: "120" }\n  rate: { rate: 1mbps }\n')).toEqual(['12: chaos-mesh.org/v1alpha1 NetworkChaos: "120" is not a percentage from 0 to 100']);
  });
});

// The unit question, settled from Chaos Mesh's source: since 2.7 (#4129) the bandwidth rate text
// goes to tc unchanged (pkg/netem FromBandwidth, chaos-daemon convertTbfToArgs "rate %s"), so
// "1mbps" is tc's 10^6 bytes/s = 8 000 kbit/s: the bps units are bytes, 8× their bit namesakes.
describe('Chaos Mesh bandwidth rate in tc\'s units', () => {
  it('keeps the rate text, which the native driver reads as tc does (bps = bytes/s)', () => {
    const f = params('  action: bandwidth\n  bandwidth: { rate: 1MBPS, limit: 20971520, buffer: 10000 }\n');
    expect(f).toEqual({ type: 'network-bandwidth', params: { rate: '1mbps', limit: 20971520, buffer: 10000, interface: 'eth0' } });
    expect(rateKbitParam(f.params as Record<string, unknown>)).toBe('8000');
    expect(rateKbitParam({ rate: '1mbit' })).toBe('1000');
  });
});

describe('Chaos Mesh pod-to-pod partition onto network-partition peers', () => {
  const target = (extra = '') => `  action: partition\n  target:\n    mode: fixed-percent\n    value: "50"\n    selector:\n      namespaces: [data]\n      labelSelectors: { app: db }\n${extra}`;
  it('maps direction to, from and both onto egress, ingress and both in the selected pods; the target mode as the peers\' mode', () => {
    for (const [direction, native] of [['to', 'egress'], ['from', 'ingress'], ['both', 'both']] as const) {
      expect(params(`${target()}  direction: ${direction}\n`)).toEqual({
        type: 'network-partition', params: { direction: native, interface: 'eth0', peers: { namespace: 'data', selector: { matchLabels: { app: 'db' } }, mode: { type: 'percent', value: 50 } } },
      });
    }
  });

  it('takes externalTargets beside the peers (direction to), and refuses what the peers cannot be, by name', () => {
    expect(params(`${target()}  externalTargets: [10.0.0.0/8]\n`).params).toMatchObject({ direction: 'egress', cidrs: ['10.0.0.0/8'], peers: { namespace: 'data' } });
    expect(messages(`${target()}  externalTargets: ["10.0.0.1:5432"]\n`)).toEqual([
      '18: chaos-mesh.org/v1alpha1 NetworkChaos: externalTargets with ports beside a target: Chaos Mesh cuts the target pods on every port; one Faultline partition applies one port list to all it cuts (split it into two experiments)',
    ]);
    expect(messages('  action: partition\n  target:\n    mode: random-max-percent\n    value: "50"\n    selector: { labelSelectors: { app: db } }\n')).toEqual([
      '13: chaos-mesh.org/v1alpha1 NetworkChaos: mode random-max-percent has no Faultline equivalent: the blast radius must be known before the run (use fixed-percent)',
    ]);
    expect(messages('  action: partition\n  targetDevice: eth1\n  target:\n    mode: all\n    selector: { labelSelectors: { app: db } }\n')).toEqual([
      '12: chaos-mesh.org/v1alpha1 NetworkChaos: targetDevice has no Faultline equivalent: Faultline adds rules in the selected pods only, never in the peer pods',
    ]);
  });

  it('without a namespace in the target, the peers are in the chaos object\'s own namespace', () => {
    const r = loadText(chaos('  action: partition\n  target:\n    mode: all\n    selector: { labelSelectors: { app: db } }\n'));
    expect(r.experiments[0]!.experiment.spec.fault.params.peers).toEqual({ namespace: 'shop', selector: { matchLabels: { app: 'db' } }, mode: { type: 'all' } });
    expect(r.experiments[0]!.importNotes).toContain('peers namespace shop: the target names no namespace, so Chaos Mesh looks for the peers in the chaos object\'s own namespace');
  });
});
