// ChaosWorkflow files: parse, schema and semantic checks at their line, the spec hash, references
// to experiments, and the published schema file.
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperimentFiles } from '../../src/experiments/index.js';
import type { LoadResult } from '../../src/experiments/model.js';
import { WORKFLOW_SCHEMA_FILE, workflowSchemaFileText } from '../../src/workflows/schema-file.js';

const FIXTURES = resolve(import.meta.dirname, 'fixtures/repo');
const enc = (s: string) => new TextEncoder().encode(s);
const fixture = (name: string) => ({ path: name, content: readFileSync(join(FIXTURES, name)) });
const load = (files: Record<string, string>, withRepo = true): LoadResult =>
  loadExperimentFiles([...(withRepo ? [fixture('cart-pod-kill.yaml')] : []), ...Object.entries(files).map(([path, t]) => ({ path, content: enc(t) }))]);

const HEAD = `apiVersion: faultline.dev/v1alpha1
kind: ChaosWorkflow
metadata:
  name: flow
spec:
  steps:
`;
/** Problems as "line:column message" for one file, in order. */
const at = (r: LoadResult, file = 'w.yaml') => r.problems.filter((p) => p.file === file).map((p) => `${p.line}:${p.column} ${p.message}`);

describe('ChaosWorkflow loading', () => {
  it('loads the example gameday: steps in order, inline faults as experiments, references resolved', () => {
    const r = loadExperimentFiles(readdirSync(FIXTURES).map(fixture));
    expect(r.problems).toEqual([]);
    expect(r.experiments.map((e) => e.experiment.metadata.name)).toEqual(['cart-pod-kill']);
    expect(r.workflows).toHaveLength(1);
    const w = r.workflows![0]!;
    expect(w.workflow.spec.steps.map((s) => s.name)).toEqual(['baseline', 'break-things', 'stress-frontend', 'final-check']);
    expect(w.references).toEqual([expect.objectContaining({ experiment: 'cart-pod-kill', path: 'shop-gameday/break-things/kill-cart', line: 28, column: 23 })]);
    expect(Object.keys(w.inline).sort()).toEqual(['shop-gameday/break-things/slow-checkout', 'shop-gameday/stress-frontend']);
    const slow = w.inline['shop-gameday/break-things/slow-checkout']!;
    // normalised as an experiment is: the workflow's caps, default params, the step's line
    expect(slow.experiment.spec).toMatchObject({ fault: { type: 'network-delay', params: { latency: '200ms', interface: 'eth0' } }, safety: { maxBlastRadiusPercent: 50 }, duration: '1m' });
    expect(slow.line).toBe(18);
    expect(slow.durationMs).toBe(60_000);
    expect(w.workflow.spec.steps[2]).toMatchObject({ continueOnFailure: true, target: { mode: { type: 'one' } } });
    expect(w.workflow.spec.assertions![0]).toMatchObject({ when: 'always', operator: 'gte', value: 0.9 });
    expect(w.specHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a workflow next to experiments changes nothing about them, and is not one', () => {
    const alone = loadExperimentFiles([fixture('cart-pod-kill.yaml')]);
    const both = loadExperimentFiles(readdirSync(FIXTURES).map(fixture));
    expect(both.experiments).toEqual(alone.experiments);
    expect(alone.workflows).toBeUndefined();
  });

  it('reports each kind of problem at its line and column, with the field named', () => {
    const r = load({
      'w.yaml': `${HEAD}    - name: one
      pause: 10s
      duration: 5s
    - name: one
      pause: 1s
    - name: kill
      fault: { type: pod-kill }
      target: { namespace: shop, selector: { matchLabels: { app: cart } }, mode: { type: percent, value: 80 } }
      duration: 30s
    - name: slow
      fault: { type: network-delay, params: { latency: fast } }
      target: { namespace: shop, selector: {} }
      duration: 10s
    - name: both
      pause: 5s
      check: { probes: [{ name: x, kubernetes: { namespace: shop, kind: Deployment, name: a, minReadyReplicas: 1 } }] }
    - name: nested
      parallel:
        - name: n1
          parallel:
            - name: n2
              parallel:
                - name: n3
                  pause: 1s
    - name: odd
      colour: blue
      pause: 1s
    - name: no-target
      fault: { type: pod-kill }
    - name: unknown-fault
      fault: { type: meteor-strike }
      target: { namespace: shop, selector: { matchLabels: { app: cart } } }
      duration: 1s
  assertions:
    - name: a
      probe: missing
      operator: gte
      value: 2
    - name: b
      prometheus: { url: "http://prometheus.monitoring.svc:9090", query: "up" }
      operator: sometimes
      value: 1
    - name: c
      operator: eq
      value: 1
  safety: { maxBlastRadiusPercent: 50 }
`,
    });
    expect(r.workflows ?? []).toEqual([]);
    expect(at(r)).toEqual([
      '9:7 spec.steps[0].duration: a pause step takes no duration: pause says how long',
      '10:13 spec.steps[1].name: step name "one" is already used at /spec/steps/0; step names must be unique in a workflow',
      '14:106 spec.steps[2].target.mode.value: mode percent 80 is above safety.maxBlastRadiusPercent 50',
      '17:56 spec.steps[3].fault.params.latency: must be a duration like 500ms, 30s, 5m or 1h30m',
      '18:44 spec.steps[3].target.selector: selector is empty: it would select every pod in the namespace; give matchLabels or matchExpressions',
      '20:7 spec.steps[4]: a step needs exactly one of fault, experiment, parallel, pause, check (has pause, check)',
      '28:15 spec.steps[5].parallel[0].parallel[0].parallel: parallel groups nest at most 2 deep',
      '32:7 spec.steps[6].colour: unknown field "colour" (allowed: name, duration, continueOnFailure, fault, target, experiment, parallel, pause, check)',
      '34:7 spec.steps[7].target: missing required field "target" (a fault step needs a target)',
      '34:7 spec.steps[7].duration: missing required field "duration" (a fault step needs a duration)',
      expect.stringMatching(/^37:22 spec\.steps\[8\]\.fault\.type: must be one of "pod-kill", /),
      '42:14 spec.assertions[0].probe: probe "missing" is not one of spec.probes',
      '44:14 spec.assertions[0].value: a probe assertion compares the fraction of passed rounds: value must be between 0 and 1',
      '47:17 spec.assertions[1].operator: must be one of "gte", "lte", "eq"',
      '49:7 spec.assertions[2]: an assertion needs exactly one of probe, prometheus (has none)',
    ]);
    // the experiment beside it is untouched by the bad workflow
    expect(r.experiments.map((e) => e.experiment.metadata.name)).toEqual(['cart-pod-kill']);
  });

  it('a reference to an experiment that is not in the repository (or not valid) is a problem at the field', () => {
    const text = `${HEAD}    - name: first
      experiment: cart-pod-kill
    - name: second
      experiment: no-such-experiment
`;
    const r = load({ 'w.yaml': text });
    expect(at(r)).toEqual(['10:19 step flow/second: experiment "no-such-experiment" is not a valid ChaosExperiment of the repository']);
    expect(r.workflows).toEqual([]);
    const alone = load({ 'w.yaml': `${HEAD}    - name: first\n      experiment: cart-pod-kill\n` }, false);
    expect(at(alone)).toEqual(['8:19 step flow/first: experiment "cart-pod-kill" is not a valid ChaosExperiment of the repository']);
  });

  it('bounds the total duration, counting referenced experiments and the longest parallel step', () => {
    const long = `${HEAD}    - name: wait
      pause: 23h59m50s
    - name: group
      parallel:
        - name: short
          pause: 1s
        - name: kill
          experiment: cart-pod-kill
`;
    expect(at(load({ 'w.yaml': long }))).toEqual(['6:3 spec.steps: with the referenced experiments the steps take 1440m, over the 24h bound for a workflow']);
    const inline = `${HEAD}    - name: a\n      pause: 20h\n    - name: b\n      pause: 5h\n`;
    expect(at(load({ 'w.yaml': inline }))).toEqual(['6:3 spec.steps: the steps take 1500m, over the 24h bound for a workflow']);
    expect(at(load({ 'w.yaml': `${HEAD}    - name: a\n      pause: 20h\n    - name: b\n      experiment: cart-pod-kill\n` }))).toEqual([]);
  });

  it('names: two workflows with one name are both refused; schedule and time zone checked as for experiments', () => {
    const w = (name: string, extra = '') => `apiVersion: faultline.dev/v1alpha1\nkind: ChaosWorkflow\nmetadata: { name: ${name} }\nspec:\n${extra}  steps:\n    - name: a\n      pause: 1s\n`;
    const r = load({ 'a.yaml': w('same'), 'b.yaml': w('same') });
    expect(r.problems.map((p) => `${p.file}:${p.line} ${p.message}`)).toEqual([
      'a.yaml:1 metadata.name: workflow "same" is defined more than once (a.yaml:1, b.yaml:1); names must be unique in the repository',
      'b.yaml:1 metadata.name: workflow "same" is defined more than once (a.yaml:1, b.yaml:1); names must be unique in the repository',
    ]);
    const s = load({ 'w.yaml': w('sched', '  schedule: { cron: "61 * * * *", timezone: Mars/Olympus }\n') });
    expect(at(s)).toEqual([
      expect.stringMatching(/^5:21 spec\.schedule\.cron: cron "61 \* \* \* \*" is not valid/),
      '5:45 spec.schedule.timezone: "Mars/Olympus" is not an IANA time zone (e.g. Europe/Berlin, UTC)',
    ]);
  });

  it('hostile input: a non-list of steps, no steps, a step that is not a map, an empty file of a workflow', () => {
    expect(at(load({ 'w.yaml': `${HEAD.replace('  steps:\n', '  steps: many\n')}` }))).toEqual(['6:10 spec.steps: must be array']);
    expect(at(load({ 'w.yaml': `${HEAD.replace('  steps:\n', '  steps: []\n')}` }))).toEqual(['6:10 spec.steps: must NOT have fewer than 1 items']);
    expect(at(load({ 'w.yaml': `${HEAD}    - just a string\n` }))).toEqual(['7:7 spec.steps[0]: must be object']);
    expect(at(load({ 'w.yaml': 'apiVersion: faultline.dev/v1alpha1\nkind: ChaosWorkflow\n' }))).toEqual([
      '1:1 metadata: missing required field "metadata"',
      '1:1 spec: missing required field "spec"',
    ]);
  });
});

describe('workflow spec hash', () => {
  const base = `apiVersion: faultline.dev/v1alpha1
kind: ChaosWorkflow
metadata: { name: h }
spec:
  description: one wording
  steps:
    - name: wait
      pause: 1m
    - name: both
      parallel:
        - { name: x, pause: 1s }
        - { name: y, fault: { type: pod-kill }, target: { namespace: shop, selector: { matchLabels: { app: cart } } }, duration: 30s }
`;
  const hashOf = (t: string) => {
    const r = load({ 'w.yaml': t });
    expect(r.problems).toEqual([]);
    return r.workflows![0]!.specHash;
  };
  it('is stable across spelling, key order, parallel order, defaults, description and suspend', () => {
    const h = hashOf(base);
    expect(hashOf(base)).toBe(h);
    expect(hashOf(base.replace('pause: 1m', 'pause: 60s'))).toBe(h);
    expect(hashOf(base.replace('one wording', 'other words').replace('  steps:', '  suspend: true\n  steps:'))).toBe(h);
    const swapped = base.replace(/( {8}- \{ name: x.*\n)( {8}- \{ name: y.*\n)/, '$2$1');
    expect(swapped).not.toBe(base);
    expect(hashOf(swapped)).toBe(h);
    expect(hashOf(base.replace('selector: { matchLabels', 'mode: { type: one }, selector: { matchLabels'))).toBe(h); // the default mode
  });
  it('changes when what runs changes: step order, a duration, a param, continueOnFailure', () => {
    const h = hashOf(base);
    const reordered = `apiVersion: faultline.dev/v1alpha1
kind: ChaosWorkflow
metadata: { name: h }
spec:
  description: one wording
  steps:
    - name: both
      parallel:
        - { name: x, pause: 1s }
        - { name: y, fault: { type: pod-kill }, target: { namespace: shop, selector: { matchLabels: { app: cart } } }, duration: 30s }
    - name: wait
      pause: 1m
`;
    const others = [
      reordered,
      base.replace('duration: 30s', 'duration: 31s'),
      base.replace('{ type: pod-kill }', '{ type: pod-kill, params: { gracePeriodSeconds: 5 } }'),
      base.replace('pause: 1m', 'pause: 1m\n      continueOnFailure: true'),
    ].map(hashOf);
    expect(new Set([h, ...others]).size).toBe(5);
  });
});

describe('the published workflow schema', () => {
  it('schemas/chaos-workflow.schema.json is the schema built in code', () => {
    expect(readFileSync(WORKFLOW_SCHEMA_FILE, 'utf8')).toBe(workflowSchemaFileText());
  });
  it('the example carries the editors\' schema comment, pointing at the file', () => {
    const text = readFileSync(join(FIXTURES, 'shop-gameday.yaml'), 'utf8');
    const m = /^# yaml-language-server: \$schema=(\S+)/.exec(text);
    expect(m).not.toBeNull();
    expect(resolve(FIXTURES, m![1]!)).toBe(WORKFLOW_SCHEMA_FILE);
  });
});

describe('hostile workflows', () => {
  it("parallel groups nested 10 deep: one problem at the third level, no crash (deeper still meets the parser's nesting limit)", () => {
    let steps = '- name: leaf\n  pause: 1s\n';
    for (let i = 10; i > 0; i--) steps = `- name: g${i}\n  parallel:\n${steps.replace(/^/gm, '    ')}`;
    const r = load({ 'w.yaml': `${HEAD}${steps.replace(/^/gm, '    ')}` });
    expect(r.workflows ?? []).toEqual([]);
    expect(at(r)).toEqual(['12:15 spec.steps[0].parallel[0].parallel[0].parallel: parallel groups nest at most 2 deep']);
  });
  it("65 steps are over the bound; a check step's probes are checked as an experiment's", () => {
    const many = Array.from({ length: 65 }, (_, i) => `    - { name: s${i}, pause: 1s }\n`).join('');
    expect(at(load({ 'w.yaml': `${HEAD}${many}` }))).toEqual([
      '7:5 spec.steps: must NOT have more than 64 items',
      '71:7 spec.steps[64]: more than 64 steps in one workflow (counting the steps of parallel groups)',
    ]);
    const dup = `${HEAD}    - name: c
      check:
        probes:
          - { name: p, kubernetes: { namespace: shop, kind: Deployment, name: a, minReadyReplicas: 1 } }
          - { name: p, http: { url: "http://a.shop.svc/", timeout: 10s }, interval: 5s }
`;
    expect(at(load({ 'w.yaml': dup }))).toEqual([
      '11:21 spec.steps[0].check.probes[1].name: probe name "p" is already used by probe 0',
      '11:68 spec.steps[0].check.probes[1].http.timeout: timeout 10s is longer than the probe interval 5s',
    ]);
  });
});
