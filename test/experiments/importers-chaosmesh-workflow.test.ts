// Chaos Mesh Workflow → ChaosWorkflow through the loader the controller uses: the steps it
// becomes (order, groups, pauses, checks, inline faults mapped as single documents are), and what
// has no equivalent refused by name at its source line.
import { describe, expect, it } from 'vitest';
import { loadText } from './helpers.js';

const workflow = (templates: string, entry = 'main') => `apiVersion: chaos-mesh.org/v1alpha1
kind: Workflow
metadata:
  name: gameday
  namespace: shop
spec:
  entry: ${entry}
  templates:
${templates}`;

const delay = (name: string, deadline = '20s') => `    - name: ${name}
      templateType: NetworkChaos
      deadline: ${deadline}
      networkChaos:
        action: delay
        mode: all
        selector:
          labelSelectors:
            app: cart
        delay:
          latency: 90ms
`;
const kill = (name: string) => `    - name: ${name}
      templateType: PodChaos
      deadline: 30s
      podChaos:
        action: pod-kill
        mode: one
        selector:
          namespaces: [checkout]
          labelSelectors:
            app: checkout
`;
const serial = (name: string, children: string[], deadline = '') => `    - name: ${name}
      templateType: Serial
${deadline ? `      deadline: ${deadline}\n` : ''}      children: [${children.join(', ')}]
`;
const parallel = (name: string, children: string[]) => `    - name: ${name}
      templateType: Parallel
      children: [${children.join(', ')}]
`;
const check = (name: string, extra = '', http = '') => `    - name: ${name}
      templateType: StatusCheck
      deadline: 1m
${extra}      statusCheck:
        mode: Continuous
        type: HTTP
        intervalSeconds: 5
        timeoutSeconds: 2
        failureThreshold: 2
        http:
          url: http://cart.shop.svc/healthz
          criteria:
            statusCode: "200-204"
${http}`;

const messages = (text: string) => loadText(text).problems.map((p) => `${p.line}: ${p.message}`);

describe('Chaos Mesh Workflow importer', () => {
  it('maps Serial, Parallel, Suspend, StatusCheck and chaos templates to steps in order', () => {
    const text = workflow(
      serial('main', ['warm', 'pause', 'both', 'inner']) +
        check('warm') +
        '    - name: pause\n      templateType: Suspend\n      deadline: 10s\n' +
        parallel('both', ['slow-cart', 'kill-checkout']) +
        delay('slow-cart') + kill('kill-checkout') +
        serial('inner', ['slow-cart']),
    );
    const r = loadText(text);
    expect(r.problems).toEqual([]);
    expect(r.experiments).toEqual([]);
    const w = r.workflows![0]!;
    expect(w.importedFrom).toBe('chaos-mesh.org/v1alpha1 Workflow');
    expect(w.source).toEqual({ apiVersion: 'chaos-mesh.org/v1alpha1', kind: 'Workflow' });
    const steps = w.workflow.spec.steps as unknown as Record<string, unknown>[];
    expect(steps.map((s) => s.name)).toEqual(['warm', 'pause', 'both', 'slow-cart-2']);
    expect(steps[0]).toEqual({
      name: 'warm', duration: '1m', continueOnFailure: true, // abortWithStatusCheck defaults to false
      check: { probes: [{ name: 'warm', http: { url: 'http://cart.shop.svc/healthz', method: 'GET', expectStatus: [200, 201, 202, 203, 204], timeout: '2s' }, interval: '5s', failureThreshold: 2 }] },
    });
    expect(steps[1]).toEqual({ name: 'pause', pause: '10s', continueOnFailure: false });
    const group = steps[2]!.parallel as Record<string, unknown>[];
    // the namespace defaults as for a single document: the selector's, else the Workflow's own
    expect(group.map((s) => [s.name, (s.fault as { type: string }).type, (s.target as { namespace: string }).namespace, s.duration])).toEqual([
      ['slow-cart', 'network-delay', 'shop', '20s'],
      ['kill-checkout', 'pod-kill', 'checkout', '30s'],
    ]);
    expect(group[0]!.fault).toEqual({ type: 'network-delay', params: { latency: '90ms', jitter: '0ms', correlation: 0, interface: 'eth0' } });
    // each inline step is judged as the experiment it is
    expect(Object.keys(w.inline).sort()).toEqual(['gameday/both/kill-checkout', 'gameday/both/slow-cart', 'gameday/slow-cart-2']);
  });

  it('takes the shorter of a chaos template\'s deadline and its own duration', () => {
    const text = workflow(serial('main', ['slow']) + delay('slow', '1m').replace('        action: delay', '        action: delay\n        duration: 15s'));
    const steps = loadText(text).workflows![0]!.workflow.spec.steps as unknown as { duration: string }[];
    expect(steps[0]!.duration).toBe('15s');
  });

  it('refuses what has no equivalent by name, at the source line', () => {
    // a Serial inside a Parallel: parallel steps cannot run in sequence
    expect(messages(workflow(parallel('main', ['seq', 'a']) + serial('seq', ['a', 'b']) + delay('a') + delay('b')))).toEqual([
      '12: chaos-mesh.org/v1alpha1 Workflow: Serial "seq" inside a Parallel has no ChaosWorkflow equivalent: the steps of a parallel group run each on its own, not in sequence (make each serial branch its own workflow)',
    ]);
    // a deadline that cuts the steps short
    expect(messages(workflow(serial('main', ['a', 'b'], '30s') + delay('a') + delay('b')))).toEqual([
      '11: chaos-mesh.org/v1alpha1 Workflow: deadline 30s of Serial "main" ends it before its steps finish (40s): a ChaosWorkflow group runs its steps to their end (shorten the steps to fit)',
    ]);
    expect(messages(workflow(serial('main', ['a', 'nope']) + delay('a')))).toEqual(['11: chaos-mesh.org/v1alpha1 Workflow: no template is named "nope"']);
    expect(messages(workflow(serial('main', ['main'])))).toEqual(['11: chaos-mesh.org/v1alpha1 Workflow: template "main" contains itself (main → main)']);
    expect(messages(workflow(serial('main', ['wait']) + '    - name: wait\n      templateType: Suspend\n'))).toEqual([
      '12: chaos-mesh.org/v1alpha1 Workflow: Suspend "wait" needs a deadline (how long the workflow waits)',
    ]);
    expect(messages(workflow(serial('main', ['io']) + '    - name: io\n      templateType: IOChaos\n      ioChaos: {}\n'))).toEqual([
      '13: chaos-mesh.org/v1alpha1 Workflow: template "io" of type "IOChaos" has no Faultline equivalent (supported: Serial, Parallel, Suspend, StatusCheck, PodChaos, NetworkChaos, StressChaos)',
    ]);
  });

  it('refuses the status check settings it cannot honour, each by name', () => {
    const sync = check('c').replace('mode: Continuous', 'mode: Synchronous');
    expect(messages(workflow(serial('main', ['c']) + sync))).toEqual([
      '16: chaos-mesh.org/v1alpha1 Workflow: mode "Synchronous" (the check ends at its first successThreshold passes) has no Faultline equivalent: a check step probes for its whole duration; use mode Continuous',
    ]);
    const headers = check('c', '', '          headers:\n            X-Token: [abc]\n');
    expect(messages(workflow(serial('main', ['c']) + headers))).toEqual([
      '25: chaos-mesh.org/v1alpha1 Workflow: headers has no Faultline equivalent: an http probe sends no custom headers',
    ]);
    const wide = check('c').replace('"200-204"', '"200-399"');
    expect(messages(workflow(serial('main', ['c']) + wide))).toEqual([
      '24: chaos-mesh.org/v1alpha1 Workflow: statusCode range 200-399 has 200 codes: a Faultline http probe lists at most 16 expected codes',
    ]);
    // abortWithStatusCheck: a failed check stops the workflow
    const abort = loadText(workflow(serial('main', ['c']) + check('c', '      abortWithStatusCheck: true\n')));
    expect((abort.workflows![0]!.workflow.spec.steps[0] as { continueOnFailure: boolean }).continueOnFailure).toBe(false);
  });

  it('maps only the stress-ng options whose effect Faultline has', () => {
    const stress = (options: string) => workflow(serial('main', ['burn']) + `    - name: burn
      templateType: StressChaos
      deadline: 20s
      stressChaos:
        mode: one
        selector:
          labelSelectors:
            app: cart
        stressors:
          cpu:
            workers: 1
            load: 20
            options: [${options}]
`);
    const ok = loadText(stress('"--cpu 2", "--timeout 600"'));
    expect(ok.problems).toEqual([]);
    expect((ok.workflows![0]!.workflow.spec.steps[0] as { fault: object }).fault).toEqual({ type: 'cpu-stress', params: { workers: 2, load: 20 } });
    expect(messages(stress('"--timeout 10"'))).toEqual([
      '24: chaos-mesh.org/v1alpha1 Workflow: option "--timeout 10" stops stress-ng after 10s, before the fault\'s 20s end: Faultline stresses for the whole duration (shorten the duration instead)',
    ]);
    expect(messages(stress('"--cpu 1", "--hdd 1"'))).toEqual([
      '24: chaos-mesh.org/v1alpha1 Workflow: option "--hdd 1" (extra stress-ng arguments) has no Faultline equivalent: parameters never reach a command as text; only --cpu, --cpu-load and a --timeout no shorter than the fault are mapped',
    ]);
  });

  it('points a native check of an inline fault back at the source field', () => {
    // latency 20s is above network-delay's 10s bound: the schema says so, at the source's latency
    const text = workflow(serial('main', ['slow']) + delay('slow').replace('latency: 90ms', 'latency: 20s'));
    const r = loadText(text);
    expect(r.workflows ?? []).toEqual([]);
    expect(r.problems.map((p) => [p.line, p.pointer])).toEqual([[22, '/spec/templates/1/networkChaos/delay/latency']]);
    expect(r.problems[0]!.message).toMatch(/^chaos-mesh\.org\/v1alpha1 Workflow: spec\.steps\[0\]\.fault\.params\.latency \(mapped from spec\.templates\[1\]\.networkChaos\.delay\.latency\): /);
  });
});
