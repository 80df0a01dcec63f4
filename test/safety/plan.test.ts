// planExperiment and the guards on the live (simulated) cluster: the shop topology.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetResolver } from '../../src/cluster/index.js';
import type { ClusterTargetResolver } from '../../src/cluster/types.js';
import { DEFAULTS } from '../../src/config/index.js';
import { loadExperimentFiles } from '../../src/experiments/index.js';
import type { LoadedExperiment } from '../../src/experiments/model.js';
import type { PlanRowLike } from '../../src/report/pr-plan.js';
import { formatPlanTable, planExperiment, type PlanDeps } from '../../src/safety/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';

let sim: Simulator;
let resolver: ClusterTargetResolver;
const deps: PlanDeps = {
  config: {
    protectedNamespaces: [...DEFAULTS.protectedNamespaces],
    optInLabel: { ...DEFAULTS.optInLabel },
    maxBlastRadiusPercent: 50,
    maxTargets: 10,
    maxConcurrentRuns: 2,
    allowedWindows: [],
    freezeWindows: [],
    ownNamespace: 'faultline',
  },
};

beforeAll(async () => {
  sim = await startSimulator();
  resolver = createTargetResolver(sim.kubeConfig());
  await resolver.ready();
});
afterAll(async () => {
  resolver?.close();
  await sim?.close();
});

function load(name: string, target: string, extra = ''): LoadedExperiment {
  const yaml = `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata: { name: ${name} }
spec:
  fault: { type: pod-kill }
  target:
${target.replace(/^/gm, '    ')}
  duration: 30s
${extra}`;
  const r = loadExperimentFiles([{ path: `experiments/${name}.yaml`, content: new TextEncoder().encode(yaml) }]);
  if (r.problems.length) throw new Error(r.problems.map((p) => `${p.line}:${p.column} ${p.message}`).join('\n'));
  return r.experiments[0]!;
}

const guard = (row: ReturnType<typeof planExperiment>, g: string) => row.guards.find((v) => v.guard === g)!;

describe('planExperiment on the shop topology', () => {
  it('30% of checkout: 2 of 4 pods, 50% blast radius, refused by checkout-pdb (minAvailable 3)', () => {
    const row = planExperiment(load('checkout-30', 'namespace: shop\nselector: { matchLabels: { app: checkout } }\nmode: { type: percent, value: 30 }'), resolver, deps);
    expect(row.targets).toHaveLength(2);
    expect(row.candidates).toBe(4);
    expect(row.blastRadius).toEqual([{ workload: 'Deployment/checkout', namespace: 'shop', hit: 2, ready: 4, percent: 50 }]);
    expect(guard(row, 'blast-radius').ok).toBe(true);
    expect(guard(row, 'pdb')).toEqual({ guard: 'pdb', ok: false, reason: 'checkout-pdb: 4 healthy, needs 3, allows 1 disruption, run takes 2' });
    expect(row.allowed).toBe(false);
  });

  it('one checkout pod is allowed; the plan is stable for a spec (seed from its hash) and --seed overrides', () => {
    const e = load('checkout-one', 'namespace: shop\nselector: { matchLabels: { app: checkout } }\nmode: { type: one }');
    const row = planExperiment(e, resolver, deps);
    expect(row.allowed).toBe(true);
    const forPullRequest: PlanRowLike = row; // the PR plan takes the same rows
    expect(forPullRequest.targets).toEqual(row.targets);
    expect(guard(row, 'pdb').reason).toBe('checkout-pdb: 4 healthy, needs 3, allows 1 disruption, run takes 1');
    expect(planExperiment(e, resolver, deps).targets).toEqual(row.targets);
    expect(planExperiment(e, resolver, { ...deps, seed: 99 }).seed).toBe(99);
  });

  it('kube-system is refused as protected although it carries the opt-in label', () => {
    expect(resolver.namespaceLabels('kube-system')?.['faultline.dev/chaos']).toBe('enabled');
    const row = planExperiment(load('dns', 'namespace: kube-system\nselector: { matchLabels: { k8s-app: kube-dns } }\nmode: { type: one }'), resolver, deps);
    expect(guard(row, 'protected-namespace')).toMatchObject({ ok: false, reason: expect.stringContaining('namespace kube-system is protected') });
    expect(guard(row, 'opt-in').ok).toBe(true);
    expect(row.allowed).toBe(false);
  });

  it('legacy is refused by opt-in', () => {
    const row = planExperiment(load('billing', 'namespace: legacy\nselector: { matchLabels: { app: billing } }\nmode: { type: one }'), resolver, deps);
    expect(guard(row, 'opt-in')).toEqual({ guard: 'opt-in', ok: false, reason: 'namespace legacy lacks the opt-in label faultline.dev/chaos=enabled' });
    expect(row.allowed).toBe(false);
  });

  it('blast radius over the cap; an experiment cap only tightens', () => {
    const all = planExperiment(load('cart-all', 'namespace: shop\nselector: { matchLabels: { app: cart } }\nmode: { type: all }'), resolver, deps);
    expect(guard(all, 'blast-radius')).toMatchObject({ ok: false, reason: 'Deployment/cart 3/3 ready (100%) over the 50% cap (controller)' });
    const loose = planExperiment(load('cart-all-loose', 'namespace: shop\nselector: { matchLabels: { app: cart } }\nmode: { type: all }', '  safety: { maxBlastRadiusPercent: 100 }'), resolver, deps);
    expect(guard(loose, 'blast-radius').ok).toBe(false);
    const tight = planExperiment(load('cart-one-tight', 'namespace: shop\nselector: { matchLabels: { app: cart } }\nmode: { type: one }', '  safety: { maxBlastRadiusPercent: 20 }'), resolver, deps);
    expect(guard(tight, 'blast-radius')).toMatchObject({ ok: false, reason: 'Deployment/cart 1/3 ready (33.33%) over the 20% cap (experiment)' });
  });

  it('no matching pods is a refusal with a reason, and the table shows it', () => {
    const row = planExperiment(load('ghost', 'namespace: shop\nselector: { matchLabels: { app: ghost } }\nmode: { type: all }'), resolver, deps);
    expect(guard(row, 'no-targets')).toEqual({ guard: 'no-targets', ok: false, reason: 'no ready pods in shop match the selector' });
    const table = formatPlanTable([row]);
    expect(table).toContain('REFUSED (no-targets, blast-radius)');
    expect(table).toContain('✗ no-targets: no ready pods in shop match the selector');
  });
});
