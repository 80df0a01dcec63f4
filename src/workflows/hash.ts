// The workflow spec hash, on the experiment hash's rules: the same meaning gives the same hash
// whatever the key order, YAML style or duration spelling. Step order is meaning (steps run in
// order); the order of a parallel group's steps, of probes and of assertions is not. Left out,
// as for experiments: description, suspend and notify.
import { hash } from 'node:crypto';
import { tryParseDuration } from '../experiments/duration.js';
import { canonicalJson, canonicalProbe, canonicalSpec } from '../experiments/hash.js';
import type { ExperimentSpec } from '../experiments/model.js';
import { stepKind, type Workflow, type WorkflowStep } from './model.js';

const ms = (d: unknown): unknown => tryParseDuration(d) ?? d;
const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function workflowSpecHash(w: Workflow): string {
  return hash('sha256', canonicalJson(canonicalWorkflowSpec(w)), 'hex');
}

export function canonicalWorkflowSpec(w: Workflow): unknown {
  const { description: _d, suspend: _s, notify: _n, steps, probes, assertions, ...rest } = w.spec;
  return {
    ...rest,
    steps: steps.map(canonicalStep),
    ...(probes ? { probes: probes.map(canonicalProbe).sort(byName) } : {}),
    ...(assertions ? { assertions: assertions.map((a) => ({ ...a, when: a.when ?? 'always', ...(a.prometheus ? { prometheus: { ...a.prometheus, timeout: ms(a.prometheus.timeout) } } : {}) })).sort(byName) } : {}),
  };
}

function canonicalStep(s: WorkflowStep): unknown {
  const common = { name: s.name, continueOnFailure: s.continueOnFailure ?? false };
  switch (stepKind(s)) {
    case 'fault': {
      const f = s as Extract<WorkflowStep, { fault: unknown }>;
      const c = canonicalSpec({ fault: f.fault, target: f.target, duration: f.duration } as ExperimentSpec) as Record<string, unknown>;
      return { ...common, ...c };
    }
    case 'experiment': {
      const e = s as Extract<WorkflowStep, { experiment: string }>;
      return { ...common, experiment: e.experiment, duration: ms(e.duration) };
    }
    case 'parallel':
      return { ...common, parallel: (s as Extract<WorkflowStep, { parallel: unknown }>).parallel.map(canonicalStep).sort((a, b) => byName(a as { name: string }, b as { name: string })) };
    case 'pause':
      return { ...common, pause: ms((s as Extract<WorkflowStep, { pause: string }>).pause) };
    case 'check': {
      const c = s as Extract<WorkflowStep, { check: unknown }>;
      return { ...common, duration: ms(c.duration), check: { probes: c.check.probes.map(canonicalProbe).sort(byName) } };
    }
  }
}
