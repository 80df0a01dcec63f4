// Disruption-budget arithmetic as the eviction API does it (minAvailable / maxUnavailable, an
// integer, integer text or a percentage rounded up), and the lock an http-fault takes: what the
// pdb and lock guards decide with.
import { describe, expect, it } from 'vitest';
import type { PdbStatus } from '../../src/cluster/types.js';
import { faultDefinition } from '../../src/experiments/faults.js';
import { desiredHealthy, disruptionsAllowed, scaled } from '../../src/safety/pdb.js';

const pdb = (over: Partial<PdbStatus>): PdbStatus => ({ name: 'checkout-pdb', namespace: 'shop', expected: 4, healthy: 4, hit: 1, ...over });

describe('a budget value', () => {
  it('an integer, or integer text, is a pod count', () => {
    expect(scaled(2, 10)).toBe(2);
    expect(scaled('2', 10)).toBe(2);
    expect(scaled('12', 100)).toBe(12);
    expect(scaled(' 3 ', 10)).toBe(3);
  });

  it('a percentage of the pods rounds up, decimals included', () => {
    expect(scaled('50%', 5)).toBe(3);
    expect(scaled(' 50% ', 10)).toBe(5);
    expect(scaled('12.55%', 100)).toBe(13);
    expect(scaled('12.5%', 8)).toBe(1);
    expect(scaled('0%', 8)).toBe(0);
  });

  it('anything else is refused by name, not read as a number', () => {
    for (const bad of ['x10%', '10%x', '2x', 'x2', '10%%', '1.%', 'half']) {
      expect(() => scaled(bad, 10), bad).toThrow(`invalid PodDisruptionBudget value "${bad}"`);
    }
  });
});

describe('what a budget lets go', () => {
  it('minAvailable or maxUnavailable decide how many must stay; neither means none must', () => {
    expect(desiredHealthy(pdb({ minAvailable: 3 }))).toBe(3);
    expect(desiredHealthy(pdb({ maxUnavailable: 1 }))).toBe(3);
    expect(desiredHealthy(pdb({ maxUnavailable: '25%' }))).toBe(3);
    expect(desiredHealthy(pdb({ maxUnavailable: 9 }))).toBe(0);
    expect(desiredHealthy(pdb({}))).toBe(0);
    expect(disruptionsAllowed(pdb({}))).toBe(4);
    expect(disruptionsAllowed(pdb({ minAvailable: 3, healthy: 2 }))).toBe(0);
  });
});

describe('http-fault locks', () => {
  it('one run at a time per VirtualService, whichever pods it selects', () => {
    const def = faultDefinition('http-fault')!;
    expect(def.lockKeys?.({ virtualService: 'checkout' })).toEqual(['VirtualService/checkout']);
    expect(def.lockKeys?.({})).toEqual([]);
    expect(def.lockKeys?.({ virtualService: 5 })).toEqual([]);
  });
});
