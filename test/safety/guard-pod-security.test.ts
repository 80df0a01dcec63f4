// The pod-security guard: an in-pod fault whose injector the namespace's Pod Security level
// would refuse (the API server answers 403) is refused at plan time, with what it needs.
import { describe, expect, it } from 'vitest';
import { evaluateGuards, type GuardInput } from '../../src/safety/guards.js';
import { experiment, input } from './guard-fixtures.js';

const ENFORCE = 'pod-security.kubernetes.io/enforce';
const fault = (type: string, params: Record<string, unknown> = {}) => experiment({ fault: { type, params } as never });
const opted = { 'faultline.dev/chaos': 'enabled' };
const verdict = (i: GuardInput) => evaluateGuards(i).find((g) => g.guard === 'pod-security');

describe('pod-security guard', () => {
  it('a network fault in a baseline namespace is refused: its injector needs privileged', () => {
    expect(verdict(input({ experiment: fault('network-delay', { latency: '10ms' }), namespaceLabels: { ...opted, [ENFORCE]: 'baseline' } }))).toEqual({
      guard: 'pod-security', ok: false,
      reason: 'namespace shop enforces Pod Security "baseline": the API server would refuse the injector (403); the network-delay injector needs "privileged" (root, adds NET_ADMIN)',
    });
  });

  it('a network fault in a privileged namespace passes and says what it needs', () => {
    expect(verdict(input({ experiment: fault('network-partition', { cidrs: ['10.0.0.0/8'] }), namespaceLabels: { ...opted, [ENFORCE]: 'privileged' } }))).toEqual({
      guard: 'pod-security', ok: true,
      reason: 'namespace shop enforces Pod Security "privileged"; the network-partition injector needs "privileged" (root, adds NET_ADMIN, NET_RAW)',
    });
  });

  it('the level a fault needs is enough: container-kill under baseline passes, under restricted it is refused', () => {
    expect(verdict(input({ experiment: fault('container-kill', { container: 'checkout' }), namespaceLabels: { ...opted, [ENFORCE]: 'baseline' } }))?.ok).toBe(true);
    expect(verdict(input({ experiment: fault('container-kill', { container: 'checkout' }), namespaceLabels: { ...opted, [ENFORCE]: 'restricted' } }))?.ok).toBe(false);
  });

  it('a stress fault runs as non-root with no capabilities, so restricted is fine', () => {
    expect(verdict(input({ experiment: fault('cpu-stress', { workers: 1, load: 50 }), namespaceLabels: { ...opted, [ENFORCE]: 'restricted' } }))).toEqual({
      guard: 'pod-security', ok: true,
      reason: 'namespace shop enforces Pod Security "restricted"; the cpu-stress injector needs "restricted" (non-root, no capabilities)',
    });
  });

  it('without an enforce label, or with one that is not a level, the guard passes and says so', () => {
    expect(verdict(input({ experiment: fault('network-loss', { percent: 5 }), namespaceLabels: opted }))).toEqual({
      guard: 'pod-security', ok: true,
      reason: 'namespace shop has no pod-security.kubernetes.io/enforce label (the cluster default applies); the network-loss injector needs "privileged" (root, adds NET_ADMIN)',
    });
    expect(verdict(input({ experiment: fault('network-loss', { percent: 5 }), namespaceLabels: { ...opted, [ENFORCE]: 'strict' } }))).toMatchObject({ ok: true, reason: expect.stringContaining(`has ${ENFORCE}=strict, which is not a level;`) });
  });

  it('API faults and a namespace that does not exist get no pod-security verdict', () => {
    expect(verdict(input({ namespaceLabels: { ...opted, [ENFORCE]: 'restricted' } }))).toBeUndefined();
    expect(verdict(input({ experiment: fault('network-delay', { latency: '10ms' }), namespaceLabels: undefined }))).toBeUndefined();
  });
});
