// A broken file never deletes: whatever a file held when it last loaded stays applied (and is
// reported invalid) until the file is fixed or really removed. And a suspended experiment whose
// spec changed is re-applied as suspended, not reported unchanged.
import { describe, expect, it } from 'vitest';
import { planReconcile } from '../../src/reconcile/plan.js';
import type { AppliedRecord } from '../../src/reconcile/types.js';
import type { LoadedExperiment } from '../../src/experiments/model.js';
import { experiment, load, problem } from './fixtures.js';

function appliedOf(e: LoadedExperiment, extra: Partial<AppliedRecord> = {}): AppliedRecord {
  return {
    name: e.experiment.metadata.name, file: e.file, specHash: e.specHash, revision: 'rev0',
    appliedAt: '2026-11-20T10:00:00.000Z', scheduled: false, suspended: Boolean(e.experiment.spec.suspend), ...extra,
  };
}
const appliedMap = (...es: LoadedExperiment[]) => new Map(es.map((e) => [e.experiment.metadata.name, appliedOf(e)]));
const rows = (items: { name: string; action: string; file: string }[]) => items.map((i) => `${i.action} ${i.name} ${i.file}`);

describe('a broken file never deletes', () => {
  it('a broken file with two experiments deletes neither', () => {
    const a = experiment('pod-kill-a', { file: 'experiments/shop.yaml' });
    const b = experiment('pod-kill-b', { file: 'experiments/shop.yaml' });
    const c = experiment('cart-kill', { file: 'experiments/cart.yaml' });
    const plan = planReconcile({ revision: 'r2', load: load([c], [problem('experiments/shop.yaml')]), applied: appliedMap(a, b, c), freeze: false });
    expect(rows(plan.items)).toEqual(['unchanged cart-kill experiments/cart.yaml', 'invalid pod-kill-a experiments/shop.yaml', 'invalid pod-kill-b experiments/shop.yaml']);
    const invalid = plan.items.filter((i) => i.action === 'invalid');
    expect(invalid.map((i) => i.specHash)).toEqual([a.specHash, b.specHash]);
    expect(invalid.every((i) => i.problems?.[0]?.file === 'experiments/shop.yaml')).toBe(true);
  });

  it('a broken file with three applied experiments and a name known only from its last good load deletes none of them', () => {
    const es = ['a', 'b', 'c'].map((n) => experiment(n, { file: 'many.yaml' }));
    const plan = planReconcile({
      revision: 'r2', load: load([], [problem('many.yaml')]), applied: appliedMap(...es), freeze: false,
      previousFiles: new Map([['many.yaml', ['a', 'b', 'c', 'd']]]),
    });
    expect(rows(plan.items)).toEqual(['invalid a many.yaml', 'invalid b many.yaml', 'invalid c many.yaml', 'invalid d many.yaml']);
    expect(plan.items.find((i) => i.name === 'd')!.specHash).toBeUndefined();
  });

  it('every problem of a broken file is reported, not only the last', () => {
    const a = experiment('a', { file: 'two.yaml' });
    const problems = [problem('two.yaml', 'spec.duration: must be a duration'), problem('two.yaml', 'spec.target: required')];
    const plan = planReconcile({ revision: 'r', load: load([], problems), applied: appliedMap(a), freeze: false });
    expect(plan.items).toHaveLength(1);
    expect(plan.items[0]!.problems!.map((p) => p.message)).toEqual(['spec.duration: must be a duration', 'spec.target: required']);
  });

  it('an applied experiment whose file still parses partly is reported once, not once per reason', () => {
    // The valid document of a file with a problem elsewhere: known from the load AND from the applied record.
    const a = experiment('a', { file: 'half.yaml' });
    const plan = planReconcile({ revision: 'r', load: load([a], [problem('half.yaml')]), applied: appliedMap(a), freeze: false, previousFiles: new Map([['half.yaml', ['a']]]) });
    expect(rows(plan.items)).toEqual(['invalid a half.yaml']);
  });

  it('a broken file whose documents are all known by name is not also listed by its path', () => {
    const a = experiment('a', { file: 'half.yaml' });
    expect(rows(planReconcile({ revision: 'r', load: load([a], [problem('half.yaml')]), applied: new Map(), freeze: false }).items)).toEqual(['invalid a half.yaml']);
    expect(rows(planReconcile({ revision: 'r', load: load([], [problem('half.yaml')]), applied: appliedMap(a), freeze: false }).items)).toEqual(['invalid a half.yaml']);
  });

  it('a problem that names no file blocks nothing and deletes nothing', () => {
    const a = experiment('a');
    const plan = planReconcile({ revision: 'r', load: load([a], [{ ...problem(''), file: '' }]), applied: appliedMap(a), freeze: false });
    expect(rows(plan.items)).toEqual([`unchanged a ${a.file}`]);
  });

  it('an experiment removed from a file that still loads is deleted', () => {
    const kept = experiment('kept', { file: 'f.yaml' });
    const removed = experiment('removed', { file: 'f.yaml' });
    const plan = planReconcile({ revision: 'r', load: load([kept]), applied: appliedMap(kept, removed), freeze: false });
    expect(rows(plan.items)).toEqual(['unchanged kept f.yaml', 'delete removed f.yaml']);
  });
});

describe('suspended experiments', () => {
  it('a suspended experiment whose spec changed is applied again as suspended, not reported unchanged', () => {
    const before = experiment('p', { suspend: true, percent: 30 });
    const after = experiment('p', { suspend: true, percent: 40 });
    const plan = planReconcile({ revision: 'r', load: load([after]), applied: new Map([['p', appliedOf(before, { suspended: true })]]), freeze: false });
    expect(plan.items.map((i) => [i.action, i.specHash])).toEqual([['suspend', after.specHash]]);
  });

  it('suspending an applied experiment, or a new one, is a suspend', () => {
    const running = experiment('p', { percent: 30 });
    const paused = { ...running, experiment: { ...running.experiment, spec: { ...running.experiment.spec, suspend: true } } };
    expect(planReconcile({ revision: 'r', load: load([paused]), applied: new Map([['p', appliedOf(running, { suspended: false })]]), freeze: false }).items[0]!.action).toBe('suspend');
    expect(planReconcile({ revision: 'r', load: load([paused]), applied: new Map(), freeze: false }).items[0]!.action).toBe('suspend');
  });
});

describe('plan order', () => {
  it('items are listed by name, whatever order the files came in', () => {
    const names = Array.from({ length: 80 }, (_, i) => `exp-${String((i * 37) % 80).padStart(2, '0')}`);
    const plan = planReconcile({ revision: 'r', load: load(names.map((n) => experiment(n))), applied: new Map(), freeze: false });
    expect(plan.items.map((i) => i.name)).toEqual([...names].sort());
  });
});
