// Real-looking run records (the shapes the runner writes, src/workflows/run-types.ts and
// src/runs/types.ts) for the reports' tests until they run against the runner itself.
import type { RunRecord } from '../../src/runs/types.js';
import type { WorkflowRunRecord } from '../../src/workflows/run-types.js';

const T0 = Date.parse('2026-11-30T10:00:00.000Z');
export const at = (s: number) => new Date(T0 + s * 1000).toISOString();

export function faultRun(o: Partial<RunRecord> & { id?: string } = {}): RunRecord {
  return {
    id: 'run-1',
    experiment: 'cart-pod-kill',
    file: 'experiments/cart-pod-kill.yaml',
    specHash: 'a'.repeat(64),
    revision: 'b'.repeat(40),
    faultType: 'pod-kill',
    trigger: 'reconcile',
    state: 'Succeeded',
    outcome: 'succeeded',
    createdAt: at(0),
    startedAt: at(1),
    endedAt: at(40),
    seed: 7,
    targets: [{ kind: 'Pod', namespace: 'shop', name: 'cart-5d9f-x1', owner: 'Deployment/cart' }],
    blastRadius: [{ namespace: 'shop', workload: 'Deployment/cart', hit: 1, ready: 3, percent: 33.33 }],
    guards: [{ guard: 'protected-namespace', ok: true, reason: 'shop is not protected' }],
    probes: [
      { name: 'cart-up', phase: 'before', ok: true, checks: 1, failures: 0 },
      { name: 'cart-up', phase: 'during', ok: true, checks: 6, failures: 0 },
      { name: 'cart-up', phase: 'after', ok: true, checks: 2, failures: 0 },
    ],
    recoveryMs: 12_000,
    timeline: [
      { at: at(0), state: 'Pending', message: 'queued', code: 'Queued' },
      { at: at(2), state: 'Injecting', message: 'injecting', code: 'Injecting' },
      { at: at(3), state: 'Running', message: 'fault in place', code: 'Injected' },
      { at: at(33), state: 'Reverting', message: 'duration over', code: 'DurationOver' },
      { at: at(40), state: 'Succeeded', message: 'reverted; recovered in 12000ms', code: 'Reverted' },
    ],
    ...o,
  };
}

/** The shop gameday: baseline pause, a parallel delay + kill, a stress step (continueOnFailure), a final check. */
export function gamedayRun(o: Partial<WorkflowRunRecord> = {}): WorkflowRunRecord {
  return {
    id: 'wf-run-1',
    workflow: 'shop-gameday',
    file: 'experiments/shop-gameday.yaml',
    specHash: 'c'.repeat(64),
    revision: 'd'.repeat(40),
    trigger: 'reconcile',
    phase: 'Succeeded',
    createdAt: at(0),
    startedAt: at(0),
    endedAt: at(150),
    currentStep: 4,
    totalSteps: 4,
    progress: 1,
    steps: [
      { path: 'shop-gameday/baseline', name: 'baseline', kind: 'pause', phase: 'Succeeded', startedAt: at(0), endedAt: at(30) },
      { path: 'shop-gameday/break-things', name: 'break-things', kind: 'parallel', phase: 'Succeeded', startedAt: at(30), endedAt: at(95) },
      {
        path: 'shop-gameday/break-things/slow-checkout', name: 'slow-checkout', kind: 'fault', phase: 'Succeeded', startedAt: at(30), endedAt: at(95), runId: 'run-delay',
        faultWindow: { from: at(32), to: at(92) },
        probes: [{ name: 'checkout-up', at: at(40), ok: true }, { name: 'checkout-up', at: at(60), ok: true }],
      },
      {
        path: 'shop-gameday/break-things/kill-cart', name: 'kill-cart', kind: 'experiment', phase: 'Succeeded', startedAt: at(30), endedAt: at(70), runId: 'run-kill',
        faultWindow: { from: at(31), to: at(61) },
      },
      {
        path: 'shop-gameday/stress-frontend', name: 'stress-frontend', kind: 'fault', phase: 'Failed', startedAt: at(95), endedAt: at(125), runId: 'run-stress',
        faultWindow: { from: at(96), to: at(120) }, continueOnFailure: true, reason: 'steady state lost: frontend-up failed 3 times', reasonCode: 'SteadyStateLost',
      },
      {
        path: 'shop-gameday/final-check', name: 'final-check', kind: 'check', phase: 'Succeeded', startedAt: at(125), endedAt: at(145),
        probes: [{ name: 'checkout-still-ready', at: at(130), ok: true }, { name: 'checkout-still-ready', at: at(140), ok: true }],
      },
    ],
    assertions: [
      { name: 'checkout-mostly-ready', at: at(60), value: 1, operator: 'gte', threshold: 0.9, ok: true, when: 'during' },
      { name: 'checkout-mostly-ready', at: at(110), value: 0.8, operator: 'gte', threshold: 0.9, ok: false, when: 'during' },
      { name: 'checkout-mostly-ready', at: at(148), value: 0.95, operator: 'gte', threshold: 0.9, ok: true, when: 'after' },
    ],
    probes: [
      { name: 'checkout-ready', at: at(10), ok: true },
      { name: 'checkout-ready', at: at(50), ok: true },
      { name: 'checkout-ready', at: at(110), ok: false },
      { name: 'checkout-ready', at: at(140), ok: true },
    ],
    ...o,
  };
}
