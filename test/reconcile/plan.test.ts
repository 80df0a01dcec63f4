import { describe, expect, it } from 'vitest';
import { planReconcile } from '../../src/reconcile/plan.js';
import type { AppliedRecord, PlanItem } from '../../src/reconcile/types.js';
import type { LoadedExperiment } from '../../src/experiments/model.js';
import { experiment, load, problem } from './fixtures.js';

function appliedOf(e: LoadedExperiment, extra: Partial<AppliedRecord> = {}): AppliedRecord {
  return {
    name: e.experiment.metadata.name,
    file: e.file,
    specHash: e.specHash,
    revision: 'rev0',
    appliedAt: '2026-11-20T10:00:00.000Z',
    scheduled: Boolean(e.experiment.spec.schedule),
    suspended: Boolean(e.experiment.spec.suspend),
    ...extra,
  };
}

const byName = (items: PlanItem[]) => new Map(items.map((i) => [i.name, i]));

describe('planReconcile', () => {
  it('sorts experiments into create, update, unchanged, suspend and delete', () => {
    const same = experiment('same');
    const changedOld = experiment('changed', { percent: 30 });
    const changedNew = experiment('changed', { percent: 40 });
    const fresh = experiment('fresh');
    const paused = experiment('paused', { suspend: true });
    const gone = experiment('gone');
    const applied = new Map([same, changedOld, gone].map((e) => [e.experiment.metadata.name, appliedOf(e)]));

    const plan = planReconcile({ revision: 'rev1', load: load([same, changedNew, fresh, paused]), applied, freeze: false });
    const items = byName(plan.items);
    expect(plan.revision).toBe('rev1');
    expect(plan.freeze).toBe(false);
    expect(Object.fromEntries([...items].map(([n, i]) => [n, i.action]))).toEqual({
      same: 'unchanged',
      changed: 'update',
      fresh: 'create',
      paused: 'suspend',
      gone: 'delete',
    });
    expect(items.get('changed')!.specHash).toBe(changedNew.specHash);
    expect(items.get('changed')!.experiment).toBe(changedNew);
    expect(items.get('gone')!.experiment).toBeUndefined();
    expect(items.get('gone')!.specHash).toBe(gone.specHash);
    expect(plan.items.map((i) => i.name)).toEqual(['changed', 'fresh', 'gone', 'paused', 'same']);
  });

  it('keeps a suspended experiment unchanged once its suspension is applied, and resumes it as an update', () => {
    const paused = experiment('p', { suspend: true });
    const applied = new Map([['p', appliedOf(paused, { suspended: true })]]);
    expect(planReconcile({ revision: 'r', load: load([paused]), applied, freeze: false }).items[0]!.action).toBe('unchanged');

    // Same hash but the record says suspended (a hash that ignores `suspend`): resume = update.
    const resumed = { ...paused, experiment: { ...paused.experiment, spec: { ...paused.experiment.spec, suspend: false } } };
    expect(planReconcile({ revision: 'r', load: load([resumed]), applied, freeze: false }).items[0]!.action).toBe('update');
  });

  it('reports an invalid file without deleting the experiment it held before', () => {
    const broken = experiment('checkout-kill', { file: 'experiments/checkout.yaml' });
    const other = experiment('cart-kill', { file: 'experiments/cart.yaml' });
    const applied = new Map([
      ['checkout-kill', appliedOf(broken)],
      ['cart-kill', appliedOf(other)],
    ]);
    // The file no longer parses: the loader returns no experiment from it, only problems.
    const plan = planReconcile({
      revision: 'rev2',
      load: load([other], [problem('experiments/checkout.yaml')]),
      applied,
      freeze: false,
    });
    const items = byName(plan.items);
    expect(items.get('checkout-kill')!.action).toBe('invalid');
    expect(items.get('checkout-kill')!.specHash).toBe(broken.specHash);
    expect(items.get('checkout-kill')!.problems![0]!.message).toMatch(/duration/);
    expect(items.get('cart-kill')!.action).toBe('unchanged');
    expect(plan.items.some((i) => i.action === 'delete')).toBe(false);
  });

  it('blocks every experiment of a file with a problem, even its valid documents, and only that file', () => {
    const a1 = experiment('a1', { file: 'multi.yaml' });
    const a2 = experiment('a2', { file: 'multi.yaml' });
    const b = experiment('b', { file: 'b.yaml' });
    const plan = planReconcile({ revision: 'r', load: load([a1, a2, b], [problem('multi.yaml')]), applied: new Map(), freeze: false });
    const items = byName(plan.items);
    expect(items.get('a1')!.action).toBe('invalid');
    expect(items.get('a2')!.action).toBe('invalid');
    expect(items.get('b')!.action).toBe('create');
  });

  it('names a broken file with no known experiment by its path, and uses previousFiles for names', () => {
    const plan = planReconcile({
      revision: 'r',
      load: load([], [problem('experiments/new.yaml'), problem('experiments/was-good.yaml')]),
      applied: new Map(),
      freeze: false,
      previousFiles: new Map([['experiments/was-good.yaml', ['net-delay']]]),
    });
    expect(plan.items.map((i) => [i.name, i.action, i.file])).toEqual([
      ['experiments/new.yaml', 'invalid', 'experiments/new.yaml'],
      ['net-delay', 'invalid', 'experiments/was-good.yaml'],
    ]);
  });

  it('lets a valid definition elsewhere win over a broken old file', () => {
    const moved = experiment('x', { file: 'new-place.yaml' });
    const applied = new Map([['x', appliedOf(experiment('x', { file: 'old-place.yaml' }))]]);
    const plan = planReconcile({ revision: 'r', load: load([moved], [problem('old-place.yaml')]), applied, freeze: false });
    const items = byName(plan.items);
    expect(items.get('x')!.action).toBe('unchanged');
    expect(items.get('x')!.file).toBe('new-place.yaml');
    expect(items.get('old-place.yaml')!.action).toBe('invalid');
  });

  it('carries the freeze flag without changing the actions', () => {
    const plan = planReconcile({ revision: 'r', load: load([experiment('a')]), applied: new Map(), freeze: true });
    expect(plan.freeze).toBe(true);
    expect(plan.items[0]!.action).toBe('create');
  });

  it('plans 10,000 experiments with mixed actions correctly (and quickly)', () => {
    const experiments: LoadedExperiment[] = [];
    const applied = new Map<string, AppliedRecord>();
    for (let i = 0; i < 10_000; i++) {
      const name = `exp-${String(i).padStart(5, '0')}`;
      const e = experiment(name, { percent: 30 });
      experiments.push(i % 10 === 1 ? experiment(name, { percent: 31 }) : e);
      if (i % 10 !== 0) applied.set(name, appliedOf(e));
    }
    for (let i = 0; i < 100; i++) applied.set(`old-${i}`, appliedOf(experiment(`old-${i}`)));
    const input = { revision: 'r', load: load(experiments), applied, freeze: false };
    planReconcile(input); // warm up
    const started = performance.now();
    const plan = planReconcile(input);
    const ms = performance.now() - started;
    const counts: Record<string, number> = {};
    for (const i of plan.items) counts[i.action] = (counts[i.action] ?? 0) + 1;
    expect(counts).toEqual({ create: 1000, update: 1000, unchanged: 8000, delete: 100 });
    // Not a timing assertion (shared CI cores); the number is reported for the bench notes.
    console.log(`planReconcile: 10,000 experiments + 100 deletes in ${ms.toFixed(1)} ms`);
  });
});
