// planWorkflow on the live (simulated) shop topology, in process: each step planned as an
// experiment is, a parallel group's hits added up per workload against the tightest cap, and a
// workflow refused when any step or group is. (test/workflows/cli.test.ts goes through the CLI.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetResolver } from '../../src/cluster/index.js';
import type { ClusterTargetResolver } from '../../src/cluster/types.js';
import { loadExperimentFiles } from '../../src/experiments/index.js';
import type { LoadedExperiment } from '../../src/experiments/model.js';
import { formatWorkflowPlans, planWorkflow, type PlanDeps, type WorkflowPlan } from '../../src/safety/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import type { LoadedWorkflow } from '../../src/workflows/model.js';
import { config } from './guard-fixtures.js';

let sim: Simulator;
let resolver: ClusterTargetResolver;
const deps = (over: Partial<PlanDeps['config']> = {}): PlanDeps => ({ config: { ...config, ...over }, seed: 5 });

beforeAll(async () => {
  sim = await startSimulator();
  resolver = createTargetResolver(sim.kubeConfig());
  await resolver.ready();
});
afterAll(async () => {
  resolver?.close();
  await sim?.close();
});

const indent = (s: string, n: number) => s.replace(/^(?=.)/gm, ' '.repeat(n));
const kill = (name: string, app: string, mode = '{ type: one }', ns = 'shop') =>
  `- name: ${name}\n  fault: { type: pod-kill }\n  target: { namespace: ${ns}, selector: { matchLabels: { ${ns === 'kube-system' ? 'k8s-app' : 'app'}: ${app} } }, mode: ${mode} }\n  duration: 30s\n`;
const group = (name: string, steps: string, extra = '') => `- name: ${name}\n${extra}  parallel:\n${indent(steps, 4)}`;
const CART_EXPERIMENT = `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata: { name: cart-pod-kill }
spec:
  fault: { type: pod-kill }
  target: { namespace: shop, selector: { matchLabels: { app: cart } }, mode: { type: one } }
  duration: 30s
`;

function load(steps: string, extra = ''): { wf: LoadedWorkflow; experiments: Map<string, LoadedExperiment> } {
  const yaml = `apiVersion: faultline.dev/v1alpha1
kind: ChaosWorkflow
metadata: { name: gameday }
spec:
${extra}  steps:
${indent(steps, 4)}`;
  const enc = new TextEncoder();
  const r = loadExperimentFiles([
    { path: 'experiments/cart-pod-kill.yaml', content: enc.encode(CART_EXPERIMENT) },
    { path: 'experiments/gameday.yaml', content: enc.encode(yaml) },
  ]);
  if (r.problems.length) throw new Error(r.problems.map((p) => `${p.line}:${p.column} ${p.message}`).join('\n'));
  return { wf: r.workflows![0]!, experiments: new Map(r.experiments.map((e) => [e.experiment.metadata.name, e])) };
}
const plan = (steps: string, extra = '', d = deps()): WorkflowPlan => {
  const { wf, experiments } = load(steps, extra);
  return planWorkflow(wf, experiments, resolver, d);
};
const combined = (p: WorkflowPlan, i = 0) => p.steps[i]!.combined!;

describe('planWorkflow', () => {
  it('plans every step: pause, fault, referenced experiment, check; all allowed', () => {
    const p = plan(`- name: wait\n  pause: 5s\n${kill('one-checkout', 'checkout')}- name: cart\n  experiment: cart-pod-kill\n  continueOnFailure: true\n- name: look\n  duration: 10s\n  check:\n    probes:\n      - name: ready\n        kubernetes: { namespace: shop, kind: Deployment, name: checkout, minReadyReplicas: 1 }\n`, '  schedule: { cron: "0 10 * * 3" }\n');
    expect(p).toMatchObject({ name: 'gameday', file: 'experiments/gameday.yaml', allowed: true, refusedSteps: [], schedule: '0 10 * * 3' });
    expect(p.steps.map((s) => [s.name, s.path, s.kind, s.allowed, s.continueOnFailure])).toEqual([
      ['wait', 'gameday/wait', 'pause', true, false],
      ['one-checkout', 'gameday/one-checkout', 'fault', true, false],
      ['cart', 'gameday/cart', 'experiment', true, true],
      ['look', 'gameday/look', 'check', true, false],
    ]);
    expect(p.steps[0]!.duration).toBe('5s');
    expect(p.steps[3]!.duration).toBe('10s');
    expect(p.steps[1]!.row).toMatchObject({ name: 'gameday/one-checkout', fault: 'pod-kill', allowed: true, blastRadius: [{ workload: 'Deployment/checkout', hit: 1, ready: 4 }] });
    expect(p.steps[2]!.experiment).toBe('cart-pod-kill');
    expect(p.steps[2]!.row).toMatchObject({ name: 'gameday/cart', blastRadius: [{ workload: 'Deployment/cart', hit: 1, ready: 3 }] });
    expect(p.steps[0]!.row).toBeUndefined();
    expect(p.steps[3]!.row).toBeUndefined();
    const once = plan('- name: wait\n  pause: 5s\n');
    expect(once.schedule).toBeUndefined();
    expect(formatWorkflowPlans([once])).toBe('WORKFLOW gameday (experiments/gameday.yaml) once: allowed\n  wait: pause 5s\n');
  });

  it('a step in a protected namespace refuses the whole workflow, naming that step only', () => {
    const p = plan(`- name: wait\n  pause: 5s\n${kill('dns', 'kube-dns', '{ type: one }', 'kube-system')}${kill('fine', 'checkout')}`);
    expect(p.allowed).toBe(false);
    expect(p.refusedSteps).toEqual(['gameday/dns']);
    expect(p.steps.map((s) => s.allowed)).toEqual([true, false, true]);
    expect(p.steps[1]!.row!.guards.find((g) => g.guard === 'protected-namespace')).toMatchObject({ ok: false });
    const text = formatWorkflowPlans([p]);
    expect(text).toContain('WORKFLOW gameday (experiments/gameday.yaml) once: REFUSED (gameday/dns)\n');
    expect(text).toMatch(/\n {2}dns: pod-kill kube-system targets 1\/\d+ blast radius .* REFUSED\n/);
    expect(text).toMatch(/\n {4}✗ protected-namespace: /);
  });

  it('two steps each allowed alone are refused together when their hits on one workload pass the cap', () => {
    // one cart pod of three each (33%); together 2/3 = 66.67% over 50%
    const p = plan(group('both', kill('a', 'cart') + kill('b', 'cart')));
    const g = p.steps[0]!;
    expect(g.steps!.map((s) => [s.path, s.allowed])).toEqual([['gameday/both/a', true], ['gameday/both/b', true]]);
    expect(g.combined!.blastRadius).toEqual([{ workload: 'Deployment/cart', namespace: 'shop', hit: 2, ready: 3, percent: 66.67 }]);
    expect(g.combined!.targets).toBe(2);
    expect(g.combined!.guards).toEqual([
      { guard: 'combined-blast-radius', ok: false, reason: 'together Deployment/cart 2/3 ready (67%) over the 50% cap (controller)' },
      { guard: 'combined-max-targets', ok: true, reason: 'together 2 targets <= 10' },
    ]);
    expect(g.allowed).toBe(false);
    expect(p).toMatchObject({ allowed: false, refusedSteps: ['gameday/both'] });
    const text = formatWorkflowPlans([p]);
    expect(text).toContain('\n  both: parallel, together 2 targets blast radius Deployment/cart 2/3 (67%) REFUSED\n');
    expect(text).toContain('\n    ✗ combined-blast-radius: together Deployment/cart 2/3 ready (67%) over the 50% cap (controller)\n');
    expect(text).toMatch(/\n {4}a: pod-kill shop targets 1\/3 blast radius Deployment\/cart 1\/3 \(33%\) allowed\n {6}targets \(seed 5\): cart-/);
  });

  it('hits on different workloads are not added up; at the cap exactly a group is allowed', () => {
    const p = plan(group('spread', kill('cart', 'cart') + kill('checkout', 'checkout')));
    const c = combined(p);
    expect(c.blastRadius).toEqual([
      { workload: 'Deployment/cart', namespace: 'shop', hit: 1, ready: 3, percent: 33.33 },
      { workload: 'Deployment/checkout', namespace: 'shop', hit: 1, ready: 4, percent: 25 },
    ]);
    expect(c.guards[0]).toEqual({ guard: 'combined-blast-radius', ok: true, reason: 'together Deployment/cart 1/3 ready (33%), Deployment/checkout 1/4 ready (25%) within the 50% cap (controller)' });
    expect(c.guards[1]).toEqual({ guard: 'combined-max-targets', ok: true, reason: 'together 2 targets <= 10' });
    expect(p.allowed).toBe(true);
    // two checkout pods of four together: 50%, the cap itself, is allowed
    const at = plan(group('half', kill('a', 'checkout') + kill('b', 'checkout')));
    expect(combined(at).blastRadius[0]).toMatchObject({ hit: 2, ready: 4, percent: 50 });
    expect(combined(at).guards[0]!.ok).toBe(true);
    expect(at.allowed).toBe(true);
  });

  it('the tightest cap applies: the workflow\'s own when lower, the controller\'s when the workflow asks for more', () => {
    const tight = plan(group('spread', kill('cart', 'cart') + kill('checkout', 'checkout')), '  safety: { maxBlastRadiusPercent: 30 }\n');
    expect(combined(tight).guards[0]).toEqual({ guard: 'combined-blast-radius', ok: false, reason: 'together Deployment/cart 1/3 ready (33%) over the 30% cap (workflow)' });
    expect(tight.allowed).toBe(false);
    const loose = plan(group('both', kill('a', 'cart') + kill('b', 'cart')), '  safety: { maxBlastRadiusPercent: 80 }\n');
    expect(combined(loose).guards[0]!.reason).toBe('together Deployment/cart 2/3 ready (67%) over the 50% cap (controller)');
    const roomy = plan(group('both', kill('a', 'cart') + kill('b', 'cart')), '  safety: { maxBlastRadiusPercent: 80 }\n', deps({ maxBlastRadiusPercent: 70 }));
    expect(combined(roomy).guards[0]).toMatchObject({ ok: true, reason: 'together Deployment/cart 2/3 ready (67%) within the 70% cap (controller)' });
    expect(roomy.allowed).toBe(true);
  });

  it('hits never count more than the workload\'s ready pods, and the target count has its own cap', () => {
    // 2 of 3 cart pods twice: at most 3/3 (100%), 4 targets
    const p = plan(group('all', kill('a', 'cart', '{ type: fixed, value: 2 }') + kill('b', 'cart', '{ type: fixed, value: 2 }')), '', deps({ maxBlastRadiusPercent: 100, maxTargets: 3 }));
    const c = combined(p);
    expect(c.blastRadius).toEqual([{ workload: 'Deployment/cart', namespace: 'shop', hit: 3, ready: 3, percent: 100 }]);
    expect(c.targets).toBe(4);
    expect(c.guards[0]!.ok).toBe(true); // 100% is the cap here
    expect(c.guards[1]).toEqual({ guard: 'combined-max-targets', ok: false, reason: 'together 4 targets > 3' });
    expect(p.steps[0]!.steps!.every((s) => s.allowed)).toBe(true);
    expect(p).toMatchObject({ allowed: false, refusedSteps: ['gameday/all'] });
    // the workflow's own target cap, when lower
    const own = plan(group('two', kill('a', 'cart') + kill('b', 'checkout')), '  safety: { maxTargets: 1 }\n');
    expect(combined(own).guards[1]).toEqual({ guard: 'combined-max-targets', ok: false, reason: 'together 2 targets > 1' });
    const one = plan(group('one', kill('a', 'cart') + '- name: wait\n  pause: 5s\n'), '  safety: { maxTargets: 1 }\n');
    expect(combined(one).guards[1]).toEqual({ guard: 'combined-max-targets', ok: true, reason: 'together 1 target <= 1' });
  });

  it('a group of nested groups counts every fault inside; a refused inner step is named, not its group', () => {
    const inner = group('inner', kill('b', 'cart') + kill('dns', 'kube-dns', '{ type: one }', 'kube-system'));
    const p = plan(group('outer', kill('a', 'cart') + inner));
    const outer = p.steps[0]!;
    expect(outer.combined!.blastRadius.find((b) => b.workload === 'Deployment/cart')).toMatchObject({ hit: 2, ready: 3 });
    expect(outer.combined!.targets).toBe(3);
    expect(outer.allowed).toBe(false);
    expect(p.refusedSteps).toEqual(['gameday/outer/inner/dns']);
    // with no fault inside, a group hits nothing
    const idle = plan(group('idle', '- name: w1\n  pause: 5s\n- name: w2\n  pause: 6s\n'));
    expect(combined(idle)).toEqual({
      blastRadius: [],
      targets: 0,
      guards: [
        { guard: 'combined-blast-radius', ok: true, reason: 'no workload hit' },
        { guard: 'combined-max-targets', ok: true, reason: 'together 0 targets <= 10' },
      ],
    });
    expect(idle.allowed).toBe(true);
  });

  it('a reference to an experiment that is not there is refused, also when called without the resolution step', () => {
    const { wf } = load('- name: cart\n  experiment: cart-pod-kill\n');
    const p = planWorkflow(wf, new Map(), resolver, deps());
    expect(p.steps[0]).toMatchObject({ kind: 'experiment', experiment: 'cart-pod-kill', allowed: false });
    expect(p.steps[0]!.row).toBeUndefined();
    expect(p).toMatchObject({ allowed: false, refusedSteps: ['gameday/cart'] });
    expect(formatWorkflowPlans([p])).toContain('\n  cart: experiment cart-pod-kill not found REFUSED\n');
  });
});

describe('formatWorkflowPlans', () => {
  it('one line per step, only the failing guards under a step, every refused step and target named', () => {
    const p = plan(
      `${kill('dns', 'kube-dns', '{ type: one }', 'kube-system')}${kill('two', 'checkout', '{ type: fixed, value: 2 }')}` +
        group('both', kill('a', 'cart') + kill('b', 'checkout')) +
        group('over', kill('c', 'cart') + kill('d', 'cart')) +
        '- name: wait\n  pause: 5s\n  continueOnFailure: true\n',
    );
    // pod names end in generated suffixes; everything else is pinned
    const text = formatWorkflowPlans([p]).replace(/-[a-z0-9]{10}-[a-z0-9]{5}\b/g, '-<pod>');
    expect(text).toBe(`WORKFLOW gameday (experiments/gameday.yaml) once: REFUSED (gameday/dns, gameday/two, gameday/over)
  dns: pod-kill kube-system targets 1/2 blast radius Deployment/coredns 1/2 (50%) REFUSED
    targets (seed 5): coredns-<pod>
    ✗ protected-namespace: namespace kube-system is protected (protected: kube-system, kube-public, kube-node-lease, faultline)
  two: pod-kill shop targets 2/4 blast radius Deployment/checkout 2/4 (50%) REFUSED
    targets (seed 5): checkout-<pod>, checkout-<pod>
    ✗ pdb: checkout-pdb: 4 healthy, needs 3, allows 1 disruption, run takes 2
  both: parallel, together 2 targets blast radius Deployment/cart 1/3 (33%), Deployment/checkout 1/4 (25%) allowed
    a: pod-kill shop targets 1/3 blast radius Deployment/cart 1/3 (33%) allowed
      targets (seed 5): cart-<pod>
    b: pod-kill shop targets 1/4 blast radius Deployment/checkout 1/4 (25%) allowed
      targets (seed 5): checkout-<pod>
  over: parallel, together 2 targets blast radius Deployment/cart 2/3 (67%) REFUSED
    ✗ combined-blast-radius: together Deployment/cart 2/3 ready (67%) over the 50% cap (controller)
    c: pod-kill shop targets 1/3 blast radius Deployment/cart 1/3 (33%) allowed
      targets (seed 5): cart-<pod>
    d: pod-kill shop targets 1/3 blast radius Deployment/cart 1/3 (33%) allowed
      targets (seed 5): cart-<pod>
  wait: pause 5s [continueOnFailure]
`);
  });

  it('a step that hits no pod prints no target line and no radius', () => {
    const text = formatWorkflowPlans([plan(kill('nobody', 'no-such-app'))]);
    expect(text).toMatch(/^WORKFLOW gameday \(experiments\/gameday\.yaml\) once: \w+.*\n {2}nobody: pod-kill shop targets 0\/0 blast radius - \w+\n/);
    expect(text).not.toContain('targets (seed');
  });
});
