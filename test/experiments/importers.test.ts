// Importers on realistic files: the result is validated and normalised like a native file,
// and what cannot be mapped is an error that points at the source line and says why.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadExperimentFiles } from '../../src/experiments/index.js';
import type { LoadedExperiment } from '../../src/experiments/model.js';
import { loadText } from './helpers.js';

const fixture = (name: string) => ({ path: `fixtures/${name}`, content: readFileSync(new URL(`fixtures/${name}`, import.meta.url)) });
const byName = (list: LoadedExperiment[]) => Object.fromEntries(list.map((e) => [e.experiment.metadata.name, e]));

describe('chaos.io/v1 importer', () => {
  const r = loadExperimentFiles([fixture('chaosio-podkiller.yaml')]);
  const e = byName(r.experiments);

  it('imports every document of a realistic file', () => {
    expect(r.problems).toEqual([]);
    expect(Object.keys(e).sort()).toEqual(['cart-latency', 'catalog-memory-hog', 'checkout-pod-killer', 'frontend-cpu-hog']);
    for (const x of r.experiments) expect(x.importedFrom).toBe('chaos.io/v1 ChaosExperiment');
  });

  it('maps PodKiller: percentage, grace period, string selector, duration', () => {
    const x = e['checkout-pod-killer']!;
    expect(x.experiment.spec.fault).toEqual({ type: 'pod-kill', params: { gracePeriodSeconds: 10} });
    expect(x.experiment.spec.target).toEqual({
      namespace: 'shop',
      selector: {
        matchLabels: { app: 'checkout' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['web', 'api'] },
          { key: 'canary', operator: 'DoesNotExist' },
        ],
      },
      mode: { type: 'percent', value: 30 },
    });
    expect(x.durationMs).toBe(300_000);
    expect(x.experiment.metadata.labels).toEqual({ team: 'payments' });
    expect(x.line).toBe(2);
  });

  it('maps CpuStress, NetworkDelay and MemoryStress with defaults filled', () => {
    expect(e['frontend-cpu-hog']!.experiment.spec).toMatchObject({
      fault: { type: 'cpu-stress', params: { workers: 2, load: 75 } },
      target: { mode: { type: 'fixed', value: 1 }, selector: { matchLabels: { app: 'frontend' } } },
      schedule: { cron: '0 9 * * 1' },
      suspend: false,
    });
    expect(e['cart-latency']!.experiment.spec.fault).toEqual({
      type: 'network-delay',
      params: { latency: '150ms', jitter: '20ms', interface: 'eth0', correlation: 0 },
    });
    expect(e['catalog-memory-hog']!.experiment.spec.fault).toEqual({ type: 'memory-stress', params: { size: '512Mi', workers: 1 } });
    expect(e['catalog-memory-hog']!.experiment.spec.target.mode).toEqual({ type: 'percent', value: 50 });
  });

  it('hashes an imported experiment like the same native one', () => {
    const native = loadText(`apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata: { name: checkout-pod-killer }
spec:
  fault: { type: pod-kill, params: { gracePeriodSeconds: 10 } }
  target:
    namespace: shop
    selector:
      matchLabels: { app: checkout }
      matchExpressions: [{ key: canary, operator: DoesNotExist }, { key: tier, operator: In, values: [api, web] }]
    mode: { type: percent, value: 30 }
  duration: 5m
`);
    expect(native.problems).toEqual([]);
    expect(native.experiments[0]!.specHash).toBe(e['checkout-pod-killer']!.specHash);
  });

  it('says why what cannot be mapped is refused, at the source line', () => {
    const bad = loadExperimentFiles([fixture('chaosio-bad.yaml')]);
    expect(bad.experiments).toEqual([]);
    const msg = (pointer: string) => bad.problems.filter((p) => p.pointer === pointer);
    const scenario = msg('/spec/scenario')[0]!;
    expect(scenario).toMatchObject({ line: 6, column: 13 });
    expect(scenario.message).toMatch(/scenario "DiskFill" has no Faultline equivalent/);
    const force = bad.problems.find((p) => p.message.includes('forceDelete'))!;
    expect(force).toMatchObject({ line: 26, column: 5, pointer: '/spec/parameters/forceDelete' });
    // the third document imports, then fails native validation: mapped back to its own fields
    const duration = bad.problems.find((p) => p.pointer === '/spec/duration')!;
    expect(duration).toMatchObject({ line: 37 });
    expect(duration.message).toMatch(/spec.duration .*between 1s and 24h/);
    const pct = bad.problems.find((p) => p.pointer === '/spec/parameters/killPercentage')!;
    expect(pct).toMatchObject({ line: 39, column: 21 });
    expect(pct.message).toMatch(/between 1 and 100/);
  });
});

describe('Chaos Mesh importer', () => {
  const r = loadExperimentFiles([fixture('chaosmesh.yaml')]);
  const e = byName(r.experiments);

  it('imports PodChaos, NetworkChaos and StressChaos', () => {
    expect(r.problems).toEqual([]);
    expect(r.experiments).toHaveLength(7);
    expect(e['pod-kill-example']!.importedFrom).toBe('chaos-mesh.org/v1alpha1 PodChaos');
    expect(e['pod-kill-example']!.experiment.spec).toMatchObject({
      fault: { type: 'pod-kill', params: { gracePeriodSeconds: 0 } },
      target: { namespace: 'shop', selector: { matchLabels: { app: 'checkout' } }, mode: { type: 'one' } },
      duration: '30s',
    });
  });

  it('maps modes, the default namespace, container-kill and network actions', () => {
    expect(e['container-kill-example']!.experiment.spec).toMatchObject({
      fault: { type: 'container-kill', params: { container: 'cart', signal: 'SIGTERM' } },
      target: { namespace: 'shop', mode: { type: 'fixed', value: 2 } },
    });
    expect(e['delay']!.experiment.spec).toMatchObject({
      fault: { type: 'network-delay', params: { latency: '10ms', jitter: '0ms', correlation: 100 } },
      target: { mode: { type: 'percent', value: 50 }, selector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['canary'] }] } },
    });
    expect(e['delay']!.durationMs).toBe(60_000);
    expect(e['loss']!.experiment.spec.fault).toEqual({ type: 'network-loss', params: { percent: 25, correlation: 25, interface: 'eth0' } });
    expect(e['partition-db']!.experiment.spec.fault.params).toEqual({ direction: 'egress', cidrs: ['10.96.0.0/12', '192.168.1.10/32'], interface: 'eth0' });
    // Chaos Mesh's size is per worker and MB is decimal: 4 × 256 MB = 1024000000 bytes ≈ 977 MiB in total.
    expect(e['memory-stress-example']!.experiment.spec.fault).toEqual({ type: 'memory-stress', params: { workers: 4, size: '977Mi' } });
    expect(e['cpu-stress-example']!.experiment.spec.fault).toEqual({ type: 'cpu-stress', params: { workers: 2, load: 50 } });
  });

  it('refuses what has no equivalent, naming why and where', () => {
    const bad = loadExperimentFiles([fixture('chaosmesh-bad.yaml')]);
    expect(bad.experiments).toEqual([]);
    const find = (re: RegExp) => bad.problems.find((p) => re.test(p.message));
    expect(find(/containerNames has no Faultline equivalent for pod-failure/)).toMatchObject({ line: 7, pointer: '/spec/containerNames' });
    expect(find(/random-max-percent/)).toMatchObject({ line: 20, pointer: '/spec/mode' });
    expect(find(/exactly one namespace/)).toMatchObject({ line: 23, pointer: '/spec/selector/namespaces' });
    // its target (peer pods) maps onto network-partition's peers: no problem there
    expect(bad.problems.filter((p) => p.pointer.startsWith('/spec/target'))).toEqual([]);
    expect(find(/pods \(pod names by namespace\) has no Faultline equivalent: a Faultline target selects pods by labels/)).toMatchObject({ line: 42, pointer: '/spec/selector/pods' });
    expect(find(/percentage size/)).toMatchObject({ line: 46 });
    for (const p of bad.problems) expect(p.message).not.toMatch(/undefined/);
    const latency = bad.problems.find((p) => p.pointer === '/spec/delay/latency')!;
    expect(latency).toMatchObject({ line: 59 });
    expect(latency.message).toMatch(/latency.*between 1ms and 10s/);
  });
});

describe('Chaos Mesh importer: targets with ports, schedules', () => {
  const doc = (spec: string, kind = 'NetworkChaos') => `apiVersion: chaos-mesh.org/v1alpha1
kind: ${kind}
metadata: { name: cm, namespace: shop }
spec:
${spec}`;

  it('maps IP:port and CIDR:port external targets to a partition of that port', () => {
    const r = loadText(doc(`  action: partition
  mode: all
  selector: { labelSelectors: { app: checkout } }
  externalTargets: ['1.1.1.1:80', '10.0.0.0/8:80']
  duration: 10s`));
    expect(r.problems).toEqual([]);
    expect(r.experiments[0]!.experiment.spec.fault.params).toEqual({ direction: 'egress', cidrs: ['1.1.1.1/32', '10.0.0.0/8'], ports: [80], interface: 'eth0' });
    expect(r.experiments[0]!.experiment.spec.target.namespace).toBe('shop');
  });

  it('refuses targets that mix ports, at the field', () => {
    const r = loadText(doc(`  action: partition
  mode: all
  selector: { labelSelectors: { app: checkout } }
  externalTargets: ['1.1.1.1:80', '2.2.2.2']
  duration: 10s`));
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ line: 8, pointer: '/spec/externalTargets' });
    expect(r.problems[0]!.message).toMatch(/mix ports/);
  });

  it('honours Allow only when runs cannot overlap, and says why otherwise', () => {
    const sched = (every: string, policy: string) => doc(`  schedule: '${every}'
  concurrencyPolicy: ${policy}
  historyLimit: 5
  type: StressChaos
  stressChaos:
    mode: one
    selector: { labelSelectors: { app: checkout } }
    stressors: { cpu: { workers: 2, load: 50 } }
    duration: 5m`, 'Schedule');
    const ok = loadText(sched('@every 10m', 'Allow'));
    expect(ok.problems).toEqual([]);
    expect(ok.experiments[0]!.experiment.spec).toMatchObject({ schedule: { cron: '*/10 * * * *' }, duration: '5m', fault: { type: 'cpu-stress', params: { workers: 2, load: 50 } } });
    const bad = loadText(sched('@every 2m', 'Allow'));
    expect(bad.problems.map((p) => p.message)).toEqual([expect.stringMatching(/concurrencyPolicy Allow cannot be honoured: runs of 5m overlap/)]);
    expect(loadText(sched('@every 2m', 'Forbid')).problems).toEqual([]);
  });
});

describe('chaos.io/v1 importer: the canonical file and every form of a parameter', () => {
  const seed = (scenario: string, parameters: string, extra = '') => `apiVersion: chaos.io/v1
kind: ChaosExperiment
metadata: { name: seed, namespace: shop }
spec:
  scenario: ${scenario}
  target: { labelSelector: app=checkout }
  duration: 2m
${extra}  parameters: ${parameters}
`;
  const one = (text: string) => {
    const r = loadText(text);
    expect(r.problems).toEqual([]);
    return r.experiments[0]!.experiment.spec;
  };

  it('accepts the canonical file as it is: pod-kill of 50% with a 30 s grace period', () => {
    const r = loadExperimentFiles([fixture('chaosio-canonical.yaml')]);
    expect(r.problems).toEqual([]);
    const spec = r.experiments[0]!.experiment.spec;
    expect(spec.fault).toEqual({ type: 'pod-kill', params: { gracePeriodSeconds: 30} });
    expect(spec.target).toEqual({ namespace: 'shop', selector: { matchLabels: { app: 'checkout' } }, mode: { type: 'percent', value: 50 } });
    expect(r.experiments[0]!.durationMs).toBe(300_000);
  });

  it('reads durations, percentages and counts in the forms users write', () => {
    for (const [grace, want] of [['30', 30], ['30s', 30], ['"1m"', 60], ['0', 0]] as const) {
      expect(one(seed('PodKiller', `{ gracePeriod: ${grace} }`)).fault.params.gracePeriodSeconds).toBe(want);
    }
    expect(one(seed('PodKiller', '{ killPercentage: "25%" }')).target.mode).toEqual({ type: 'percent', value: 25 });
    expect(one(seed('PodKiller', '{ killPercentage: "100" }')).target.mode).toEqual({ type: 'all' });
    expect(one(seed('PodKiller', '{ killCount: "2" }')).target.mode).toEqual({ type: 'fixed', value: 2 });
    expect(one(seed('NetworkDelay', '{ latency: 150, jitter: "0.02s" }')).fault.params).toMatchObject({ latency: '150ms', jitter: '20ms' });
    expect(one(seed('NetworkLoss', '{ loss: "12.5%" }')).fault.params).toMatchObject({ percent: 12.5 });
    expect(one(seed('CpuStress', '{ cpuLoad: "75%", cpuWorkers: "2" }')).fault.params).toEqual({ workers: 2, load: 75 });
    expect(one(seed('MemoryStress', '{ memorySize: 1GB }')).fault.params).toEqual({ size: '1Gi', workers: 1 });
    for (const d of ['300', '300s', '5m', '"0.5h"']) {
      expect(loadText(seed('PodKiller', '{}').replace('duration: 2m', `duration: ${d}`)).experiments[0]!.durationMs).toBe(d.includes('h') ? 1_800_000 : 300_000);
    }
  });

  it('maps NetworkPartition to network-partition', () => {
    expect(one(seed('NetworkPartition', '{ destinations: ["10.0.0.0/8", 192.168.1.10], ports: 5432, direction: egress }')).fault).toEqual({
      type: 'network-partition',
      params: { cidrs: ['10.0.0.0/8', '192.168.1.10/32'], ports: [5432], direction: 'egress', interface: 'eth0' },
    });
    const bad = loadText(seed('NetworkPartition', '{ destinations: [db.internal] }'));
    expect(bad.problems.map((p) => p.message)).toEqual([expect.stringMatching(/"db\.internal" is a host name/)]);
    expect(bad.problems[0]!.line).toBe(8);
  });

  it('says why a parameter cannot be read, never printing undefined', () => {
    const bad = loadText(seed('PodKiller', '{ gracePeriod: soon, killCount: 1.5 }'));
    expect(bad.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/"soon" is not a whole number of seconds/),
      expect.stringMatching(/1\.5 is not a whole number/),
    ]);
    for (const p of bad.problems) expect(p.message).not.toMatch(/undefined/);
  });
});

describe('Litmus importer', () => {
  const definition = `apiVersion: litmuschaos.io/v1alpha1
kind: ChaosExperiment
metadata: { name: pod-network-latency }
spec:
  definition:
    env:
      - { name: TOTAL_CHAOS_DURATION, value: '60' }
      - { name: NETWORK_LATENCY, value: '300' }
      - { name: JITTER, value: '10' }
`;
  const engine = (env: string, extra = '') => `apiVersion: litmuschaos.io/v1alpha1
kind: ChaosEngine
metadata: { name: cart-latency, namespace: shop }
spec:
  engineState: stop
  appinfo: { appns: '', applabel: 'app=cart', appkind: deployment }
  chaosServiceAccount: litmus-admin
  experiments:
    - name: pod-network-latency
      spec:
        components:
          env:
${env}${extra}`;

  it('takes the ChaosExperiment\'s env as defaults and the engine\'s as overrides', () => {
    const r = loadExperimentFiles([
      { path: 'engine.yaml', content: new TextEncoder().encode(engine("            - { name: NETWORK_LATENCY, value: '150' }\n            - { name: PODS_AFFECTED_PERC, value: '50' }\n")) },
      { path: 'fault.yaml', content: new TextEncoder().encode(definition) },
    ]);
    expect(r.problems).toEqual([]);
    expect(r.experiments).toHaveLength(1); // the ChaosExperiment is a definition, not an experiment
    expect(r.experiments[0]!.experiment.spec).toMatchObject({
      fault: { type: 'network-delay', params: { latency: '150ms', jitter: '10ms', interface: 'eth0' } },
      target: { namespace: 'shop', selector: { matchLabels: { app: 'cart' } }, mode: { type: 'percent', value: 50 } },
      duration: '60s',
      suspend: true,
    });
    expect(r.experiments[0]!.importNotes).toEqual([expect.stringMatching(/chaosServiceAccount is not used/), expect.stringMatching(/appkind deployment/)]);
  });

  it('uses litmus-go\'s defaults without the ChaosExperiment, and refuses what it cannot do at the env entry', () => {
    const alone = loadText(engine("            - { name: TOTAL_CHAOS_DURATION, value: '45' }\n"));
    expect(alone.problems).toEqual([]);
    expect(alone.experiments[0]!.experiment.spec).toMatchObject({ fault: { params: { latency: '2000ms', jitter: '0ms' } }, duration: '45s', target: { mode: { type: 'one' } } });
    const bad = loadText(engine("            - { name: TARGET_PODS, value: 'cart-0,cart-1' }\n            - { name: DESTINATION_IPS, value: '10.0.0.1' }\n            - { name: RAMP_TIME, value: '10' }\n"));
    expect(bad.experiments).toEqual([]);
    expect(bad.problems.map((p) => [p.line, p.message.replace(/^litmuschaos\.io\/v1alpha1 ChaosEngine: /, '').slice(0, 40)])).toEqual([
      [13, 'TARGET_PODS (cart-0,cart-1) has no Fault'],
      [14, 'DESTINATION_IPS has no Faultline equival'],
      [15, 'RAMP_TIME 10s (a wait before and after t'],
    ]);
  });
});
