// The resilience score's definition, edge by edge (README "Resilience score").
import { describe, expect, it } from 'vitest';
import { DEFAULT_RECOVERY_TARGET_MS, recoveryValue, scoreRun, scoreWorkflowRun } from '../../src/workflows/score.js';
import { faultRun, gamedayRun } from './run-fixtures.js';

describe('experiment run score', () => {
  it('a clean run: every probe check passed, recovered under the target, succeeded → 100', () => {
    expect(scoreRun(faultRun())).toEqual({
      value: 100,
      parts: [
        { name: 'probes', weight: 50, value: 1 },
        { name: 'recovery', weight: 30, value: 1 },
        { name: 'outcome', weight: 20, value: 1 },
      ],
    });
  });

  it('before-probes do not count; failures during and after do', () => {
    const r = faultRun({
      probes: [
        { name: 'p', phase: 'before', ok: false, checks: 10, failures: 10 },
        { name: 'p', phase: 'during', ok: false, checks: 6, failures: 3 },
        { name: 'p', phase: 'after', ok: true, checks: 2, failures: 0 },
      ],
    });
    // probes 5/8 = 0.625 → (50*0.625 + 30 + 20) / 100
    expect(scoreRun(r)!.value).toBe(81.3);
    expect(scoreRun(r)!.parts[0]).toEqual({ name: 'probes', weight: 50, value: 0.625 });
  });

  it('recovery: 1 up to the target, linear to 0 at twice it, 0 past that and when it never recovered', () => {
    const t = DEFAULT_RECOVERY_TARGET_MS;
    expect(recoveryValue(0)).toBe(1);
    expect(recoveryValue(t)).toBe(1);
    expect(recoveryValue(t * 1.5)).toBe(0.5);
    expect(recoveryValue(t * 2)).toBe(0);
    expect(recoveryValue(t * 10)).toBe(0);
    expect(recoveryValue(15_000, 10_000)).toBe(0.5);
    expect(() => recoveryValue(1, 0)).toThrow(/positive/);
    const never = faultRun({ recoveryMs: undefined });
    expect(scoreRun(never)!.parts.find((p) => p.name === 'recovery')).toEqual({ name: 'recovery', weight: 30, value: 0 });
    expect(scoreRun(never)!.value).toBe(70);
    expect(scoreRun(faultRun({ recoveryMs: 90_000 }), { recoveryTargetMs: 60_000 })!.value).toBe(85);
  });

  it('a failed run keeps what it measured; an aborted one leaves the outcome out', () => {
    expect(scoreRun(faultRun({ state: 'Failed', outcome: 'failed' }))!.value).toBe(80);
    const aborted = scoreRun(faultRun({ state: 'Aborted', outcome: 'aborted' }))!;
    expect(aborted.parts.map((p) => p.name)).toEqual(['probes', 'recovery']);
    expect(aborted.value).toBe(100);
  });

  it('no probes and no workload (a node fault): only the outcome', () => {
    const s = scoreRun(faultRun({ probes: [], blastRadius: [], recoveryMs: undefined }))!;
    expect(s).toEqual({ value: 100, parts: [{ name: 'outcome', weight: 20, value: 1 }] });
    expect(scoreRun(faultRun({ probes: [], blastRadius: [], state: 'Aborted', outcome: 'aborted' }))).toBeUndefined();
  });

  it('no score while running, nor for a run that never put its fault in place', () => {
    expect(scoreRun(faultRun({ state: 'Running', outcome: undefined }))).toBeUndefined();
    const refused = faultRun({
      state: 'Failed', outcome: 'failed', reasonCode: 'GuardRefused', recoveryMs: undefined,
      timeline: [{ at: '2026-11-30T10:00:00.000Z', state: 'Failed', message: 'refused', code: 'GuardRefused' }],
    });
    expect(scoreRun(refused)).toBeUndefined();
  });

  it('probe failures above the check count (a bad record) never push the part below 0', () => {
    const s = scoreRun(faultRun({ probes: [{ name: 'p', phase: 'during', ok: false, checks: 2, failures: 5 }] }))!;
    expect(s.parts[0]!.value).toBe(0);
  });
});

describe('workflow run score', () => {
  it('the gameday: steps from their fault runs and phases, assertions 2 of 3, succeeded', () => {
    const runs = {
      'shop-gameday/break-things/slow-checkout': faultRun({ id: 'run-delay' }),
      'shop-gameday/break-things/kill-cart': faultRun({ id: 'run-kill', recoveryMs: 90_000 }), // 85
      'shop-gameday/stress-frontend': faultRun({ id: 'run-stress', state: 'Failed', outcome: 'failed' }), // 80
    };
    const s = scoreWorkflowRun(gamedayRun(), runs)!;
    // steps: (1 + 0.85 + 0.8 + 1 [check]) / 4 = 0.9125; pause and parallel group not judged
    expect(s.parts).toEqual([
      { name: 'steps', weight: 50, value: 0.913 },
      { name: 'assertions', weight: 30, value: 0.667 },
      { name: 'outcome', weight: 20, value: 1 },
    ]);
    expect(s.value).toBe(85.6);
  });

  it('without the fault runs a step counts by its phase; Skipped and Aborted steps count 0', () => {
    const r = gamedayRun();
    expect(scoreWorkflowRun(r)!.parts[0]).toEqual({ name: 'steps', weight: 50, value: 0.75 });
    r.steps[5]!.phase = 'Skipped';
    r.steps[3]!.phase = 'Aborted';
    expect(scoreWorkflowRun(r)!.parts[0]!.value).toBe(0.25);
  });

  it('an unevaluated assertion fails; no assertions and no judged steps leave those parts out', () => {
    const r = gamedayRun({ assertions: [{ name: 'a', at: '2026-11-30T10:00:00.000Z', value: null, operator: 'gte', threshold: 1, ok: false, when: 'after', reason: 'prometheus unreachable' }] });
    expect(scoreWorkflowRun(r)!.parts[1]).toEqual({ name: 'assertions', weight: 30, value: 0 });
    const pauses = gamedayRun({ assertions: [], steps: [gamedayRun().steps[0]!], phase: 'Failed' });
    expect(scoreWorkflowRun(pauses)).toEqual({ value: 0, parts: [{ name: 'outcome', weight: 20, value: 0 }] });
    expect(scoreWorkflowRun(gamedayRun({ assertions: [], steps: [], phase: 'Aborted' }))).toBeUndefined();
  });

  it('no score while the workflow runs or reverts', () => {
    expect(scoreWorkflowRun(gamedayRun({ phase: 'Running' }))).toBeUndefined();
    expect(scoreWorkflowRun(gamedayRun({ phase: 'Reverting' }))).toBeUndefined();
  });
});
