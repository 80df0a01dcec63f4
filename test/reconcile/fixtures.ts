// Experiments as the loader hands them over, built directly so these tests do not depend on
// YAML parsing (the experiments stage has its own tests).
import { createHash } from 'node:crypto';
import type { Experiment, LoadedExperiment, LoadResult, Problem } from '../../src/experiments/model.js';

export function experiment(
  name: string,
  opts: { file?: string; schedule?: { cron: string; timezone?: string }; suspend?: boolean; percent?: number } = {},
): LoadedExperiment {
  const e: Experiment = {
    apiVersion: 'faultline.dev/v1alpha1',
    kind: 'ChaosExperiment',
    metadata: { name },
    spec: {
      fault: { type: 'pod-kill', params: { gracePeriodSeconds: 0 } },
      target: { namespace: 'shop', selector: { matchLabels: { app: 'checkout' } }, mode: { type: 'percent', value: opts.percent ?? 30 } },
      duration: '30s',
      suspend: opts.suspend ?? false,
      ...(opts.schedule ? { schedule: opts.schedule } : {}),
    },
  };
  return {
    experiment: e,
    file: opts.file ?? `experiments/${name}.yaml`,
    documentIndex: 0,
    line: 1,
    specHash: createHash('sha256').update(JSON.stringify(e)).digest('hex'),
    durationMs: 30_000,
  };
}

export function problem(file: string, message = 'spec.duration: must be a duration'): Problem {
  return { file, line: 3, column: 5, pointer: '/spec/duration', message };
}

export function load(experiments: LoadedExperiment[], problems: Problem[] = []): LoadResult {
  return { experiments, problems };
}
