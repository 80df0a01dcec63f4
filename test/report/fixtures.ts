// Shared builders for report tests: a run record as the runs stage produces it.
import type { RunJobData, RunRecord, RunState } from '../../src/runs/types.js';
import type { Experiment } from '../../src/experiments/model.js';

export function experimentSpec(name: string, channel?: string): Experiment {
  return {
    apiVersion: 'faultline.dev/v1alpha1',
    kind: 'ChaosExperiment',
    metadata: { name },
    spec: {
      fault: { type: 'pod-kill', params: { gracePeriodSeconds: 0 } },
      target: { namespace: 'shop', selector: { matchLabels: { app: 'checkout' } }, mode: { type: 'percent', value: 30 } },
      duration: '30s',
      ...(channel ? { notify: { slack: { channel } } } : {}),
    },
  };
}

export function runRecord(id: string, experiment: string, state: RunState = 'Succeeded', revision = 'a'.repeat(40)): RunRecord {
  const outcome = state === 'Succeeded' ? 'succeeded' : state === 'Failed' ? 'failed' : state === 'Aborted' ? 'aborted' : undefined;
  const terminal = outcome !== undefined;
  return {
    id,
    experiment,
    file: `experiments/${experiment}.yaml`,
    specHash: 'f'.repeat(64),
    revision,
    faultType: 'pod-kill',
    trigger: 'reconcile',
    state,
    ...(outcome ? { outcome } : {}),
    ...(state === 'Failed' ? { reason: 'probe checkout-up failed 3 times' } : {}),
    createdAt: '2026-11-22T10:00:00.000Z',
    startedAt: '2026-11-22T10:00:01.000Z',
    ...(terminal ? { endedAt: '2026-11-22T10:00:31.000Z', recoveryMs: 2300 } : {}),
    targets: [{ kind: 'Pod', namespace: 'shop', name: 'checkout-7d9f-abcde', owner: 'Deployment/checkout' }],
    blastRadius: [{ workload: 'Deployment/checkout', namespace: 'shop', hit: 1, ready: 4, percent: 25 }],
    guards: [{ guard: 'blast-radius', ok: true, reason: '25% <= 50%' }],
    probes: [{ name: 'checkout-up', phase: 'during', ok: state !== 'Failed', checks: 6, failures: state === 'Failed' ? 3 : 0 }],
    timeline: [{ at: '2026-11-22T10:00:00.000Z', state: 'Pending', message: 'queued' }],
  };
}

export function jobFor(record: RunRecord, channel?: string): RunJobData {
  return {
    runId: record.id,
    experiment: record.experiment,
    file: record.file,
    specHash: record.specHash,
    revision: record.revision,
    occurrence: 'once',
    trigger: record.trigger,
    spec: experimentSpec(record.experiment, channel),
  };
}
