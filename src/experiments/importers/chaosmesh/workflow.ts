// A Chaos Mesh Workflow → a ChaosWorkflow. From `entry`: Serial → its children in order (a
// Serial in a Serial adds its steps in place), Parallel → a parallel group, Suspend → a pause,
// StatusCheck (HTTP) → a check step with one http probe, PodChaos/NetworkChaos/StressChaos → an
// inline fault step mapped exactly as the single-document importer maps them. Whatever has no
// equivalent (Task, Schedule templates, other chaos kinds) is refused by name.
import { stepsDurationMs } from '../../../workflows/semantic.js';
import { WORKFLOW_KIND } from '../../../workflows/model.js';
import { foreignDurationMs, ImportBuilder, isObj, nativeDoc, nativeDuration, shown, type Obj } from '../common.js';
import type { ImportResult } from '../types.js';
import { CHAOS_KINDS, importChaos, type ChaosKind, type Deadline } from './chaos.js';

const SUPPORTED = ['Serial', 'Parallel', 'Suspend', 'StatusCheck', ...CHAOS_KINDS];
// Chaos Mesh's defaults for a StatusCheck (its CRD's kubebuilder defaults).
const CHECK_DEFAULTS = { intervalSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 };
const MAX_EXPECTED_CODES = 16; // a Faultline http probe lists at most 16 status codes

interface Template {
  t: Obj;
  at: string; // source pointer of the template
}
// Where each produced step's fields came from: [pointer relative to the step, source pointer].
interface StepSource {
  at: string;
  maps: [string, string][];
}

class Walk {
  readonly sources = new WeakMap<Obj, StepSource>();
  readonly reached = new Set<string>();
  private readonly names = new Map<string, number>();
  constructor(
    readonly templates: Map<string, Template>,
    readonly metadata: Obj,
    readonly b: ImportBuilder,
  ) {}

  /** A step name unique in the workflow (a template used twice gets -2, -3, ...). */
  stepName(template: string): string {
    const n = (this.names.get(template) ?? 0) + 1;
    this.names.set(template, n);
    return n === 1 ? template : `${template}-${n}`;
  }

  step(step: Obj, at: string, maps: [string, string][] = []): Obj {
    this.sources.set(step, { at, maps });
    return step;
  }
}

export function importWorkflow(spec: Obj, metadata: Obj, b: ImportBuilder): ImportResult {
  b.onlyKnown(spec, '/spec', ['entry', 'templates']);
  const templates = new Map<string, Template>();
  if (!Array.isArray(spec.templates) || spec.templates.length === 0) {
    b.fail(spec.templates === undefined ? '/spec' : '/spec/templates', 'a Workflow needs templates');
    return b.result(undefined);
  }
  spec.templates.forEach((t, i) => {
    const at = `/spec/templates/${i}`;
    if (!isObj(t) || typeof t.name !== 'string') return b.fail(at, 'a template needs a name');
    if (templates.has(t.name)) return b.fail(`${at}/name`, `template name "${t.name}" is used by an earlier template`);
    templates.set(t.name, { t, at });
  });
  if (typeof spec.entry !== 'string') {
    b.fail(spec.entry === undefined ? '/spec' : '/spec/entry', 'entry must name the template the Workflow starts with');
    return b.result(undefined);
  }
  const w = new Walk(templates, metadata, b);
  const steps = stepsOf(w, spec.entry, '/spec/entry', [], false);
  const unused = [...templates.keys()].filter((n) => !w.reached.has(n));
  if (unused.length) b.note(`templates not reached from entry ${spec.entry} (Chaos Mesh does not run them either): ${unused.join(', ')}`);
  if (!steps || b.problems.length) return b.result(undefined);
  mapSteps(w, steps, '/spec/steps');
  b.map('/spec/steps', '/spec/templates');
  b.map('/spec', '/spec');
  return b.result({ ...nativeDoc(metadata, { steps }), kind: WORKFLOW_KIND });
}

function mapSteps(w: Walk, steps: Obj[], base: string): void {
  steps.forEach((s, i) => {
    const p = `${base}/${i}`;
    const src = w.sources.get(s);
    if (src) {
      w.b.map(p, src.at);
      for (const [rel, from] of src.maps) w.b.map(p + rel, from);
    }
    if (Array.isArray(s.parallel)) mapSteps(w, s.parallel as Obj[], `${p}/parallel`);
  });
}

/** The steps a template becomes: a Serial gives its children's steps in order, others one step. */
function stepsOf(w: Walk, name: string, refAt: string, path: string[], inParallel: boolean): Obj[] | undefined {
  const { b } = w;
  const found = w.templates.get(name);
  if (!found) return void b.fail(refAt, `no template is named "${name}"`);
  if (path.includes(name)) return void b.fail(refAt, `template "${name}" contains itself (${[...path, name].join(' → ')})`);
  w.reached.add(name);
  const { t, at } = found;
  const type = t.templateType;
  const common = ['name', 'templateType', 'deadline'];
  const deadline = t.deadline === undefined ? undefined : deadlineOf(t.deadline, `${at}/deadline`, b);
  if (t.deadline !== undefined && !deadline) return undefined;
  const inner = [...path, name];
  switch (type) {
    case 'Serial':
    case 'Parallel': {
      b.onlyKnown(t, at, [...common, 'children'], `is not part of a ${type} template`);
      const children = t.children;
      if (!Array.isArray(children) || children.length === 0) return void b.fail(children === undefined ? at : `${at}/children`, `a ${type} template needs children`);
      if (type === 'Serial' && inParallel && children.length > 1) {
        return void b.fail(at, `Serial "${name}" inside a Parallel has no ChaosWorkflow equivalent: the steps of a parallel group run each on its own, not in sequence (make each serial branch its own workflow)`);
      }
      const parts = children.map((c, i) => (typeof c === 'string' ? stepsOf(w, c, `${at}/children/${i}`, inner, inParallel || type === 'Parallel') : void b.fail(`${at}/children/${i}`, 'children are template names')));
      if (parts.some((p) => !p)) return undefined;
      const steps = type === 'Serial' ? parts.flatMap((p) => p!) : [w.step({ name: w.stepName(name), parallel: parts.flatMap((p) => p!) }, at)];
      if (deadline) {
        // Chaos Mesh ends the node (and whatever of it still runs) at its deadline; a ChaosWorkflow
        // group has no deadline, so only a deadline its steps never reach maps.
        const total = stepsDurationMs(steps);
        if (total > deadline.ms) {
          return void b.fail(deadline.at, `deadline ${String(t.deadline)} of ${type} "${name}" ends it before its steps finish (${nativeDuration(total)}): a ChaosWorkflow group runs its steps to their end (shorten the steps to fit)`);
        }
        b.note(`deadline ${String(t.deadline)} of ${type} "${name}" is not reached by its steps (${nativeDuration(total) ?? '0s'}), so it cuts nothing`);
      }
      return steps;
    }
    case 'Suspend':
      b.onlyKnown(t, at, common, 'is not part of a Suspend template');
      if (!deadline) return void b.fail(at, `Suspend "${name}" needs a deadline (how long the workflow waits)`);
      return [w.step({ name: w.stepName(name), pause: deadline.text }, at, [['/pause', deadline.at]])];
    case 'StatusCheck':
      return statusCheck(w, name, t, at, deadline);
    case 'PodChaos':
    case 'NetworkChaos':
    case 'StressChaos': {
      const key = type[0]!.toLowerCase() + type.slice(1);
      b.onlyKnown(t, at, [...common, key], `is not part of a ${type} template`);
      const spec = t[key];
      if (!isObj(spec)) return void b.fail(at, `template "${name}" of type ${type} needs its chaos spec under ${key}`);
      // The chaos spec is mapped by the single-document importer into a builder of its own,
      // whose native pointers (/spec/fault/...) become the step's (/spec/steps/N/fault/...).
      const sub = new ImportBuilder();
      const parts = importChaos(type as ChaosKind, spec, `${at}/${key}`, w.metadata, sub, deadline);
      for (const p of sub.problems) b.problems.push(p);
      for (const n of sub.notes) b.note(`step ${name}: ${n}`);
      if (!parts) return undefined;
      const maps = sub.pointerMap.filter(([n]) => n.startsWith('/spec/')).map(([n, s]): [string, string] => [n.slice('/spec'.length), s]);
      return [w.step({ name: w.stepName(name), fault: parts.fault, target: parts.target, duration: parts.duration }, at, maps)];
    }
    case 'Schedule': {
      const s = isObj(t.schedule) ? t.schedule : {};
      return void b.fail(`${at}/templateType`, `Schedule "${name}" repeats its ${shown(s.type)} on ${shown(s.schedule)} for the node's deadline; a ChaosWorkflow fault step injects once (write one fault step per injection, or schedule an experiment)`);
    }
    case 'Task':
      return void b.fail(`${at}/templateType`, `Task "${name}" (a container of the user's with conditionalBranches) has no Faultline equivalent: a ChaosWorkflow runs faults, pauses and checks, never a user's container, and has no branches`);
    default:
      return void b.fail(type === undefined ? at : `${at}/templateType`, `template "${name}" of type ${shown(type)} has no Faultline equivalent (supported: ${SUPPORTED.join(', ')})`);
  }
}

function deadlineOf(v: unknown, at: string, b: ImportBuilder): Deadline | undefined {
  const ms = foreignDurationMs(v);
  const text = ms === undefined ? undefined : nativeDuration(ms);
  if (ms === undefined || text === undefined) return void b.fail(at, `deadline ${shown(v)} is not a duration like 30s, 5m or 1h30m`);
  return { ms, text, at };
}

/**
 * StatusCheck → a check step with one http probe. Continuous mode probes every intervalSeconds
 * until the deadline (or its duration) and fails at failureThreshold consecutive failures: what a
 * check step with a duration does. Synchronous mode (stop at the first successThreshold passes)
 * has no equivalent. abortWithStatusCheck false (the default) lets the workflow go on after a
 * failed check: continueOnFailure.
 */
function statusCheck(w: Walk, name: string, t: Obj, at: string, deadline: Deadline | undefined): Obj[] | undefined {
  const { b } = w;
  b.onlyKnown(t, at, ['name', 'templateType', 'deadline', 'statusCheck', 'abortWithStatusCheck'], 'is not part of a StatusCheck template');
  const sc = t.statusCheck;
  const where = `${at}/statusCheck`;
  if (!isObj(sc)) return void b.fail(at, `StatusCheck "${name}" needs a statusCheck block`);
  b.onlyKnown(sc, where, ['mode', 'type', 'duration', 'timeoutSeconds', 'intervalSeconds', 'failureThreshold', 'successThreshold', 'recordsHistoryLimit', 'http']);
  const before = b.problems.length;
  if ((sc.type ?? 'HTTP') !== 'HTTP') b.fail(`${where}/type`, `status check type ${shown(sc.type)} is not HTTP`);
  if (sc.mode !== 'Continuous') {
    b.fail(sc.mode === undefined ? where : `${where}/mode`, `mode ${shown(sc.mode ?? 'Synchronous')} (the check ends at its first successThreshold passes) has no Faultline equivalent: a check step probes for its whole duration; use mode Continuous`);
  }
  if (sc.recordsHistoryLimit !== undefined) b.fail(`${where}/recordsHistoryLimit`, 'recordsHistoryLimit has no Faultline equivalent (the run record keeps the check\'s outcome, not a list of rounds)', true);
  // successThreshold only works in Synchronous mode (Chaos Mesh's API says so): nothing to map.
  const own = sc.duration === undefined ? undefined : deadlineOf(sc.duration, `${where}/duration`, b);
  const length = own && deadline ? (own.ms <= deadline.ms ? own : deadline) : own ?? deadline;
  if (!length && sc.duration === undefined) b.fail(at, `a Continuous StatusCheck "${name}" needs a deadline or a duration (how long it probes)`);
  const seconds = (k: keyof typeof CHECK_DEFAULTS): number | undefined => {
    const v = sc[k] ?? CHECK_DEFAULTS[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) return void b.fail(`${where}/${k}`, `${k} must be a whole number of at least 1, not ${shown(v)}`);
    return v;
  };
  const interval = seconds('intervalSeconds');
  const timeout = seconds('timeoutSeconds');
  const failureThreshold = seconds('failureThreshold');
  const http = isObj(sc.http) ? sc.http : undefined;
  if (!http) b.fail(sc.http === undefined ? where : `${where}/http`, 'an HTTP status check needs an http block');
  else {
    b.onlyKnown(http, `${where}/http`, ['url', 'method', 'headers', 'body', 'criteria']);
    if (http.headers !== undefined) b.fail(`${where}/http/headers`, 'headers has no Faultline equivalent: an http probe sends no custom headers', true);
    if (http.body !== undefined) b.fail(`${where}/http/body`, 'body has no Faultline equivalent: an http probe sends no request body', true);
  }
  const codes = http ? statusCodes(http.criteria, `${where}/http/criteria`, b) : undefined;
  if (b.problems.length > before || !http || !length || !codes) return undefined;
  const probe: Obj = {
    name: w.stepName(name),
    http: { url: http.url, method: http.method ?? 'GET', expectStatus: codes, timeout: `${timeout}s` },
    interval: `${interval}s`,
    failureThreshold,
  };
  const step = { name: probe.name, duration: length.text, continueOnFailure: t.abortWithStatusCheck !== true, check: { probes: [probe] } };
  return [w.step(step, at, [
    ['/duration', length.at],
    ['/continueOnFailure', `${at}/abortWithStatusCheck`],
    ['/check/probes/0', where],
    ['/check/probes/0/http', `${where}/http`],
    ['/check/probes/0/http/url', `${where}/http/url`],
    ['/check/probes/0/http/method', `${where}/http/method`],
    ['/check/probes/0/http/expectStatus', `${where}/http/criteria/statusCode`],
    ['/check/probes/0/http/timeout', `${where}/timeoutSeconds`],
    ['/check/probes/0/interval', `${where}/intervalSeconds`],
    ['/check/probes/0/failureThreshold', `${where}/failureThreshold`],
  ])];
}

/** criteria.statusCode: one code ("200") or an inclusive range ("200-204"). */
function statusCodes(criteria: unknown, at: string, b: ImportBuilder): number[] | undefined {
  if (!isObj(criteria)) return void b.fail(at, 'criteria with a statusCode is required');
  b.onlyKnown(criteria, at, ['statusCode']);
  const text = String(criteria.statusCode ?? '').trim();
  const m = /^([0-9]{3})(?:\s*-\s*([0-9]{3}))?$/.exec(text);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m?.[2] ? Number(m[2]) : lo;
  if (!m || lo < 100 || hi > 599 || hi < lo) return void b.fail(`${at}/statusCode`, `statusCode ${shown(criteria.statusCode)} is not a status code like 200 or a range like 200-204`);
  if (hi - lo + 1 > MAX_EXPECTED_CODES) {
    return void b.fail(`${at}/statusCode`, `statusCode range ${text} has ${hi - lo + 1} codes: a Faultline http probe lists at most ${MAX_EXPECTED_CODES} expected codes`);
  }
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}
