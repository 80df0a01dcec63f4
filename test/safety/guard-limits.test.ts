// The guards at their edges: the cases a refactor could quietly get wrong (found by mutation
// testing, `npm run mutate`). Each test is a promise a user relies on when a guard says "ok".
import { describe, expect, it } from 'vitest';
import type { PdbStatus } from '../../src/cluster/types.js';
import { allowed, evaluateGuards, type GuardInput } from '../../src/safety/guards.js';
import { config, experiment, input, targets } from './guard-fixtures.js';

const verdict = (i: GuardInput, guard: string) => {
  const v = evaluateGuards(i).find((g) => g.guard === guard);
  if (!v) throw new Error(`no ${guard} verdict`);
  return v;
};

const budget = (over: Partial<PdbStatus> = {}): PdbStatus => ({ name: 'checkout-pdb', namespace: 'shop', minAvailable: 3, expected: 4, healthy: 4, hit: 1, ...over });
const scaleTo = (replicas: unknown) => experiment({ fault: { type: 'scale-down', params: { replicas } } });
const http = (params: Record<string, unknown>) => experiment({ fault: { type: 'http-fault', params: { virtualService: 'checkout', ...params } }, target: { namespace: 'shop', selector: { matchLabels: { app: 'checkout' } }, mode: { type: 'all' } } });

describe('scale-down against a PodDisruptionBudget', () => {
  it('scale-down that would break a PodDisruptionBudget is refused, even when the mode chose one pod', () => {
    // 4 ready, minAvailable 3: one disruption allowed; scaling to 2 takes two pods away. 2/4 is within the 50% cap.
    const i = input({ experiment: scaleTo(2), targets: targets(1, 4), pdbs: [budget()] });
    expect(verdict(i, 'blast-radius').ok).toBe(true);
    expect(verdict(i, 'pdb')).toEqual({ guard: 'pdb', ok: false, reason: 'checkout-pdb: 4 healthy, needs 3, allows 1 disruption, run takes 2' });
    expect(allowed(evaluateGuards(i))).toBe(false);
  });

  it('scale-down that removes only what the budget allows passes', () => {
    const i = input({ experiment: scaleTo(3), targets: targets(1, 4), pdbs: [budget()] });
    expect(verdict(i, 'pdb')).toEqual({ guard: 'pdb', ok: true, reason: 'checkout-pdb: 4 healthy, needs 3, allows 1 disruption, run takes 1' });
  });

  it('a budget is charged at most the healthy pods it covers, and never fewer than the mode chose', () => {
    // The budget covers 2 of the 4 pods; scaling to 0 cannot take more than those 2 from it.
    const partial = budget({ minAvailable: 0, expected: 2, healthy: 2, hit: 1 });
    expect(verdict(input({ experiment: scaleTo(0), targets: targets(1, 4), pdbs: [partial] }), 'pdb').reason).toBe('checkout-pdb: 2 healthy, needs 0, allows 2 disruptions, run takes 2');
    // mode all chose 4 pods while the scale removes 1: the budget is charged the 4 the mode named.
    const all = budget({ minAvailable: 1, hit: 4 });
    expect(verdict(input({ experiment: scaleTo(3), targets: targets(4, 4), pdbs: [all] }), 'pdb').reason).toBe('checkout-pdb: 4 healthy, needs 1, allows 3 disruptions, run takes 4');
  });

  it('a scale-down without a replica count is measured as scaling to zero and refused', () => {
    const i = input({ experiment: experiment({ fault: { type: 'scale-down', params: {} } }), targets: targets(1, 4), pdbs: [budget()] });
    expect(verdict(i, 'blast-radius')).toMatchObject({ ok: false, reason: 'Deployment/checkout 4/4 ready (100%) over the 50% cap (controller)' });
    expect(verdict(i, 'pdb')).toMatchObject({ ok: false, reason: 'checkout-pdb: 4 healthy, needs 3, allows 1 disruption, run takes 4' });
    // a non-number (say, a string from a hand-made ledger entry) is treated the same way
    expect(verdict(input({ experiment: scaleTo('3'), targets: targets(1, 4) }), 'blast-radius').ok).toBe(false);
  });

  it('scale-down of a workload with no ready pods counts as fully hit', () => {
    const t = targets(1, 4);
    t.blastRadius = [{ ...t.blastRadius[0]!, ready: 0 }];
    expect(verdict(input({ experiment: scaleTo(0), targets: t }), 'blast-radius')).toMatchObject({ ok: false, reason: expect.stringContaining('0/0 ready (100%)') });
  });

  it('pod faults are charged only the pods they hit, whatever the workload size', () => {
    const i = input({ targets: targets(1, 4), pdbs: [budget({ hit: 1 })] });
    expect(verdict(i, 'pdb')).toMatchObject({ ok: true, reason: 'checkout-pdb: 4 healthy, needs 3, allows 1 disruption, run takes 1' });
  });

  it('a pod fault charges each budget only the chosen pods it covers, not the whole run', () => {
    // The run hits 1 checkout pod and 2 cart pods; the checkout budget covers only the first.
    const t = targets(1, 4);
    t.blastRadius.push({ workload: 'Deployment/cart', namespace: 'shop', hit: 2, ready: 8, percent: 25 });
    expect(verdict(input({ targets: t, pdbs: [budget({ hit: 1 })] }), 'pdb')).toMatchObject({ ok: true, reason: 'checkout-pdb: 4 healthy, needs 3, allows 1 disruption, run takes 1' });
  });

  it('every budget is checked and every broken one is named', () => {
    const a = budget({ name: 'a', hit: 2 });
    const b = budget({ name: 'b', minAvailable: 1, hit: 2 });
    const c = budget({ name: 'c', minAvailable: 4, hit: 2 });
    expect(verdict(input({ targets: targets(2, 4), pdbs: [a, b, c] }), 'pdb').reason).toBe('a: 4 healthy, needs 3, allows 1 disruption, run takes 2; c: 4 healthy, needs 4, allows 0 disruptions, run takes 2');
    expect(verdict(input({ targets: targets(2, 4), pdbs: [b, b] }), 'pdb')).toMatchObject({ ok: true, reason: 'b: 4 healthy, needs 1, allows 3 disruptions, run takes 2; b: 4 healthy, needs 1, allows 3 disruptions, run takes 2' });
  });
});

describe('http-fault blast radius', () => {
  it('an http-fault is charged the share of traffic it touches, as pods', () => {
    const i = input({ experiment: http({ abort: { httpStatus: 503, percent: 30 } }), targets: targets(4, 4) });
    expect(verdict(i, 'blast-radius')).toEqual({ guard: 'blast-radius', ok: true, reason: 'Deployment/checkout 2/4 ready (30%) within the 50% cap (controller)' });
  });

  it('abort and delay add up: 30% + 30% of the traffic is over a 50% cap', () => {
    const i = input({ experiment: http({ abort: { httpStatus: 503, percent: 30 }, delay: { fixedDelay: '1s', percent: 30 } }), targets: targets(4, 4) });
    expect(verdict(i, 'blast-radius')).toMatchObject({ ok: false, reason: 'Deployment/checkout 3/4 ready (60%) over the 50% cap (controller)' });
  });

  it('an http-fault never counts more than all of the traffic', () => {
    const i = input({ experiment: http({ abort: { httpStatus: 503, percent: 80 }, delay: { fixedDelay: '1s', percent: 70 } }), targets: targets(4, 4) });
    expect(verdict(i, 'blast-radius').reason).toBe('Deployment/checkout 4/4 ready (100%) over the 50% cap (controller)');
  });

  it('a delay on 10% of the traffic rounds its pod count up, never down', () => {
    const i = input({ experiment: http({ delay: { fixedDelay: '1s', percent: 10 } }), targets: targets(4, 4) });
    expect(verdict(i, 'blast-radius').reason).toBe('Deployment/checkout 1/4 ready (10%) within the 50% cap (controller)');
  });

  it('a zero, negative or missing percent adds nothing', () => {
    const i = input({ experiment: http({ abort: { httpStatus: 503, percent: 0 }, delay: { fixedDelay: '1s', percent: -20 } }), targets: targets(4, 4) });
    expect(verdict(i, 'blast-radius').reason).toBe('Deployment/checkout 0/4 ready (0%) within the 50% cap (controller)');
    const j = input({ experiment: http({ abort: { httpStatus: 503 }, delay: { fixedDelay: '1s', percent: 40 } }), targets: targets(4, 4) });
    expect(verdict(j, 'blast-radius').reason).toBe('Deployment/checkout 2/4 ready (40%) within the 50% cap (controller)');
  });

  it('an http-fault is not refused by a PodDisruptionBudget: it disrupts no pod', () => {
    const i = input({ experiment: http({ abort: { httpStatus: 503, percent: 20 } }), targets: targets(4, 4), pdbs: [budget({ hit: 4 })] });
    expect(verdict(i, 'pdb')).toEqual({ guard: 'pdb', ok: true, reason: 'http-fault changes routing only; no pod is disrupted' });
    expect(allowed(evaluateGuards(i))).toBe(true);
  });
});

describe('targets and caps at their boundaries', () => {
  it('a mode that chose 0 of N matching pods is refused', () => {
    const i = input({ targets: targets(0, 4) });
    expect(verdict(i, 'no-targets')).toEqual({ guard: 'no-targets', ok: false, reason: 'mode chose 0 of 4 matching pods' });
    expect(verdict(i, 'blast-radius')).toEqual({ guard: 'blast-radius', ok: true, reason: 'no workload hit' });
    expect(allowed(evaluateGuards(i))).toBe(false);
  });

  it('one chosen pod passes the no-targets guard and says how many were chosen', () => {
    expect(verdict(input({ targets: targets(1, 4) }), 'no-targets')).toEqual({ guard: 'no-targets', ok: true, reason: '1 of 4 matching ready pods chosen' });
  });

  it('with no matching pods there is nothing to measure and the blast-radius guard refuses too', () => {
    expect(verdict(input({ targets: targets(0, 0) }), 'blast-radius')).toEqual({ guard: 'blast-radius', ok: false, reason: 'nothing to measure: no targets' });
  });

  it('exactly maxTargets pods is allowed; one more is refused', () => {
    expect(verdict(input({ targets: targets(10, 100) }), 'max-targets')).toEqual({ guard: 'max-targets', ok: true, reason: '10 targets <= 10 (controller cap)' });
    expect(verdict(input({ targets: targets(1, 100) }), 'max-targets').reason).toBe('1 target <= 10 (controller cap)');
    expect(verdict(input({ targets: targets(11, 100) }), 'max-targets').ok).toBe(false);
    const exp2 = experiment({ safety: { maxTargets: 2 } });
    expect(verdict(input({ experiment: exp2, targets: targets(2, 100) }), 'max-targets')).toMatchObject({ ok: true, reason: '2 targets <= 2 (experiment cap)' });
  });

  it('an experiment cap that is looser than or equal to the controller cap is reported as the controller cap', () => {
    expect(verdict(input({ experiment: experiment({ safety: { maxTargets: 50 } }), targets: targets(3, 100) }), 'max-targets').reason).toBe('3 targets <= 10 (controller cap)');
    expect(verdict(input({ experiment: experiment({ safety: { maxTargets: 10 } }), targets: targets(3, 100) }), 'max-targets').reason).toBe('3 targets <= 10 (controller cap)');
    expect(verdict(input({ experiment: experiment({ safety: { maxBlastRadiusPercent: 90 } }) }), 'blast-radius').reason).toBe('Deployment/checkout 1/4 ready (25%) within the 50% cap (controller)');
    expect(verdict(input({ experiment: experiment({ safety: { maxBlastRadiusPercent: 50 } }) }), 'blast-radius').reason).toBe('Deployment/checkout 1/4 ready (25%) within the 50% cap (controller)');
    expect(verdict(input({ experiment: experiment({ safety: { maxBlastRadiusPercent: 30 } }) }), 'blast-radius').reason).toBe('Deployment/checkout 1/4 ready (25%) within the 30% cap (experiment)');
  });

  it('every workload over the cap is named', () => {
    const t = targets(3, 4);
    t.blastRadius.push({ workload: 'Deployment/cart', namespace: 'shop', hit: 2, ready: 2, percent: 100 });
    expect(verdict(input({ targets: t }), 'blast-radius').reason).toBe('Deployment/checkout 3/4 ready (75%), Deployment/cart 2/2 ready (100%) over the 50% cap (controller)');
    const ok = targets(1, 4);
    ok.blastRadius.push({ workload: 'Deployment/cart', namespace: 'shop', hit: 1, ready: 3, percent: 100 / 3 });
    expect(verdict(input({ targets: ok }), 'blast-radius').reason).toBe('Deployment/checkout 1/4 ready (25%), Deployment/cart 1/3 ready (33.33%) within the 50% cap (controller)');
  });
});

describe('the reasons a plan shows', () => {
  it('a refused run says why, guard by guard', () => {
    const cfg = { ...config, allowedWindows: [{ days: [1], start: '09:00', end: '09:30' }, { start: '11:00', end: '12:00' }] };
    const i = input({ config: cfg, killSwitch: true, freeze: true, experiment: experiment({ target: { namespace: 'kube-system', selector: { matchLabels: { app: 'x' } }, mode: { type: 'one' } } }) });
    const reasons = Object.fromEntries(evaluateGuards(i).map((v) => [v.guard, v.reason]));
    expect(reasons['kill-switch']).toBe('the kill switch is set (faultline abort --all); nothing starts until it is cleared');
    expect(reasons['freeze-file']).toBe('the repository has .faultline/freeze; nothing starts until it is removed');
    expect(reasons['time-window']).toBe('outside the allowed windows (Mon 09:00-09:30 UTC; 11:00-12:00 UTC)');
    expect(reasons['protected-namespace']).toBe('namespace kube-system is protected (protected: kube-system, kube-public, kube-node-lease, faultline)');
  });

  it('an allowed run says why each guard let it through', () => {
    const cfg = { ...config, allowedWindows: [{ start: '09:00', end: '17:00' }], freezeWindows: [{ start: '22:00', end: '23:00' }] };
    const reasons = Object.fromEntries(evaluateGuards(input({ config: cfg, active: { runs: 1, lockedWorkloads: [] } })).map((v) => [v.guard, v.reason]));
    expect(reasons).toEqual({
      'kill-switch': 'kill switch not set',
      'freeze-file': 'no .faultline/freeze in the repository',
      'freeze-window': 'outside every freeze window',
      'time-window': 'inside allowed window 09:00-17:00 UTC',
      'protected-namespace': 'namespace shop is not protected',
      'opt-in': 'namespace shop has faultline.dev/chaos=enabled',
      'no-targets': '1 of 4 matching ready pods chosen',
      'max-targets': '1 target <= 10 (controller cap)',
      'blast-radius': 'Deployment/checkout 1/4 ready (25%) within the 50% cap (controller)',
      pdb: 'no PodDisruptionBudget selects the targets',
      concurrency: '1 run active, cap 2',
      lock: 'no target workload is locked',
    });
    expect(verdict(input({ config: { ...config, freezeWindows: [] } }), 'freeze-window').reason).toBe('no freeze windows configured');
    expect(verdict(input({ config: { ...config, allowedWindows: [] } }), 'time-window').reason).toBe('no allowed windows configured: any time');
  });

  it('one free slot below the concurrency cap is allowed; every locked workload is named', () => {
    const t = targets(2, 4);
    t.workloads.push({ workload: 'StatefulSet/db', namespace: 'shop', ready: 1, total: 1 });
    const busy = input({ targets: t, active: { runs: 1, lockedWorkloads: ['shop/Deployment/checkout', 'shop/StatefulSet/db'] } });
    expect(verdict(busy, 'concurrency')).toEqual({ guard: 'concurrency', ok: true, reason: '1 run active, cap 2' });
    expect(verdict(busy, 'lock')).toEqual({ guard: 'lock', ok: false, reason: 'workload shop/Deployment/checkout, shop/StatefulSet/db is locked by another run' });
    expect(verdict(input({ active: { runs: 0, lockedWorkloads: [] } }), 'concurrency').reason).toBe('0 runs active, cap 2');
  });
});
