// Builders for guard tests: an experiment, the targets a mode chose, and the controller's caps.
import type { ResolvedTargets } from '../../src/cluster/types.js';
import type { ExperimentSpec, LoadedExperiment } from '../../src/experiments/model.js';
import type { GuardInput, SafetyConfig } from '../../src/safety/guards.js';

export function experiment(spec: Partial<ExperimentSpec> = {}): LoadedExperiment {
  return {
    experiment: {
      apiVersion: 'faultline.dev/v1alpha1',
      kind: 'ChaosExperiment',
      metadata: { name: 'exp' },
      spec: {
        fault: { type: 'pod-kill', params: { gracePeriodSeconds: 0 } },
        target: { namespace: 'shop', selector: { matchLabels: { app: 'checkout' } }, mode: { type: 'one' } },
        duration: '30s',
        ...spec,
      },
    },
    file: 'experiments/exp.yaml',
    documentIndex: 0,
    line: 1,
    specHash: 'ab'.repeat(32),
    durationMs: 30_000,
  };
}

/** `hit` pods chosen out of `ready` matching ready pods of Deployment/checkout. */
export function targets(hit: number, ready: number, namespace = 'shop'): ResolvedTargets {
  const pods = Array.from({ length: hit }, (_, i) => ({
    namespace, name: `checkout-${i}`, uid: `u${i}`, labels: { app: 'checkout' }, ready: true, containers: ['checkout'], owner: { kind: 'Deployment', name: 'checkout' },
  }));
  const workloads = hit ? [{ workload: 'Deployment/checkout', namespace, ready, total: ready }] : [];
  return {
    seed: 1,
    candidates: ready,
    pods,
    refs: pods.map((p) => ({ kind: 'Pod', namespace, name: p.name, owner: 'Deployment/checkout' })),
    workloads,
    blastRadius: hit ? [{ workload: 'Deployment/checkout', namespace, hit, ready, percent: (hit / ready) * 100 }] : [],
  };
}

export const config: SafetyConfig = {
  protectedNamespaces: ['kube-system', 'kube-public', 'kube-node-lease'],
  optInLabel: { key: 'faultline.dev/chaos', value: 'enabled' },
  maxBlastRadiusPercent: 50,
  maxTargets: 10,
  maxConcurrentRuns: 2,
  allowedWindows: [],
  freezeWindows: [],
  ownNamespace: 'faultline',
};

export function input(over: Partial<GuardInput> = {}): GuardInput {
  return {
    experiment: experiment(),
    targets: targets(1, 4),
    namespaceLabels: { 'faultline.dev/chaos': 'enabled' },
    pdbs: [],
    config,
    now: new Date('2026-11-23T10:00:00Z'), // a Monday
    freeze: false,
    ...over,
  };
}
