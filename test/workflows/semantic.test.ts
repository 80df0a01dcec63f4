// The workflow checks the schema cannot express, called directly on documents: what is refused,
// at which JSON pointer, and what a workflow's steps add up to. (load.test.ts goes through files.)
import { describe, expect, it } from 'vitest';
import { stepAsExperiment, stepDurationMs, stepsDurationMs, walkSteps, workflowSemanticProblems, workflowUrls } from '../../src/workflows/semantic.js';

const kill = { fault: { type: 'pod-kill' }, target: { namespace: 'shop', selector: { matchLabels: { app: 'cart' } } }, duration: '30s' };
const doc = (spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: 'flow' }) => ({
  apiVersion: 'faultline.dev/v1alpha1',
  kind: 'ChaosWorkflow',
  metadata,
  spec,
});
const problems = (spec: Record<string, unknown>, metadata?: Record<string, unknown>) =>
  workflowSemanticProblems(doc(spec, metadata)).map((p) => `${p.pointer}${p.key ? ' (key)' : ''} ${p.message}`);
const probe = (name: string) => ({ name, kubernetes: { namespace: 'shop', kind: 'Deployment', name: 'a', minReadyReplicas: 1 } });

describe('workflow step checks', () => {
  it('a valid workflow of every step kind has no problem', () => {
    expect(
      problems({
        steps: [
          { name: 'wait', pause: '1s' },
          { name: 'kill', ...kill },
          { name: 'ref', experiment: 'cart-pod-kill', duration: '1m' },
          { name: 'look', check: { probes: [probe('p')] }, duration: '10s' },
          { name: 'g', parallel: [{ name: 'g2', parallel: [{ name: 'deep-pause', pause: '1s' }, { name: 'deep-kill', ...kill }] }] },
        ],
        probes: [probe('up')],
        assertions: [{ name: 'a', probe: 'up', operator: 'gte', value: 0 }, { name: 'b', probe: 'up', operator: 'lte', value: 1 }],
      }),
    ).toEqual([]);
  });

  it('a target or a duration on a step that takes none is refused at that key', () => {
    expect(
      problems({
        steps: [
          { name: 'p', pause: '1s', target: kill.target },
          { name: 'e', experiment: 'x', target: kill.target },
          { name: 'g', parallel: [{ name: 'in', pause: '1s' }], duration: '5s' },
        ],
      }),
    ).toEqual([
      '/spec/steps/0/target (key) target belongs to a fault step, not a pause step',
      '/spec/steps/1/target (key) target belongs to a fault step, not a experiment step',
      '/spec/steps/2/duration (key) a parallel group takes no duration: it lasts as long as its longest step',
    ]);
  });

  it('a fault step without a target or a duration names what is missing, once, and nothing else', () => {
    expect(problems({ steps: [{ name: 'a', fault: kill.fault, duration: '1s' }, { name: 'b', fault: kill.fault, target: kill.target }, { name: 'c', fault: kill.fault }] })).toEqual([
      '/spec/steps/0/target missing required field "target" (a fault step needs a target)',
      '/spec/steps/1/duration missing required field "duration" (a fault step needs a duration)',
      '/spec/steps/2/target missing required field "target" (a fault step needs a target)',
      '/spec/steps/2/duration missing required field "duration" (a fault step needs a duration)',
    ]);
  });

  it("an inline fault is judged as an experiment under the workflow's safety caps, at the step's pointer", () => {
    const over = { ...kill, target: { ...kill.target, mode: { type: 'percent', value: 80 } } };
    expect(problems({ steps: [{ name: 'g', parallel: [{ name: 'k', ...over }] }], safety: { maxBlastRadiusPercent: 50 } })).toEqual([
      '/spec/steps/0/parallel/0/target/mode/value mode percent 80 is above safety.maxBlastRadiusPercent 50',
    ]);
    expect(problems({ steps: [{ name: 'k', ...over }] })).toEqual([]);
  });

  it('two steps with one name are refused at the second, naming the first, across nesting levels', () => {
    expect(problems({ steps: [{ name: 'x', pause: '1s' }, { name: 'g', parallel: [{ name: 'x', pause: '1s' }] }] })).toEqual([
      '/spec/steps/1/parallel/0/name step name "x" is already used at /spec/steps/0; step names must be unique in a workflow',
    ]);
  });

  it('a parallel group at the third level is refused; a pause or fault there is not', () => {
    const deep = (leaf: Record<string, unknown>) => ({ steps: [{ name: 'g1', parallel: [{ name: 'g2', parallel: [leaf] }] }] });
    expect(problems(deep({ name: 'leaf', pause: '1s' }))).toEqual([]);
    expect(problems(deep({ name: 'g3', parallel: [{ name: 'leaf', pause: '1s' }] }))).toEqual([
      '/spec/steps/0/parallel/0/parallel/0/parallel (key) parallel groups nest at most 2 deep',
    ]);
  });

  it('the 65th step is refused once, counting steps inside parallel groups', () => {
    const group = (n: number, from: number) => ({ name: `g${from}`, parallel: Array.from({ length: n }, (_, i) => ({ name: `s${from + i}`, pause: '1s' })) });
    // 2 groups + 2 × 31 steps = 64: fine; one more top-level step is the 65th
    const ok = [group(31, 0), group(31, 100)];
    expect(problems({ steps: ok })).toEqual([]);
    expect(problems({ steps: [...ok, { name: 'last', pause: '1s' }, { name: 'later', pause: '1s' }] })).toEqual([
      '/spec/steps/2 more than 64 steps in one workflow (counting the steps of parallel groups)',
    ]);
  });

  it("a check step's probes are checked as an experiment's; the workflow's own probes too, at /spec/probes", () => {
    expect(problems({ steps: [{ name: 'c', check: { probes: [probe('p'), probe('p')] } }], probes: [probe('q'), probe('q')] })).toEqual([
      '/spec/probes/1/name probe name "q" is already used by probe 0',
      '/spec/steps/0/check/probes/1/name probe name "p" is already used by probe 0',
    ]);
  });

  it('metadata labels and the schedule are checked as an experiment\'s', () => {
    expect(problems({ steps: [{ name: 'a', pause: '1s' }], schedule: { cron: '@daily', timezone: 'Mars/Olympus' } }, { name: 'flow', labels: { '/bad': 'x' } })).toEqual([
      expect.stringMatching(/^\/metadata\/labels\/~1bad \(key\) /),
      '/spec/schedule/timezone "Mars/Olympus" is not an IANA time zone (e.g. Europe/Berlin, UTC)',
    ]);
  });

  it('the 24h bound: exactly 24h is allowed, a second more is refused', () => {
    expect(problems({ steps: [{ name: 'a', pause: '23h' }, { name: 'g', parallel: [{ name: 'b', pause: '1h' }, { name: 'c', pause: '1s' }] }] })).toEqual([]);
    expect(problems({ steps: [{ name: 'a', pause: '23h' }, { name: 'b', pause: '1h1s' }] })).toEqual(['/spec/steps (key) the steps take 1440m, over the 24h bound for a workflow']);
  });

  it('hostile shapes are left to the schema: no crash, no problem', () => {
    expect(workflowSemanticProblems(null)).toEqual([]);
    expect(workflowSemanticProblems('text')).toEqual([]);
    expect(workflowSemanticProblems({ metadata: { name: 'x' } })).toEqual([]);
    expect(workflowSemanticProblems({ metadata: 'x', spec: [] })).toEqual([]);
    expect(problems({ steps: ['text', ['a list'], null, 3] })).toEqual([]);
    expect(problems({ steps: 'many' })).toEqual([]);
    // names missing or not text: the schema's to refuse, never "already used"
    expect(problems({ steps: [{ pause: '1s' }, { pause: '1s' }, { name: 5, pause: '1s' }, { name: 5, pause: '1s' }] })).toEqual([]);
    expect(problems({ steps: [{ name: 'empty' }] })).toEqual(['/spec/steps/0 a step needs exactly one of fault, experiment, parallel, pause, check (has none)']);
    expect(problems({ steps: [{ name: 'a', pause: '1s' }], assertions: ['text', null, ['x']] })).toEqual([]);
    // unnamed assertions, a value or a URL that is not of its type: left to the schema
    expect(
      problems({
        steps: [{ name: 'a', pause: '1s' }],
        probes: [probe('up')],
        assertions: [
          { probe: 'up', operator: 'gte', value: '2' },
          { probe: 'up', operator: 'gte', value: 1 },
          { name: 'u', prometheus: { url: 5, query: 'up' }, operator: 'eq', value: 1 },
        ],
      }),
    ).toEqual([]);
  });
});

describe('workflow assertions', () => {
  it('refuses a reused name, an unknown probe, a fraction outside 0..1 and a bad URL, each at its field', () => {
    expect(
      problems({
        steps: [{ name: 'a', pause: '1s' }],
        probes: [probe('up')],
        assertions: [
          { name: 'a', probe: 'up', operator: 'gte', value: 1 },
          { name: 'a', probe: 'up', operator: 'gte', value: -0.1 },
          { name: 'b', probe: 'down', operator: 'gte', value: 1.01 },
          { name: 'c', prometheus: { url: 'not a url', query: 'up' }, operator: 'eq', value: 5 },
          { name: 'd', prometheus: { url: 'http://prometheus.monitoring.svc:9090', query: 'up' }, operator: 'eq', value: 5 },
          { name: 'e', probe: 'up', prometheus: { url: 'http://p:9090', query: 'up' }, operator: 'eq', value: 1 },
          { name: 'a', operator: 'eq', value: 1 },
        ],
      }),
    ).toEqual([
      '/spec/assertions/1/name assertion name "a" is already used by assertion 0',
      '/spec/assertions/1/value a probe assertion compares the fraction of passed rounds: value must be between 0 and 1',
      '/spec/assertions/2/probe probe "down" is not one of spec.probes',
      '/spec/assertions/2/value a probe assertion compares the fraction of passed rounds: value must be between 0 and 1',
      '/spec/assertions/3/prometheus/url "not a url" is not a valid URL',
      '/spec/assertions/5 an assertion needs exactly one of probe, prometheus (has probe, prometheus)',
      '/spec/assertions/6/name assertion name "a" is already used by assertion 0',
      '/spec/assertions/6 an assertion needs exactly one of probe, prometheus (has none)',
    ]);
  });

  it('a probe assertion without workflow probes names the probe as missing', () => {
    expect(problems({ steps: [{ name: 'a', pause: '1s' }], assertions: [{ name: 'x', probe: 'up', operator: 'gte', value: 1 }] })).toEqual([
      '/spec/assertions/0/probe probe "up" is not one of spec.probes',
    ]);
  });
});

describe('workflow durations', () => {
  const refs = (n: string) => ({ slow: 600_000 })[n];
  it('sequential steps add up, a parallel group lasts as long as its longest step', () => {
    const steps = [
      { name: 'a', pause: '10s' },
      { name: 'g', parallel: [{ name: 'b', pause: '5s' }, { name: 'c', ...kill }, { name: 'd', experiment: 'slow' }] },
    ];
    expect(stepsDurationMs(steps)).toBe(40_000);
    expect(stepsDurationMs(steps, refs)).toBe(610_000);
  });
  it("a step's own duration overrides a referenced experiment's; a check lasts its duration", () => {
    expect(stepDurationMs({ name: 'd', experiment: 'slow', duration: '1m' }, refs)).toBe(60_000);
    expect(stepDurationMs({ name: 'c', check: { probes: [] }, duration: '2m' }, () => 5)).toBe(120_000);
    expect(stepDurationMs({ name: 'c', check: { probes: [] } }, () => 5)).toBe(0);
    expect(stepDurationMs({ name: 'u', experiment: 'unknown' }, refs)).toBe(0);
    expect(stepDurationMs({ name: 'g', parallel: [] })).toBe(0);
    expect(stepDurationMs({ name: 'p', pause: 'soon' })).toBe(0);
  });
  it('non-lists and non-steps count nothing', () => {
    expect(stepsDurationMs(undefined)).toBe(0);
    expect(stepsDurationMs({ a: 1 })).toBe(0);
    expect(stepDurationMs(null)).toBe(0);
    expect(stepDurationMs(['1s'])).toBe(0);
  });
});

describe('walking steps', () => {
  it('visits each step with its pointer, path of names (index when unnamed) and depth, up to the bound', () => {
    const seen: string[] = [];
    walkSteps(
      [{ name: 'a', pause: '1s' }, { parallel: [{ name: 'b', parallel: [{ name: 'c', parallel: [{ name: 'too-deep' }] }] }] }, 'text', { name: 7 }],
      (_s, p, path, depth) => seen.push(`${p} ${path.join('/')} ${depth}`),
    );
    expect(seen).toEqual([
      '/spec/steps/0 a 1',
      '/spec/steps/1 1 1',
      '/spec/steps/1/parallel/0 1/b 2',
      '/spec/steps/1/parallel/0/parallel/0 1/b/c 3',
      '/spec/steps/3 3 1',
    ]);
  });
});

describe('an inline step as an experiment', () => {
  it('carries the name, fault, target, duration and the caps only when there are caps', () => {
    const e = stepAsExperiment('flow--k', { name: 'k', ...kill, continueOnFailure: true }, undefined);
    expect(e).toStrictEqual({ apiVersion: 'faultline.dev/v1alpha1', kind: 'ChaosExperiment', metadata: { name: 'flow--k' }, spec: { fault: kill.fault, target: kill.target, duration: '30s' } });
    expect(stepAsExperiment('f', kill, { maxTargets: 2 }).spec).toStrictEqual({ ...kill, safety: { maxTargets: 2 } });
  });
});

describe('the URLs a workflow would fetch', () => {
  it('lists workflow probes, check-step probes at any depth, Prometheus assertions and the webhook, with pointers', () => {
    const urls = workflowUrls(
      doc({
        probes: [{ name: 'h', http: { url: 'http://a/' } }, probe('k'), null, { name: 'p', prometheus: { url: 'http://prom:9090', query: 'up' } }, { name: 'n', http: { url: 7 } }],
        steps: [
          { name: 'c', check: { probes: [{ name: 'x', http: { url: 'http://b/' } }] } },
          { name: 'g', parallel: [{ name: 'c2', check: { probes: [{ name: 'y', prometheus: { url: 'http://c/', query: 'up' } }] } }, { name: 'c3', check: 'no' }] },
        ],
        assertions: [{ name: 'a', prometheus: { url: 'http://d/', query: 'up' } }, { name: 'b', probe: 'h' }, null, { name: 'n', prometheus: { url: 3 } }],
        notify: { webhook: { url: 'http://e/' }, slack: { channel: 'x' } },
      }),
    );
    expect(urls).toEqual([
      { pointer: '/spec/probes/0/http/url', url: 'http://a/' },
      { pointer: '/spec/probes/3/prometheus/url', url: 'http://prom:9090' },
      { pointer: '/spec/steps/0/check/probes/0/http/url', url: 'http://b/' },
      { pointer: '/spec/steps/1/parallel/0/check/probes/0/prometheus/url', url: 'http://c/' },
      { pointer: '/spec/assertions/0/prometheus/url', url: 'http://d/' },
      { pointer: '/spec/notify/webhook/url', url: 'http://e/' },
    ]);
  });
  it('nothing for hostile shapes', () => {
    expect(workflowUrls(null)).toEqual([]);
    expect(workflowUrls({ spec: 'x' })).toEqual([]);
    expect(workflowUrls({ spec: {} })).toEqual([]);
    expect(workflowUrls({ spec: { probes: 'x', steps: 'x', assertions: 'x', notify: { webhook: 'x' } } })).toEqual([]);
    expect(workflowUrls({ spec: { notify: 'x' } })).toEqual([]);
    expect(workflowUrls({ spec: { notify: { webhook: { url: 5 } } } })).toEqual([]);
  });
});
