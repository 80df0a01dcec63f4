// The normalised form: defaults filled in so that "absent" and "default" mean the same thing
// downstream and in the spec hash. Durations stay as written (the hash canonicalises them).
import { FAULT_CATALOG } from './faults.js';
import { plainClone } from './hash.js';
import type { Experiment, ExperimentSpec, FaultType, ProbeSpec } from './model.js';

export const DEFAULT_PROBE_INTERVAL = '5s';
export const DEFAULT_FAILURE_THRESHOLD = 3;

interface PropSchema {
  default?: unknown;
  properties?: Record<string, PropSchema>;
}

/** Fills `default`s from a fault's params schema (top level; nested objects when present). */
export function fillParamDefaults(type: FaultType, params: Record<string, unknown> | undefined): Record<string, unknown> {
  return fillDefaults(FAULT_CATALOG[type].paramsSchema as PropSchema, params ?? {});
}

function fillDefaults(schema: PropSchema, value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...value };
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    const v = out[key];
    if (v === undefined && prop.default !== undefined) out[key] = plainClone(prop.default);
    else if (prop.properties && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      out[key] = fillDefaults(prop, v as Record<string, unknown>);
    }
  }
  return out;
}

/** Takes a schema- and semantics-checked native document and returns the normalised experiment. */
export function normaliseExperiment(doc: Experiment): Experiment {
  const s = doc.spec;
  const spec: ExperimentSpec = {
    ...(s.description !== undefined ? { description: s.description } : {}),
    fault: { type: s.fault.type, params: fillParamDefaults(s.fault.type, s.fault.params) },
    target: {
      namespace: s.target.namespace,
      // The local cluster named explicitly is the default: same spec, same hash.
      ...(s.target.cluster !== undefined && s.target.cluster !== 'in-cluster' ? { cluster: s.target.cluster } : {}),
      selector: {
        ...(s.target.selector.matchLabels ? { matchLabels: { ...s.target.selector.matchLabels } } : {}),
        ...(s.target.selector.matchExpressions
          ? { matchExpressions: s.target.selector.matchExpressions.map((e) => ({ ...e, ...(e.values ? { values: [...e.values] } : {}) })) }
          : {}),
      },
      mode: s.target.mode ? { ...s.target.mode } : { type: 'one' },
    },
    duration: s.duration,
    ...(s.schedule ? { schedule: { ...s.schedule } } : {}),
    suspend: s.suspend ?? false,
    ...(s.steadyState ? { steadyState: { probes: s.steadyState.probes.map(normaliseProbe) } } : {}),
    ...(s.safety ? { safety: { ...s.safety } } : {}),
    ...(s.notify ? { notify: plainClone(s.notify) } : {}),
  };
  return {
    apiVersion: doc.apiVersion,
    kind: doc.kind,
    metadata: {
      name: doc.metadata.name,
      ...(doc.metadata.labels ? { labels: { ...doc.metadata.labels } } : {}),
      ...(doc.metadata.annotations ? { annotations: { ...doc.metadata.annotations } } : {}),
    },
    spec,
  };
}

export function normaliseProbe(p: ProbeSpec): ProbeSpec {
  return {
    ...plainClone(p),
    interval: p.interval ?? DEFAULT_PROBE_INTERVAL,
    failureThreshold: p.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD,
  };
}
