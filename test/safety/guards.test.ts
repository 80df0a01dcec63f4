import { describe, expect, it } from 'vitest';
import type { PdbStatus } from '../../src/cluster/types.js';
import { allowed, evaluateGuards, type GuardInput } from '../../src/safety/guards.js';
import { desiredHealthy, disruptionsAllowed, scaled } from '../../src/safety/pdb.js';
import { inWindow } from '../../src/safety/windows.js';

import { config, experiment, input, targets } from './guard-fixtures.js';

const verdict = (i: GuardInput, guard: string) => {
  const v = evaluateGuards(i).find((g) => g.guard === guard);
  if (!v) throw new Error(`no ${guard} verdict`);
  return v;
};

describe('evaluateGuards', () => {
  it('a safe experiment passes every guard, one verdict each, with reasons', () => {
    const vs = evaluateGuards(input());
    expect(vs.map((v) => v.guard)).toEqual(['kill-switch', 'freeze-file', 'freeze-window', 'time-window', 'protected-namespace', 'opt-in', 'no-targets', 'max-targets', 'blast-radius', 'pdb']);
    expect(vs.every((v) => v.ok && v.reason.length > 0)).toBe(true);
    expect(allowed(vs)).toBe(true);
  });

  it('protected namespace: defaults and the own namespace, even with the opt-in label', () => {
    for (const ns of ['kube-system', 'faultline']) {
      const v = verdict(input({ experiment: experiment({ target: { namespace: ns, selector: {}, mode: { type: 'one' } } }), targets: targets(1, 4, ns) }), 'protected-namespace');
      expect(v.ok).toBe(false);
      expect(v.reason).toContain(`namespace ${ns} is protected`);
    }
    // config without kube-system still protects the own namespace
    const cfg = { ...config, protectedNamespaces: [] };
    const i = input({ config: cfg, experiment: experiment({ target: { namespace: 'faultline', selector: {}, mode: { type: 'one' } } }) });
    expect(verdict(i, 'protected-namespace').ok).toBe(false);
  });

  it('opt-in: label required, configurable key/value, missing namespace refused', () => {
    expect(verdict(input({ namespaceLabels: {} }), 'opt-in')).toMatchObject({ ok: false, reason: expect.stringContaining('lacks the opt-in label faultline.dev/chaos=enabled') });
    expect(verdict(input({ namespaceLabels: undefined }), 'opt-in')).toMatchObject({ ok: false, reason: expect.stringContaining('does not exist') });
    const cfg = { ...config, optInLabel: { key: 'chaos', value: 'yes' } };
    expect(verdict(input({ config: cfg, namespaceLabels: { chaos: 'yes' } }), 'opt-in').ok).toBe(true);
    expect(verdict(input({ config: cfg }), 'opt-in').ok).toBe(false);
  });

  it('blast radius: global cap; an experiment may tighten but never loosen it', () => {
    expect(verdict(input({ targets: targets(2, 4) }), 'blast-radius').ok).toBe(true); // 50% <= 50%
    const over = verdict(input({ targets: targets(3, 4) }), 'blast-radius');
    expect(over).toMatchObject({ ok: false });
    expect(over.reason).toContain('Deployment/checkout 3/4 ready (75%) over the 50% cap (controller)');
    // looser experiment cap (90) does not help
    expect(verdict(input({ targets: targets(3, 4), experiment: experiment({ safety: { maxBlastRadiusPercent: 90 } }) }), 'blast-radius').ok).toBe(false);
    // tighter experiment cap (25) refuses 50%
    const tight = verdict(input({ targets: targets(2, 4), experiment: experiment({ safety: { maxBlastRadiusPercent: 25 } }) }), 'blast-radius');
    expect(tight).toMatchObject({ ok: false, reason: expect.stringContaining('25% cap (experiment)') });
  });

  it('scale-down counts the pods the scale removes, not the mode', () => {
    const e = experiment({ fault: { type: 'scale-down', params: { replicas: 0 } } });
    expect(verdict(input({ experiment: e, targets: targets(1, 4) }), 'blast-radius')).toMatchObject({ ok: false, reason: expect.stringContaining('4/4 ready (100%)') });
    const e3 = experiment({ fault: { type: 'scale-down', params: { replicas: 3 } } });
    expect(verdict(input({ experiment: e3, targets: targets(1, 4) }), 'blast-radius').ok).toBe(true);
  });

  it('max targets: the smaller of controller and experiment caps', () => {
    expect(verdict(input({ targets: targets(3, 100) }), 'max-targets').ok).toBe(true);
    expect(verdict(input({ targets: targets(11, 100) }), 'max-targets')).toMatchObject({ ok: false, reason: '11 targets > 10 (controller cap)' });
    expect(verdict(input({ targets: targets(3, 100), experiment: experiment({ safety: { maxTargets: 2 } }) }), 'max-targets')).toMatchObject({ ok: false, reason: '3 targets > 2 (experiment cap)' });
    expect(verdict(input({ targets: targets(11, 100), experiment: experiment({ safety: { maxTargets: 50 } }) }), 'max-targets').ok).toBe(false);
  });

  it('no targets is a failure with a reason', () => {
    expect(verdict(input({ targets: targets(0, 0) }), 'no-targets')).toMatchObject({ ok: false, reason: expect.stringContaining('no ready pods in shop match') });
    expect(allowed(evaluateGuards(input({ targets: targets(0, 0) })))).toBe(false);
  });

  it('PDB: minAvailable 3 of 4 allows one disruption, not two', () => {
    const pdb: PdbStatus = { name: 'checkout-pdb', namespace: 'shop', minAvailable: 3, expected: 4, healthy: 4, hit: 1 };
    expect(verdict(input({ pdbs: [pdb] }), 'pdb').ok).toBe(true);
    const two = verdict(input({ targets: targets(2, 4), pdbs: [{ ...pdb, hit: 2 }] }), 'pdb');
    expect(two).toMatchObject({ ok: false, reason: 'checkout-pdb: 4 healthy, needs 3, allows 1 disruption, run takes 2' });
    // already degraded: 3 healthy → no disruption allowed
    expect(verdict(input({ pdbs: [{ ...pdb, healthy: 3 }] }), 'pdb').ok).toBe(false);
    // maxUnavailable as a percent
    expect(verdict(input({ targets: targets(2, 4), pdbs: [{ name: 'p', namespace: 'shop', maxUnavailable: '50%', expected: 4, healthy: 4, hit: 2 }] }), 'pdb').ok).toBe(true);
    expect(verdict(input({ targets: targets(2, 4), pdbs: [{ name: 'p', namespace: 'shop', maxUnavailable: '25%', expected: 4, healthy: 4, hit: 2 }] }), 'pdb').ok).toBe(false);
  });

  it('time windows, freeze windows, the freeze file and the kill switch', () => {
    const monday10 = new Date('2026-11-23T10:00:00Z');
    const open = { ...config, allowedWindows: [{ days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00', timezone: 'UTC' }] };
    expect(verdict(input({ config: open, now: monday10 }), 'time-window').ok).toBe(true);
    expect(verdict(input({ config: open, now: new Date('2026-11-23T18:00:00Z') }), 'time-window')).toMatchObject({ ok: false, reason: expect.stringContaining('outside the allowed windows') });
    const frozen = { ...config, freezeWindows: [{ start: '09:30', end: '10:30' }] };
    expect(verdict(input({ config: frozen, now: monday10 }), 'freeze-window')).toMatchObject({ ok: false, reason: 'inside freeze window 09:30-10:30 UTC' });
    expect(verdict(input({ config: frozen, now: new Date('2026-11-23T11:00:00Z') }), 'freeze-window').ok).toBe(true);
    expect(verdict(input({ freeze: true }), 'freeze-file').ok).toBe(false);
    expect(verdict(input({ killSwitch: true }), 'kill-switch').ok).toBe(false);
  });

  it('concurrency and locks only when live run state is given', () => {
    expect(evaluateGuards(input()).some((v) => v.guard === 'lock')).toBe(false);
    const busy = input({ active: { runs: 2, lockedWorkloads: ['shop/Deployment/checkout'] } });
    expect(verdict(busy, 'concurrency')).toMatchObject({ ok: false, reason: '2 runs active, cap 2' });
    expect(verdict(busy, 'lock')).toMatchObject({ ok: false, reason: expect.stringContaining('shop/Deployment/checkout is locked') });
    const free = input({ active: { runs: 1, lockedWorkloads: ['shop/Deployment/cart'] } });
    expect(verdict(free, 'concurrency').ok && verdict(free, 'lock').ok).toBe(true);
  });
});

describe('windows', () => {
  it('HH:MM ranges in an IANA zone, across midnight belonging to the start day', () => {
    const berlin = { days: [5], start: '22:00', end: '06:00', timezone: 'Europe/Berlin' }; // Friday night
    expect(inWindow(berlin, new Date('2026-11-27T21:30:00Z'))).toBe(true); // Fri 22:30 CET
    expect(inWindow(berlin, new Date('2026-11-28T04:00:00Z'))).toBe(true); // Sat 05:00 CET
    expect(inWindow(berlin, new Date('2026-11-28T05:30:00Z'))).toBe(false); // Sat 06:30
    expect(inWindow(berlin, new Date('2026-11-27T04:00:00Z'))).toBe(false); // Fri 05:00: Thursday night not listed
    expect(inWindow(berlin, new Date('2026-11-28T21:30:00Z'))).toBe(false); // Sat 22:30
    // DST: Berlin is UTC+2 in July
    expect(inWindow({ start: '09:00', end: '10:00', timezone: 'Europe/Berlin' }, new Date('2026-07-01T07:30:00Z'))).toBe(true);
    expect(inWindow({ start: '09:00', end: '10:00', timezone: 'Europe/Berlin' }, new Date('2026-12-01T07:30:00Z'))).toBe(false);
    expect(inWindow({ start: '09:00', end: '10:00' }, new Date('2026-12-01T10:00:00Z'))).toBe(false); // end exclusive
  });
});

describe('PDB arithmetic', () => {
  it('int or percent, percentages round up', () => {
    expect(scaled(3, 4)).toBe(3);
    expect(scaled('50%', 3)).toBe(2);
    expect(() => scaled('lots', 3)).toThrow();
    expect(desiredHealthy({ name: 'p', namespace: 'n', maxUnavailable: 1, expected: 5, healthy: 5, hit: 0 })).toBe(4);
    expect(disruptionsAllowed({ name: 'p', namespace: 'n', minAvailable: '100%', expected: 5, healthy: 5, hit: 0 })).toBe(0);
  });
});
