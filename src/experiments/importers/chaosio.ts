// chaos.io/v1 ChaosExperiment: `spec.scenario` (PodKiller, CpuStress, NetworkDelay, NetworkLoss,
// MemoryStress), `spec.target.namespace` + `labelSelector` (string or map), `spec.duration`,
// `spec.parameters` (killPercentage, gracePeriod, ...), optional `spec.schedule` cron string.
import { durationText, ImportBuilder, isObj, nativeDoc, num, parseSelectorString, type Obj } from './common.js';
import type { Importer, ImportResult } from './types.js';

interface Scenario {
  fault: string;
  /** parameter name → [native params field, convert] */
  params: Record<string, [string, (v: unknown) => unknown]>;
}
const same = (v: unknown) => v;
const memorySize = (v: unknown): unknown => {
  if (typeof v !== 'string') return v;
  const m = /^([1-9][0-9]*)\s*(Mi|MiB|M|MB|Gi|GiB|G|GB)$/.exec(v.trim());
  if (!m) return v;
  return `${m[1]}${m[2]!.startsWith('G') ? 'Gi' : 'Mi'}`;
};

const SCENARIOS: Record<string, Scenario> = {
  PodKiller: { fault: 'pod-kill', params: { gracePeriod: ['gracePeriodSeconds', num] } },
  CpuStress: { fault: 'cpu-stress', params: { cpuWorkers: ['workers', num], workers: ['workers', num], cpuLoad: ['load', num], load: ['load', num] } },
  MemoryStress: { fault: 'memory-stress', params: { memorySize: ['size', memorySize], size: ['size', memorySize], workers: ['workers', num] } },
  NetworkDelay: {
    fault: 'network-delay',
    params: { latency: ['latency', durationText], delay: ['latency', durationText], jitter: ['jitter', durationText], correlation: ['correlation', num], interface: ['interface', same] },
  },
  NetworkLoss: { fault: 'network-loss', params: { lossPercentage: ['percent', num], loss: ['percent', num], correlation: ['correlation', num], interface: ['interface', same] } },
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
      b.fail('/spec', 'spec must be a mapping with scenario, target, duration');
      return b.result(undefined);
    }
    b.onlyKnown(spec, '/spec', ['scenario', 'target', 'duration', 'parameters', 'schedule', 'description', 'suspend']);
    const scenario = typeof spec.scenario === 'string' ? SCENARIOS[spec.scenario] : undefined;
    if (!scenario) {
      b.fail('/spec/scenario', `scenario ${JSON.stringify(spec.scenario)} has no Faultline equivalent (supported: ${Object.keys(SCENARIOS).join(', ')})`);
    }
    const out: Obj = {};
    if (spec.description !== undefined) out.description = spec.description;
    if (spec.suspend !== undefined) out.suspend = spec.suspend;
    b.map('/spec/description', '/spec/description');
    b.map('/spec/suspend', '/spec/suspend');
    out.duration = durationText(spec.duration);
    b.map('/spec/duration', '/spec/duration');
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
      target.namespace = spec.target.namespace;
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
      b.fail('/spec/target', 'target must be a mapping with namespace and labelSelector');
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
        const converted = m[1](v);
        params[m[0]] = converted === undefined ? v : converted;
        b.map(`/spec/fault/params/${m[0]}`, at);
      }
      const pct = parameters.killPercentage ?? parameters.targetPercentage;
      const count = parameters.killCount ?? parameters.targetCount;
      const pctKey = parameters.killPercentage !== undefined ? 'killPercentage' : 'targetPercentage';
      const countKey = parameters.killCount !== undefined ? 'killCount' : 'targetCount';
      if (pct !== undefined && count !== undefined) {
        b.fail(`/spec/parameters/${countKey}`, `${pctKey} and ${countKey} cannot both be set`);
      } else if (pct !== undefined) {
        target.mode = { type: pct === 100 || pct === '100' ? 'all' : 'percent', ...(num(pct) === 100 ? {} : { value: num(pct) ?? pct }) };
        b.map('/spec/target/mode', `/spec/parameters/${pctKey}`);
        b.map('/spec/target/mode/value', `/spec/parameters/${pctKey}`);
      } else if (count !== undefined) {
        target.mode = { type: 'fixed', value: num(count) ?? count };
        b.map('/spec/target/mode', `/spec/parameters/${countKey}`);
        b.map('/spec/target/mode/value', `/spec/parameters/${countKey}`);
      } else target.mode = { type: 'one' };
    }
    if (b.problems.length) return b.result(undefined);
    return b.result(
      nativeDoc(metadata, {
        ...out,
        fault: { type: scenario!.fault, params },
        target,
      }),
    );
  },
};
