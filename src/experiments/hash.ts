// The spec hash: sha256 of a canonical JSON form of the normalised spec, so the same meaning
// gives the same hash whatever the key order, YAML style or duration spelling (5m = 300s).
// Left out: the description (editing prose is not a new revision to run), `suspend` (pausing
// and resuming is not a new revision either) and `notify` (who hears about it, not what runs).
import { hash } from 'node:crypto';
import { tryParseDuration } from './duration.js';
import { FAULT_CATALOG } from './faults.js';
import type { Experiment, ExperimentSpec, ProbeSpec } from './model.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function specHash(e: Experiment): string {
  return hash('sha256', canonicalJson(canonicalSpec(e.spec)), 'hex');
}

const ms = (d: unknown): unknown => tryParseDuration(d) ?? d;
const sortedSet = <T>(xs: T[]): T[] => [...new Set(xs)].sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));

/** The spec in the form that is hashed (durations in ms, sets sorted). */
export function canonicalSpec(spec: ExperimentSpec): unknown {
  const { description: _description, suspend: _suspend, notify: _notify, ...rest } = spec;
  const out = plainClone(rest) as Record<string, unknown> & ExperimentSpec;
  out.duration = ms(spec.duration) as string;
  out.fault = { type: spec.fault.type, params: durationsToMs(FAULT_CATALOG[spec.fault.type].paramsSchema, spec.fault.params) as Record<string, unknown> };
  const params = out.fault.params;
  if (Array.isArray(params.cidrs)) params.cidrs = sortedSet(params.cidrs as string[]);
  if (Array.isArray(params.ports)) params.ports = sortedSet(params.ports as number[]).sort((a, b) => a - b);
  const sel = out.target.selector;
  if (sel.matchExpressions) {
    sel.matchExpressions = sel.matchExpressions
      .map((e) => ({ ...e, ...(e.values ? { values: sortedSet(e.values) } : {}) }))
      .sort((a, b) => cmp(canonicalJson(a as unknown as Json), canonicalJson(b as unknown as Json)));
    if (sel.matchExpressions.length === 0) delete sel.matchExpressions;
  }
  if (sel.matchLabels && Object.keys(sel.matchLabels).length === 0) delete sel.matchLabels;
  if (out.steadyState) {
    out.steadyState.probes = out.steadyState.probes.map(canonicalProbe).sort((a, b) => cmp(a.name, b.name));
  }
  return out;
}

export function canonicalProbe(p: ProbeSpec): ProbeSpec {
  const q = plainClone(p);
  q.interval = ms(q.interval) as string;
  if (q.http) {
    q.http.timeout = ms(q.http.timeout) as string;
    q.http.maxLatency = ms(q.http.maxLatency) as string;
    if (q.http.expectStatus) q.http.expectStatus = sortedSet(q.http.expectStatus).sort((a, b) => a - b);
  }
  if (q.prometheus) q.prometheus.timeout = ms(q.prometheus.timeout) as string;
  return q;
}

interface DurSchema {
  durationRange?: unknown;
  properties?: Record<string, DurSchema>;
}
function durationsToMs(schema: object, value: unknown): unknown {
  const s = schema as DurSchema;
  if (s.durationRange) return ms(value);
  if (s.properties && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = s.properties[k] ? durationsToMs(s.properties[k], v) : v;
    return out;
  }
  return value;
}

/** A deep copy of plain JSON-like data (faster than structuredClone for small objects). */
export function plainClone<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(plainClone) as T;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = plainClone((v as Record<string, unknown>)[k]);
  return out as T;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** JSON with object keys sorted and undefined members dropped. */
export function canonicalJson(v: Json | unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  // Plain loops and string building: this runs for every experiment of every load.
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      if (i) out += ',';
      const x: unknown = v[i];
      out += x === undefined ? 'null' : canonicalJson(x);
    }
    return out + ']';
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort(); // default sort = UTF-16 code unit order, as cmp()
  let out = '{';
  let first = true;
  for (const k of keys) {
    const x = o[k];
    if (x === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += JSON.stringify(k) + ':' + canonicalJson(x);
  }
  return out + '}';
}
