// The workflow spec hash decides whether a workflow changed (a new revision, a new plan): what
// runs must change it, spelling and order that mean nothing must not.
import { describe, expect, it } from 'vitest';
import { canonicalWorkflowSpec, workflowSpecHash } from '../../src/workflows/hash.js';
import type { Workflow } from '../../src/workflows/model.js';
import type { Doc } from '../experiments/helpers.js';

const kill = { name: 'k', fault: { type: 'pod-kill', params: {} }, target: { namespace: 'shop', selector: { matchLabels: { app: 'cart' } }, mode: { type: 'one' } }, duration: '30s' };
const probe = (name: string, timeout = '5s') => ({ name, http: { url: `http://${name}.shop.svc/`, timeout }, interval: '10s' });
const base = (): Workflow =>
  ({
    apiVersion: 'faultline.dev/v1alpha1',
    kind: 'ChaosWorkflow',
    metadata: { name: 'h' },
    spec: {
      steps: [
        { name: 'wait', pause: '1m' },
        { name: 'ref', experiment: 'cart-pod-kill', duration: '2m' },
        { name: 'look', check: { probes: [probe('a'), probe('b'), probe('c')] }, duration: '30s' },
        { name: 'g', parallel: [kill, { name: 'p', pause: '5s' }] },
      ],
      probes: [probe('x'), probe('y'), probe('z')],
      assertions: [
        { name: 'm', probe: 'x', operator: 'gte', value: 0.9 },
        { name: 'n', prometheus: { url: 'http://prom:9090', query: 'up', timeout: '1m' }, operator: 'eq', value: 1, when: 'after' },
        { name: 'o', probe: 'y', operator: 'gte', value: 1 },
      ],
    },
  }) as unknown as Workflow;
const variant = (change: (s: Doc) => void): string => {
  const w = base();
  change(w.spec as unknown as Doc);
  return workflowSpecHash(w);
};

describe('workflow spec hash, direct', () => {
  const h = workflowSpecHash(base());
  it('the same meaning: durations spelled otherwise, probes and assertions in another order, defaults spelled out', () => {
    expect(variant((s) => (s.steps[0].pause = '60s'))).toBe(h);
    expect(variant((s) => (s.steps[1].duration = '120s'))).toBe(h);
    expect(variant((s) => (s.steps[2].duration = '30000ms'))).toBe(h);
    expect(variant((s) => s.probes.reverse())).toBe(h);
    expect(variant((s) => s.steps[2].check.probes.reverse())).toBe(h);
    expect(variant((s) => (s.steps[2].check.probes = [s.steps[2].check.probes[1], s.steps[2].check.probes[2], s.steps[2].check.probes[0]]))).toBe(h);
    expect(variant((s) => s.assertions.reverse())).toBe(h);
    expect(variant((s) => (s.probes = [s.probes[1], s.probes[2], s.probes[0]]))).toBe(h);
    expect(variant((s) => (s.assertions = [s.assertions[1], s.assertions[2], s.assertions[0]]))).toBe(h);
    expect(variant((s) => (s.assertions[0].when = 'always'))).toBe(h);
    expect(variant((s) => (s.assertions[1].prometheus.timeout = '60s'))).toBe(h);
    expect(variant((s) => (s.steps[0].continueOnFailure = false))).toBe(h);
    expect(variant((s) => (s.probes[0].http.timeout = '5000ms'))).toBe(h);
    expect(variant((s) => (s.steps[2].check.probes[0].http.timeout = '5000ms'))).toBe(h);
    expect(variant((s) => ((s.description = 'words'), (s.suspend = true), (s.notify = { webhook: { url: 'http://e/' } })))).toBe(h);
  });
  it('a change to what runs or what is judged changes it', () => {
    const changed = [
      variant((s) => (s.steps[0].pause = '2m')),
      variant((s) => (s.steps[1].experiment = 'other')),
      variant((s) => (s.steps[1].duration = '3m')),
      variant((s) => (s.steps[2].duration = '31s')),
      variant((s) => (s.steps[2].check.probes[0].http.url = 'http://elsewhere/')),
      variant((s) => (s.steps[3].parallel[0].duration = '31s')),
      variant((s) => (s.steps[3].parallel[0].target.namespace = 'pay')),
      variant((s) => (s.steps[0].continueOnFailure = true)),
      variant((s) => (s.probes[0].http.url = 'http://elsewhere/')),
      variant((s) => (s.probes[0].http.timeout = '6s')),
      variant((s) => (s.assertions[0].value = 0.8)),
      variant((s) => (s.assertions[0].when = 'during')),
      variant((s) => (s.assertions[1].prometheus.timeout = '2m')),
      variant((s) => (s.assertions[1].prometheus.query = 'down')),
      variant((s) => delete s.probes),
      variant((s) => delete s.assertions),
      variant((s) => (s.safety = { maxTargets: 1 })),
      variant((s) => (s.schedule = { cron: '@daily' })),
    ];
    expect(new Set([h, ...changed]).size).toBe(changed.length + 1);
  });

  it('the canonical form lists probes, assertions and parallel steps by name (a stored hash stays valid whatever order the file has)', () => {
    const w = base();
    const s = w.spec as unknown as Doc;
    s.probes.reverse();
    s.assertions.reverse();
    s.steps[2].check.probes.reverse();
    s.steps[3].parallel.reverse();
    const c = canonicalWorkflowSpec(w) as Doc;
    const names = (list: Doc[]) => list.map((x) => x.name);
    expect(names(c.probes)).toEqual(['x', 'y', 'z']);
    expect(names(c.assertions)).toEqual(['m', 'n', 'o']);
    expect(names(c.steps[2].check.probes)).toEqual(['a', 'b', 'c']);
    expect(names(c.steps[3].parallel)).toEqual(['k', 'p']);
    expect(names(c.steps)).toEqual(['wait', 'ref', 'look', 'g']);
  });
});
