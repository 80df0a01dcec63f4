// Chaos Mesh's own files (../shared/corpus/chaos-mesh, chaos-mesh-docs) through the loader the
// controller uses. Prints what is accepted and why the rest is refused; checks the meaning of
// accepted documents against what Chaos Mesh does with them (expectations written by hand from
// Chaos Mesh's API and webhook: namespace from the selector, else metadata.namespace, else where
// kubectl puts it; jitter 0ms and correlation 0 by default; memory size per worker; @every → cron).
import { describe, expect, it } from 'vitest';
import { accepted as isAccepted, corpusDocs, describeOutcome, loadDoc, NO_CORPUS, type Outcome } from './corpus.js';

const KINDS = ['PodChaos', 'NetworkChaos', 'StressChaos', 'Schedule', 'Workflow'];
const docs = NO_CORPUS ? [] : corpusDocs(['chaos-mesh', 'chaos-mesh-docs'], (d) => d.apiVersion === 'chaos-mesh.org/v1alpha1' && KINDS.includes(String(d.kind)));
const outcomes = docs.map(loadDoc);
const byFile = (file: string): Outcome => {
  const o = outcomes.find((x) => x.doc.file === file);
  if (!o) throw new Error(`${file} is not in the corpus`);
  return o;
};

const tikv = { matchLabels: { 'app.kubernetes.io/component': 'tikv' } };
const webShow = { matchLabels: { app: 'web-show' } };
const delay = (latency: string, jitter: string, correlation: number) => ({ type: 'network-delay', params: { latency, jitter, correlation, interface: 'eth0' } });
const podKill = { type: 'pod-kill', params: { gracePeriodSeconds: 0} };

// file → [fault, namespace, selector, mode, duration, schedule cron or undefined]
const EXPECTED: Record<string, [object, string, object, object, string, string | undefined]> = {
  'chaos-mesh/examples/pod-kill-example.yaml': [podKill, 'default', tikv, { type: 'one' }, '30s', undefined],
  'chaos-mesh/examples/container-kill-example.yaml': [
    { type: 'container-kill', params: { container: 'prometheus', signal: 'SIGTERM' } },
    'default', { matchLabels: { 'app.kubernetes.io/component': 'monitor' } }, { type: 'one' }, '30s', undefined,
  ],
  'chaos-mesh/examples/network-delay-example.yaml': [delay('90ms', '90ms', 25), 'default', tikv, { type: 'one' }, '10s', undefined],
  'chaos-mesh/examples/network-loss-example.yaml': [
    { type: 'network-loss', params: { percent: 25, correlation: 25, interface: 'eth0' } }, 'default', tikv, { type: 'one' }, '10s', undefined,
  ],
  // Schedule '@every 60s' / '@every 1m' → every minute; a pod-kill needs no duration in Chaos Mesh.
  'chaos-mesh/examples/web-show/network-delay.yaml': [delay('10ms', '0ms', 100), 'default', webShow, { type: 'one' }, '30s', '* * * * *'],
  'chaos-mesh/examples/web-show/pod-kill.yaml': [podKill, 'default', webShow, { type: 'one' }, '30s', '* * * * *'],
  'chaos-mesh/test/integration_test/auth-rbac-webhook/podchaos-example.yaml': [
    podKill, 'default', { matchLabels: { 'app.kubernetes.io/component': 'no-applications-were-harmed' } }, { type: 'one' }, '30s', undefined,
  ],
  // concurrencyPolicy Allow with 12s runs once an hour: runs cannot overlap, so it is honoured.
  'chaos-mesh-docs/define-scheduling-rules--1.yaml': [delay('10ms', '0ms', 100), 'default', webShow, { type: 'one' }, '12s', '5 * * * *'],
  'chaos-mesh-docs/define-scheduling-rules--2.yaml': [delay('10ms', '0ms', 100), 'default', webShow, { type: 'one' }, '12s', undefined],
  // No jitter, no correlation: the webhook fills 0ms and 0.
  'chaos-mesh-docs/run-a-chaos-experiment--1.yaml': [delay('10ms', '0ms', 0), 'default', webShow, { type: 'one' }, '12s', undefined],
  'chaos-mesh-docs/run-a-chaos-experiment--2.yaml': [delay('10ms', '0ms', 0), 'default', webShow, { type: 'one' }, '12s', '5 * * * *'],
  // The selector's namespace wins over the object's own (chaos-mesh).
  'chaos-mesh-docs/simulate-pod-chaos-on-kubernetes--2.yaml': [podKill, 'tidb-cluster-demo', tikv, { type: 'one' }, '30s', undefined],
  // No selector namespace: the object's own namespace.
  'chaos-mesh-docs/simulate-pod-chaos-on-kubernetes--3.yaml': [
    { type: 'container-kill', params: { container: 'prometheus', signal: 'SIGTERM' } },
    'chaos-mesh', { matchLabels: { 'app.kubernetes.io/component': 'monitor' } }, { type: 'one' }, '30s', undefined,
  ],
  // 4 workers × 256 MB (decimal) each = 1 024 000 000 bytes ≈ 977 MiB in total; no duration:
  // Chaos Mesh keeps it until deleted, Faultline bounds it at its longest run, 24h.
  'chaos-mesh-docs/simulate-heavy-stress-on-kubernetes--1.yaml': [
    { type: 'memory-stress', params: { size: '977Mi', workers: 4 } }, 'chaos-mesh', { matchLabels: { app: 'app1' } }, { type: 'one' }, '24h', undefined,
  ],
  'chaos-mesh-docs/simulate-network-chaos-on-kubernetes--1.yaml': [delay('10ms', '0ms', 100), 'default', webShow, { type: 'one' }, '24h', undefined],
  // pod-failure: every container runs a pause image for the duration (required by Chaos Mesh).
  'chaos-mesh/examples/pod-failure-example.yaml': [{ type: 'pod-failure', params: {} }, 'default', tikv, { type: 'one' }, '30s', undefined],
  'chaos-mesh/examples/web-show/pod-failure.yaml': [{ type: 'pod-failure', params: {} }, 'default', webShow, { type: 'one' }, '30s', '*/2 * * * *'],
  'chaos-mesh-docs/simulate-pod-chaos-on-kubernetes--1.yaml': [{ type: 'pod-failure', params: {} }, 'chaos-mesh', tikv, { type: 'one' }, '30s', undefined],
  'chaos-mesh/examples/network-corrupt-example.yaml': [{ type: 'network-corrupt', params: { percent: 40, correlation: 25, interface: 'eth0' } }, 'default', tikv, { type: 'one' }, '10s', undefined],
  'chaos-mesh/examples/network-duplicate-example.yaml': [{ type: 'network-duplicate', params: { percent: 40, correlation: 25, interface: 'eth0' } }, 'default', tikv, { type: 'one' }, '10s', undefined],
  // rate in tc's units (1mbps = 10^6 bytes/s = 8mbit): Chaos Mesh ≥ 2.7 hands the text to tc
  // (chaos-daemon convertTbfToArgs "rate %s"); limit and buffer in bytes; no duration: until deleted
  'chaos-mesh-docs/simulate-network-chaos-on-kubernetes--3.yaml': [
    { type: 'network-bandwidth', params: { rate: '1mbps', limit: 20971520, buffer: 10000, interface: 'eth0' } }, 'default', { matchLabels: { app: 'app1' } }, { type: 'all' }, '24h', undefined,
  ],
  // Pod-to-pod partition: the target pods become peers, resolved to their IPs when the run
  // injects; direction to = the selected pods drop what they send to the peers (egress).
  'chaos-mesh/examples/network-partition-example.yaml': [
    { type: 'network-partition', params: { direction: 'egress', peers: { namespace: 'default', selector: tikv, mode: { type: 'one' } }, interface: 'eth0' } },
    'default', tikv, { type: 'one' }, '10s', undefined,
  ],
  'chaos-mesh-docs/simulate-network-chaos-on-kubernetes--2.yaml': [
    { type: 'network-partition', params: { direction: 'egress', peers: { namespace: 'default', selector: { matchLabels: { app: 'app2' } }, mode: { type: 'all' } }, interface: 'eth0' } },
    'default', { matchLabels: { app: 'app1' } }, { type: 'all' }, '24h', undefined,
  ],
  // netem with several effects: one netem qdisc (network-netem), each block with its defaults;
  // the netem rate in tc's units (10mbps = 10 MB/s)
  'chaos-mesh/examples/network-netem-example.yaml': [
    { type: 'network-netem', params: { interface: 'eth0', delay: { latency: '90ms', jitter: '90ms', correlation: 25 }, loss: { percent: 25, correlation: 25 } } },
    'default', tikv, { type: 'one' }, '10s', undefined,
  ],
  'chaos-mesh-docs/simulate-network-chaos-on-kubernetes--4.yaml': [
    { type: 'network-netem', params: { interface: 'eth0', delay: { latency: '10ms', jitter: '0ms', correlation: 100 }, rate: '10mbps' } },
    'default', webShow, { type: 'all' }, '24h', undefined,
  ],
};

describe.skipIf(NO_CORPUS)('Chaos Mesh corpus', () => {
  it('prints what is accepted and what is refused', () => {
    const accepted = outcomes.filter(isAccepted);
    const workflows = outcomes.filter((o) => o.doc.value.kind === 'Workflow');
    const refusedWorkflows = workflows.filter((o) => !isAccepted(o)).length;
    process.stdout.write(
      `Chaos Mesh corpus: ${accepted.length} of ${outcomes.length} documents accepted (Workflows: ${workflows.length - refusedWorkflows} of ${workflows.length} accepted)\n` +
        outcomes.map(describeOutcome).join('\n') + '\n',
    );
    expect(outcomes.length).toBeGreaterThan(40);
  });

  it('refuses every other document by name, never printing undefined', () => {
    for (const o of outcomes.filter((x) => !isAccepted(x))) {
      expect(o.problems.length, o.doc.file).toBeGreaterThan(0);
      for (const p of o.problems) {
        expect(p.message).toMatch(/^chaos-mesh\.org\/v1alpha1 (PodChaos|NetworkChaos|StressChaos|Schedule|Workflow): /);
        expect(p.message).not.toMatch(/undefined/);
        expect(p.line).toBeGreaterThan(0);
      }
    }
  });

  it(`means what Chaos Mesh means for ${Object.keys(EXPECTED).length} documents`, () => {
    expect(Object.keys(EXPECTED).length).toBeGreaterThanOrEqual(15);
    for (const [file, [fault, namespace, selector, mode, duration, cron]] of Object.entries(EXPECTED)) {
      const o = byFile(file);
      expect(o.problems, file).toEqual([]);
      const spec = o.experiment!.experiment.spec;
      expect({ file, fault: spec.fault, namespace: spec.target.namespace, selector: spec.target.selector, mode: spec.target.mode, duration: spec.duration, cron: spec.schedule?.cron })
        .toEqual({ file, fault, namespace, selector, mode, duration, cron });
    }
  });

  it('turns the Workflows it takes into the ChaosWorkflow Chaos Mesh would run', () => {
    const hello = { namespace: 'default', selector: { matchLabels: { app: 'hello-kubernetes' } } };
    const netDelay = { name: 'workflow-network-chaos', fault: delay('90ms', '90ms', 25), target: { ...hello, mode: { type: 'all' } }, duration: '20s', continueOnFailure: false };
    // workers 1, load 20; options "--cpu 1" repeats workers, "--timeout 600" outlasts the 20s node
    const stress = { name: 'workflow-stress-chaos', fault: { type: 'cpu-stress', params: { workers: 1, load: 20 } }, target: { ...hello, mode: { type: 'one' } }, duration: '20s', continueOnFailure: false };
    const steps = (file: string) => byFile(file).workflow!.workflow.spec.steps;
    expect(steps('chaos-mesh-docs/run-serial-or-parallel-experiments--1.yaml')).toEqual([stress, { name: 'suspending', pause: '10s', continueOnFailure: false }, netDelay]);
    expect(steps('chaos-mesh-docs/run-serial-or-parallel-experiments--2.yaml')).toEqual([{ name: 'parallel-of-2-chaos', parallel: [stress, netDelay], continueOnFailure: false }]);
    // Continuous HTTP check for its 20s deadline, Chaos Mesh's defaults: every 10s, 1s timeout,
    // 3 failures; abortWithStatusCheck absent (false): the workflow goes on after a failed check
    const check = {
      name: 'workflow-status-check', duration: '20s', continueOnFailure: true,
      check: { probes: [{ name: 'workflow-status-check', http: { url: 'http://123.123.123.123', method: 'GET', expectStatus: [200], timeout: '1s' }, interval: '10s', failureThreshold: 3 }] },
    };
    expect(steps('chaos-mesh/examples/workflow/status-check.yaml')).toEqual([{ name: 'the-entry', parallel: [check, netDelay], continueOnFailure: false }]);
  });

  it('names the reason for the documents it cannot take', () => {
    const why = (file: string) => byFile(file).problems.map((p) => p.message).join('\n');
    expect(why('chaos-mesh/examples/workflow/serial.yaml')).toMatch(/Schedule "workflow-pod-chaos" repeats its "PodChaos" on "@every 2s" .* a ChaosWorkflow fault step injects once/);
    expect(why('chaos-mesh/examples/workflow/custom-task.yaml')).toMatch(/Task "the-entry" .* has no Faultline equivalent/);
    expect(why('chaos-mesh/test/integration_test/physical_machine/workflow.yaml')).toMatch(/template "test" of type "PhysicalMachineChaos" has no Faultline equivalent/);
    expect(why('chaos-mesh/examples/schedule-podchaos.yaml')).toMatch(/"@every 5s" cannot be written as a five-field cron/);
    expect(why('chaos-mesh/examples/network-netem-with-target-example.yaml')).toMatch(/target \(pod-to-pod\) has no Faultline equivalent for netem/);
    expect(why('chaos-mesh/examples/network-delay-with-target-example.yaml')).toMatch(/target \(pod-to-pod\) has no Faultline equivalent for delay/);
    expect(why('chaos-mesh/examples/network-partition-with-external-targets-example.yaml')).toMatch(/"www\.google\.com" is a host name/);
    expect(why('chaos-mesh/examples/burn-cpu.yaml')).toMatch(/option "--hdd 1" \(extra stress-ng arguments\) has no Faultline equivalent/);
    expect(why('chaos-mesh/examples/network-bandwidth-example.yaml')).toMatch(/peakrate has no Faultline equivalent/);
    expect(why('chaos-mesh/examples/etcd/etcd-iochaos.yaml')).toMatch(/a Schedule of "IOChaos" has no Faultline equivalent/);
  });
});
