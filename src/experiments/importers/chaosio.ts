// chaos.io/v1 ChaosExperiment: `spec.scenario` (PodKiller, ContainerKiller, CpuStress,
// MemoryStress, NetworkDelay, NetworkLoss, NetworkPartition), `spec.target.namespace` (default: the
// object's own) + `labelSelector` (string or map), `spec.duration`, `spec.parameters`, optional
// `spec.schedule` cron. Parameters come in the forms its users write: `gracePeriod: 30s` or `30`,
// `killPercentage: 50` or `"50%"`, `latency: 150` (ms) or `150ms`, `memorySize: 512MB`.
import { durationField, foreignDurationMs, ImportBuilder, isObj, nativeDoc, nativeSize, num, parseSelectorString, shown, sizeBytes, type Obj } from './common.js';
import type { Importer, ImportResult } from './types.js';

/** Converts one parameter value; reports into `b` and returns undefined when it cannot. */
type Convert = (b: ImportBuilder, at: string, v: unknown) => unknown;

const same: Convert = (_b, _at, v) => v;
const integer: Convert = (b, at, v) => {
  const n = num(v);
  if (n === undefined || !Number.isInteger(n)) return void b.fail(at, `${shown(v)} is not a whole number`);
  return n;
};
const percent: Convert = (b, at, v) => {
  const n = num(typeof v === 'string' ? v.trim().replace(/%$/, '') : v);
  if (n === undefined) return void b.fail(at, `${shown(v)} is not a percentage like 25 or "25%"`);
  return n;
};
const wholePercent: Convert = (b, at, v) => {
  const n = percent(b, at, v) as number | undefined;
  return n === undefined ? undefined : Math.round(n);
};
/** Seconds: 30, "30", "30s", "1m". */
const seconds: Convert = (b, at, v) => {
  const ms = foreignDurationMs(v, 's');
  if (ms === undefined || ms % 1000 !== 0) return void b.fail(at, `${shown(v)} is not a whole number of seconds like 30 or 30s`);
  return ms / 1000;
};
/** A latency: 150 (milliseconds), "150ms", "0.2s". */
const latency: Convert = (b, at, v) => durationField(b, at, v, 'ms', true);
// This format's sizes count in 1024s (512MB meant 512 MiB to its stress-ng).
const memory: Convert = (b, at, v) => {
  const bytes = sizeBytes(v, 'binary');
  const size = bytes === undefined ? undefined : nativeSize(bytes);
  if (size === undefined) return void b.fail(at, `${shown(v)} is not a memory size like 512MB or 1Gi`);
  return size;
};
const direction: Convert = (b, at, v) => {
  const d = ({ egress: 'egress', ingress: 'ingress', both: 'both', to: 'egress', from: 'ingress', outbound: 'egress', inbound: 'ingress' } as Record<string, string>)[String(v).toLowerCase()];
  if (!d) return void b.fail(at, `direction ${shown(v)} is not one of egress, ingress, both`);
  return d;
};
const list = (inner: Convert): Convert => (b, at, v) => {
  const items = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : [v];
  return items.map((x, i) => inner(b, Array.isArray(v) ? `${at}/${i}` : at, x));
};
const cidr: Convert = (b, at, v) => {
  if (typeof v !== 'string') return void b.fail(at, `${shown(v)} is not an IP or CIDR`);
  const t = v.trim();
  if (/^[0-9.]+$/.test(t)) return `${t}/32`;
  if (/^[0-9a-fA-F:]+$/.test(t) && t.includes(':')) return `${t}/128`;
  if (t.includes('/')) return t;
  return void b.fail(at, `"${t}" is a host name: Faultline partitions by IP and CIDR only`);
};

interface Scenario {
  fault: string;
  /** parameter name → [native params field, convert] */
  params: Record<string, [string, Convert]>;
}

const SCENARIOS: Record<string, Scenario> = {
  PodKiller: { fault: 'pod-kill', params: { gracePeriod: ['gracePeriodSeconds', seconds], gracePeriodSeconds: ['gracePeriodSeconds', seconds] } },
  ContainerKiller: { fault: 'container-kill', params: { container: ['container', same], containerName: ['container', same], signal: ['signal', same] } },
  CpuStress: { fault: 'cpu-stress', params: { cpuWorkers: ['workers', integer], workers: ['workers', integer], cpuLoad: ['load', wholePercent], load: ['load', wholePercent] } },
  MemoryStress: { fault: 'memory-stress', params: { memorySize: ['size', memory], size: ['size', memory], workers: ['workers', integer], memoryWorkers: ['workers', integer] } },
  NetworkDelay: {
    fault: 'network-delay',
    params: { latency: ['latency', latency], delay: ['latency', latency], jitter: ['jitter', latency], correlation: ['correlation', wholePercent], interface: ['interface', same] },
  },
  NetworkLoss: {
    fault: 'network-loss',
    params: { lossPercentage: ['percent', percent], loss: ['percent', percent], percent: ['percent', percent], correlation: ['correlation', wholePercent], interface: ['interface', same] },
  },
  NetworkPartition: {
    fault: 'network-partition',
    params: {
      cidrs: ['cidrs', list(cidr)], destinations: ['cidrs', list(cidr)], targets: ['cidrs', list(cidr)],
      ports: ['ports', list(integer)], port: ['ports', list(integer)], direction: ['direction', direction], interface: ['interface', same],
    },
  },
};
// Parameters that choose targets rather than tune the fault.
const TARGETING = ['killPercentage', 'targetPercentage', 'killCount', 'targetCount'];

export const chaosIoImporter: Importer = {
  describe: () => 'chaos.io/v1 ChaosExperiment',
  matches: (apiVersion, kind) => apiVersion === 'chaos.io/v1' && kind === 'ChaosExperiment',
  import(doc: Obj): ImportResult {
    const b = new ImportBuilder();
    b.onlyKnown(doc, '', ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    const metadata = isObj(doc.metadata) ? doc.metadata : {};
    b.map('/metadata', '/metadata');
    b.map('/spec/fault', '/spec/scenario');
    b.map('/spec/fault/params', '/spec/parameters');
    const spec = doc.spec;
    if (!isObj(spec)) {
      b.fail(spec === undefined ? '' : '/spec', 'spec must be a mapping with scenario, target, duration');
      return b.result(undefined);
    }
    b.onlyKnown(spec, '/spec', ['scenario', 'target', 'duration', 'parameters', 'schedule', 'description', 'suspend']);
    const scenario = typeof spec.scenario === 'string' ? SCENARIOS[spec.scenario] : undefined;
    if (!scenario) {
      b.fail(spec.scenario === undefined ? '/spec' : '/spec/scenario', `scenario ${shown(spec.scenario)} has no Faultline equivalent (supported: ${Object.keys(SCENARIOS).join(', ')})`);
    }
    const out: Obj = {};
    if (spec.description !== undefined) out.description = spec.description;
    if (spec.suspend !== undefined) out.suspend = spec.suspend;
    b.map('/spec/description', '/spec/description');
    b.map('/spec/suspend', '/spec/suspend');
    b.map('/spec/duration', '/spec/duration');
    // 300 alone is seconds here; "300s", "5m", "1h30m" as written.
    out.duration = durationField(b, spec.duration === undefined ? '/spec' : '/spec/duration', spec.duration, 's');
    if (spec.schedule !== undefined) {
      if (typeof spec.schedule === 'string') out.schedule = { cron: spec.schedule };
      else if (isObj(spec.schedule)) out.schedule = spec.schedule;
      b.map('/spec/schedule/cron', '/spec/schedule');
      b.map('/spec/schedule', '/spec/schedule');
    }

    // target
    const target: Obj = {};
    b.map('/spec/target', '/spec/target');
    if (isObj(spec.target)) {
      b.onlyKnown(spec.target, '/spec/target', ['namespace', 'labelSelector']);
      if (spec.target.namespace !== undefined) target.namespace = spec.target.namespace;
      else if (typeof metadata.namespace === 'string') {
        target.namespace = metadata.namespace; // like a Kubernetes object: its own namespace
        b.map('/spec/target/namespace', '/metadata/namespace');
      } else b.fail('/spec/target', 'target.namespace is required (the document has no metadata.namespace either)');
      const sel = spec.target.labelSelector;
      b.map('/spec/target/selector', '/spec/target/labelSelector');
      if (typeof sel === 'string') {
        const parsed = parseSelectorString(sel);
        if (typeof parsed === 'string') b.fail('/spec/target/labelSelector', parsed);
        else target.selector = parsed;
      } else if (isObj(sel)) {
        target.selector = 'matchLabels' in sel || 'matchExpressions' in sel ? sel : { matchLabels: sel };
      } else if (sel === undefined) {
        b.fail('/spec/target', 'target.labelSelector is required: Faultline never targets a whole namespace implicitly');
      } else b.fail('/spec/target/labelSelector', 'labelSelector must be a string like "app=checkout" or a map of labels');
    } else {
      b.fail(spec.target === undefined ? '/spec' : '/spec/target', 'target must be a mapping with namespace and labelSelector');
    }

    // parameters
    const params: Obj = {};
    const parameters = spec.parameters === undefined ? {} : spec.parameters;
    if (!isObj(parameters)) b.fail('/spec/parameters', 'parameters must be a mapping');
    else if (scenario) {
      for (const [k, v] of Object.entries(parameters)) {
        const at = `/spec/parameters/${k}`;
        if (TARGETING.includes(k)) continue;
        const m = scenario.params[k];
        if (!m) {
          b.fail(at, `parameter "${k}" has no Faultline equivalent for scenario ${String(spec.scenario)} (known: ${[...Object.keys(scenario.params), ...TARGETING].join(', ')})`, true);
          continue;
        }
        const converted = m[1](b, at, v);
        if (converted !== undefined) params[m[0]] = converted;
        b.map(`/spec/fault/params/${m[0]}`, at);
      }
      target.mode = mode(parameters, b);
    }
    if (b.problems.length) return b.result(undefined);
    return b.result(nativeDoc(metadata, { ...out, fault: { type: scenario!.fault, params }, target }));
  },
};

function mode(parameters: Obj, b: ImportBuilder): Obj {
  const pctKey = ['killPercentage', 'targetPercentage'].find((k) => parameters[k] !== undefined);
  const countKey = ['killCount', 'targetCount'].find((k) => parameters[k] !== undefined);
  if (pctKey && countKey) {
    b.fail(`/spec/parameters/${countKey}`, `${pctKey} and ${countKey} cannot both be set`);
    return { type: 'one' };
  }
  if (pctKey) {
    b.map('/spec/target/mode', `/spec/parameters/${pctKey}`);
    b.map('/spec/target/mode/value', `/spec/parameters/${pctKey}`);
    const v = percent(b, `/spec/parameters/${pctKey}`, parameters[pctKey]) as number | undefined;
    return v === 100 ? { type: 'all' } : { type: 'percent', value: v ?? parameters[pctKey] };
  }
  if (countKey) {
    b.map('/spec/target/mode', `/spec/parameters/${countKey}`);
    b.map('/spec/target/mode/value', `/spec/parameters/${countKey}`);
    return { type: 'fixed', value: integer(b, `/spec/parameters/${countKey}`, parameters[countKey]) ?? parameters[countKey] };
  }
  return { type: 'one' };
}
