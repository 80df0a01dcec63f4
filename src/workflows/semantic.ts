// Checks of a workflow the schema cannot express: one kind per step, unique step names, the
// nesting and size bounds, every inline fault judged exactly as an experiment's fault (the
// experiment's own semantic checks on the experiment the step is), probes, assertions, schedule.
import { tryParseDuration } from '../experiments/duration.js';
import { API_VERSION, KIND } from '../experiments/model.js';
import { checkLabels, checkProbes, semanticProblems, type SemanticProblem } from '../experiments/semantic.js';
import { MAX_STEP_DEPTH, MAX_STEPS, MAX_WORKFLOW_DURATION, STEP_KINDS } from './model.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export const MAX_WORKFLOW_MS = tryParseDuration(MAX_WORKFLOW_DURATION)!;

/** The experiment document an inline fault step is (the workflow's safety caps apply to it). */
export function stepAsExperiment(name: string, step: Obj, safety: unknown): Obj {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name },
    spec: { fault: step.fault, target: step.target, duration: step.duration, ...(safety !== undefined ? { safety } : {}) },
  };
}

/** Each step with its JSON pointer, path of names and nesting depth (1 = top level), in order. */
export function walkSteps(steps: unknown, visit: (step: Obj, pointer: string, path: string[], depth: number) => void, base = '/spec/steps', path: string[] = [], depth = 1): void {
  if (!Array.isArray(steps)) return;
  steps.forEach((step, i) => {
    if (!isObj(step)) return;
    const p = `${base}/${i}`;
    const names = [...path, typeof step.name === 'string' ? step.name : String(i)];
    visit(step, p, names, depth);
    if (depth < MAX_STEP_DEPTH) walkSteps(step.parallel, visit, `${p}/parallel`, names, depth + 1);
  });
}

/**
 * How long the steps take, sequential steps adding up and a parallel group as long as its longest
 * step; `experimentMs` gives a referenced experiment's duration (unknown ones count 0).
 */
export function stepsDurationMs(steps: unknown, experimentMs: (name: string) => number | undefined = () => undefined): number {
  if (!Array.isArray(steps)) return 0;
  let total = 0;
  for (const s of steps) total += stepDurationMs(s, experimentMs);
  return total;
}

export function stepDurationMs(s: unknown, experimentMs: (name: string) => number | undefined = () => undefined): number {
  if (!isObj(s)) return 0;
  if (Array.isArray(s.parallel)) return Math.max(0, ...s.parallel.map((c) => stepDurationMs(c, experimentMs)));
  if (s.pause !== undefined) return tryParseDuration(s.pause) ?? 0;
  const own = tryParseDuration(s.duration);
  if (own !== undefined) return own;
  if (typeof s.experiment === 'string') return experimentMs(s.experiment) ?? 0;
  return 0;
}

function checkStep(step: Obj, p: string, depth: number, doc: Obj, out: SemanticProblem[]): void {
  const kinds = STEP_KINDS.filter((k) => step[k] !== undefined);
  if (kinds.length !== 1) {
    out.push({ pointer: p, message: `a step needs exactly one of ${STEP_KINDS.join(', ')} (has ${kinds.length ? kinds.join(', ') : 'none'})` });
    return;
  }
  const kind = kinds[0]!;
  if (kind !== 'fault' && step.target !== undefined) out.push({ pointer: `${p}/target`, key: true, message: `target belongs to a fault step, not a ${kind} step` });
  if ((kind === 'parallel' || kind === 'pause') && step.duration !== undefined) {
    out.push({
      pointer: `${p}/duration`,
      key: true,
      message: kind === 'pause' ? 'a pause step takes no duration: pause says how long' : 'a parallel group takes no duration: it lasts as long as its longest step',
    });
  }
  if (kind === 'parallel' && depth >= MAX_STEP_DEPTH) {
    out.push({ pointer: `${p}/parallel`, key: true, message: `parallel groups nest at most ${MAX_STEP_DEPTH - 1} deep` });
  }
  if (kind === 'fault') {
    if (step.target === undefined) out.push({ pointer: `${p}/target`, message: 'missing required field "target" (a fault step needs a target)' });
    if (step.duration === undefined) out.push({ pointer: `${p}/duration`, message: 'missing required field "duration" (a fault step needs a duration)' });
    if (step.target === undefined || step.duration === undefined) return;
    const meta = isObj(doc.metadata) ? doc.metadata : {};
    const as = stepAsExperiment(String(meta.name), step, isObj(doc.spec) ? doc.spec.safety : undefined);
    for (const q of semanticProblems(as)) {
      if (q.pointer.startsWith('/spec/')) out.push({ ...q, pointer: p + q.pointer.slice('/spec'.length) });
    }
  }
  if (kind === 'check' && isObj(step.check)) checkProbes(step.check.probes, `${p}/check/probes`, out);
}

function checkAssertions(spec: Obj, out: SemanticProblem[]): void {
  if (!Array.isArray(spec.assertions)) return;
  const probeNames = new Set((Array.isArray(spec.probes) ? spec.probes : []).map((x) => (isObj(x) ? x.name : undefined)));
  const names = new Map<string, number>();
  spec.assertions.forEach((a, i) => {
    if (!isObj(a)) return;
    const p = `/spec/assertions/${i}`;
    if (typeof a.name === 'string') {
      const first = names.get(a.name);
      if (first !== undefined) out.push({ pointer: `${p}/name`, message: `assertion name "${a.name}" is already used by assertion ${first}` });
      else names.set(a.name, i);
    }
    const kinds = (['probe', 'prometheus'] as const).filter((k) => a[k] !== undefined);
    if (kinds.length !== 1) {
      out.push({ pointer: p, message: `an assertion needs exactly one of probe, prometheus (has ${kinds.length ? kinds.join(', ') : 'none'})` });
      return;
    }
    if (typeof a.probe === 'string') {
      if (!probeNames.has(a.probe)) out.push({ pointer: `${p}/probe`, message: `probe "${a.probe}" is not one of spec.probes` });
      if (typeof a.value === 'number' && (a.value < 0 || a.value > 1)) {
        out.push({ pointer: `${p}/value`, message: 'a probe assertion compares the fraction of passed rounds: value must be between 0 and 1' });
      }
    }
    if (isObj(a.prometheus) && typeof a.prometheus.url === 'string') {
      try {
        new URL(a.prometheus.url);
      } catch {
        out.push({ pointer: `${p}/prometheus/url`, message: `"${a.prometheus.url}" is not a valid URL` });
      }
    }
  });
}

/** Semantic problems of one workflow document (already shaped by the schema). */
export function workflowSemanticProblems(doc: unknown): SemanticProblem[] {
  const out: SemanticProblem[] = [];
  if (!isObj(doc)) return out;
  if (isObj(doc.metadata)) checkLabels(doc.metadata.labels, '/metadata/labels', out);
  const spec = doc.spec;
  if (!isObj(spec)) return out;
  // The schedule and the workflow probes are checked as an experiment's are.
  for (const q of semanticProblems({ spec: { schedule: spec.schedule, steadyState: { probes: spec.probes } } })) {
    out.push({ ...q, pointer: q.pointer.replace(/^\/spec\/steadyState\/probes/, '/spec/probes') });
  }
  const seen = new Map<string, string>();
  let count = 0;
  walkSteps(spec.steps, (step, p, _path, depth) => {
    count++;
    if (count === MAX_STEPS + 1) out.push({ pointer: p, message: `more than ${MAX_STEPS} steps in one workflow (counting the steps of parallel groups)` });
    if (typeof step.name === 'string') {
      const first = seen.get(step.name);
      if (first !== undefined) out.push({ pointer: `${p}/name`, message: `step name "${step.name}" is already used at ${first}; step names must be unique in a workflow` });
      else seen.set(step.name, p);
    }
    checkStep(step, p, depth, doc, out);
  });
  const total = stepsDurationMs(spec.steps);
  if (total > MAX_WORKFLOW_MS) out.push({ pointer: '/spec/steps', key: true, message: `the steps take ${Math.round(total / 60000)}m, over the ${MAX_WORKFLOW_DURATION} bound for a workflow` });
  checkAssertions(spec, out);
  return out;
}

/** Every URL a workflow document would fetch, with its JSON pointer (for the egress policy). */
export function workflowUrls(doc: unknown): { pointer: string; url: string }[] {
  const out: { pointer: string; url: string }[] = [];
  if (!isObj(doc) || !isObj(doc.spec)) return out;
  const spec = doc.spec;
  const probeUrls = (list: unknown, at: string): void => {
    if (!Array.isArray(list)) return;
    list.forEach((probe, i) => {
      if (!isObj(probe)) return;
      for (const kind of ['http', 'prometheus'] as const) {
        const x = probe[kind];
        if (isObj(x) && typeof x.url === 'string') out.push({ pointer: `${at}/${i}/${kind}/url`, url: x.url });
      }
    });
  };
  probeUrls(spec.probes, '/spec/probes');
  walkSteps(spec.steps, (step, p) => {
    if (isObj(step.check)) probeUrls(step.check.probes, `${p}/check/probes`);
  });
  if (Array.isArray(spec.assertions)) {
    spec.assertions.forEach((a, i) => {
      if (isObj(a) && isObj(a.prometheus) && typeof a.prometheus.url === 'string') out.push({ pointer: `/spec/assertions/${i}/prometheus/url`, url: a.prometheus.url });
    });
  }
  const hook = isObj(spec.notify) && isObj(spec.notify.webhook) ? spec.notify.webhook : undefined;
  if (hook && typeof hook.url === 'string') out.push({ pointer: '/spec/notify/webhook/url', url: hook.url });
  return out;
}
