// Checks the schema cannot express: label/selector syntax, mode values, cron and time zone,
// probe shape, fault rules that span fields, and caps that must agree with each other.
// Runs on schema-checked data but stays defensive: a field the schema rejected is skipped here.
import { CronExpressionParser } from 'cron-parser';
import { tryParseDuration } from './duration.js';
import { faultDefinition } from './faults.js';

export interface SemanticProblem {
  pointer: string;
  message: string;
  key?: boolean; // point at the map key rather than the value
}

const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function labelKeyError(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !LABEL_PREFIX.test(prefix))) {
    return `label key "${key}": the prefix must be a DNS subdomain (lowercase, at most 253 characters)`;
  }
  if (!LABEL_NAME.test(name)) {
    return `label key "${key}": the name must be 1-63 characters of letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
  }
  return undefined;
}

export function labelValueError(value: string): string | undefined {
  return LABEL_VALUE.test(value)
    ? undefined
    : `label value "${value}" must be at most 63 characters of letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
}

const zoneCache = new Map<string, boolean>();
export function isTimeZone(tz: string): boolean {
  let ok = zoneCache.get(tz);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      ok = true;
    } catch {
      ok = false;
    }
    if (zoneCache.size < 1000) zoneCache.set(tz, ok);
  }
  return ok;
}

const cronCache = new Map<string, string | undefined>();

/** Why a cron expression is invalid, or undefined; memoised (repositories repeat expressions). */
export function cronError(cron: string, timezone?: string): string | undefined {
  const key = `${cron}\u0000${timezone ?? ''}`;
  if (cronCache.has(key)) return cronCache.get(key);
  const result = checkCron(cron, timezone);
  if (cronCache.size >= 1000) cronCache.clear();
  cronCache.set(key, result);
  return result;
}

function checkCron(cron: string, timezone?: string): string | undefined {
  const fields = cron.trim().split(/\s+/);
  if (!cron.trim().startsWith('@') && fields.length !== 5) {
    return `cron "${cron}" must have 5 fields (minute hour day-of-month month day-of-week), it has ${fields.length}`;
  }
  try {
    CronExpressionParser.parse(cron, timezone && isTimeZone(timezone) ? { tz: timezone } : {});
    return undefined;
  } catch (err) {
    return `cron "${cron}" is not valid: ${(err as Error).message}`;
  }
}

export function checkLabels(map: unknown, at: string, out: SemanticProblem[]): void {
  if (!isObj(map)) return;
  for (const [k, v] of Object.entries(map)) {
    const p = `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const ke = labelKeyError(k);
    if (ke) out.push({ pointer: p, message: ke, key: true });
    if (typeof v === 'string') {
      const ve = labelValueError(v);
      if (ve) out.push({ pointer: p, message: ve });
    }
  }
}

function checkSelector(sel: unknown, at: string, out: SemanticProblem[]): void {
  if (!isObj(sel)) return;
  const labels = isObj(sel.matchLabels) ? Object.keys(sel.matchLabels).length : 0;
  const exprs = Array.isArray(sel.matchExpressions) ? sel.matchExpressions : [];
  if (labels === 0 && exprs.length === 0) {
    out.push({ pointer: at, message: 'selector is empty: it would select every pod in the namespace; give matchLabels or matchExpressions' });
  }
  checkLabels(sel.matchLabels, `${at}/matchLabels`, out);
  exprs.forEach((e, i) => {
    if (!isObj(e)) return;
    const p = `${at}/matchExpressions/${i}`;
    if (typeof e.key === 'string') {
      const ke = labelKeyError(e.key);
      if (ke) out.push({ pointer: `${p}/key`, message: ke });
    }
    const values = Array.isArray(e.values) ? e.values : undefined;
    if (e.operator === 'In' || e.operator === 'NotIn') {
      if (!values || values.length === 0) out.push({ pointer: `${p}/values`, message: `operator ${e.operator} needs a non-empty values list` });
    } else if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && values && values.length > 0) {
      out.push({ pointer: `${p}/values`, message: `operator ${e.operator} takes no values` });
    }
    values?.forEach((v, j) => {
      if (typeof v === 'string') {
        const ve = labelValueError(v);
        if (ve) out.push({ pointer: `${p}/values/${j}`, message: ve });
      }
    });
  });
}

function checkMode(mode: unknown, at: string, out: SemanticProblem[]): void {
  if (!isObj(mode)) return;
  const v = mode.value;
  switch (mode.type) {
    case 'one':
    case 'all':
      if (v !== undefined) out.push({ pointer: `${at}/value`, message: `mode ${mode.type} takes no value` });
      break;
    case 'fixed':
      if (v === undefined) out.push({ pointer: `${at}/value`, message: 'mode fixed needs a value (how many pods, at least 1)' });
      else if (typeof v === 'number' && (!Number.isInteger(v) || v < 1)) {
        out.push({ pointer: `${at}/value`, message: 'mode fixed: value must be a whole number of pods, at least 1' });
      }
      break;
    case 'percent':
      if (v === undefined) out.push({ pointer: `${at}/value`, message: 'mode percent needs a value between 1 and 100' });
      else if (typeof v === 'number' && (v < 1 || v > 100)) {
        out.push({ pointer: `${at}/value`, message: 'mode percent: value must be between 1 and 100' });
      }
      break;
  }
}

export function checkProbes(probes: unknown, at: string, out: SemanticProblem[]): void {
  if (!Array.isArray(probes)) return;
  const names = new Map<string, number>();
  probes.forEach((probe, i) => {
    if (!isObj(probe)) return;
    const p = `${at}/${i}`;
    const kinds = (['http', 'prometheus', 'kubernetes'] as const).filter((k) => probe[k] !== undefined);
    if (kinds.length !== 1) {
      out.push({ pointer: p, message: `probe needs exactly one of http, prometheus, kubernetes (has ${kinds.length ? kinds.join(', ') : 'none'})` });
    }
    if (typeof probe.name === 'string') {
      const first = names.get(probe.name);
      if (first !== undefined) out.push({ pointer: `${p}/name`, message: `probe name "${probe.name}" is already used by probe ${first}` });
      else names.set(probe.name, i);
    }
    for (const kind of ['http', 'prometheus'] as const) {
      const spec = probe[kind];
      if (!isObj(spec)) continue;
      if (typeof spec.url === 'string') {
        try {
          new URL(spec.url);
        } catch {
          out.push({ pointer: `${p}/${kind}/url`, message: `"${spec.url}" is not a valid URL` });
        }
      }
      const interval = tryParseDuration(probe.interval ?? '5s');
      const timeout = tryParseDuration(spec.timeout);
      if (interval !== undefined && timeout !== undefined && timeout > interval) {
        out.push({ pointer: `${p}/${kind}/timeout`, message: `timeout ${String(spec.timeout)} is longer than the probe interval ${String(probe.interval ?? '5s')}` });
      }
    }
    const http = probe.http;
    if (isObj(http) && typeof http.bodyMatch === 'string') {
      try {
        new RegExp(http.bodyMatch);
      } catch (err) {
        out.push({ pointer: `${p}/http/bodyMatch`, message: `bodyMatch is not a valid regular expression: ${(err as Error).message}` });
      }
    }
  });
}

/** Semantic problems of one native experiment document (already shaped by the schema). */
export function semanticProblems(doc: unknown): SemanticProblem[] {
  const out: SemanticProblem[] = [];
  if (!isObj(doc)) return out;
  if (isObj(doc.metadata)) checkLabels(doc.metadata.labels, '/metadata/labels', out);
  const spec = doc.spec;
  if (!isObj(spec)) return out;
  const target = spec.target;
  if (isObj(target)) {
    checkSelector(target.selector, '/spec/target/selector', out);
    checkMode(target.mode, '/spec/target/mode', out);
  }
  const schedule = spec.schedule;
  if (isObj(schedule)) {
    const tz = schedule.timezone;
    if (typeof tz === 'string' && !isTimeZone(tz)) {
      out.push({ pointer: '/spec/schedule/timezone', message: `"${tz}" is not an IANA time zone (e.g. Europe/Berlin, UTC)` });
    }
    if (typeof schedule.cron === 'string') {
      const e = cronError(schedule.cron, typeof tz === 'string' ? tz : undefined);
      if (e) out.push({ pointer: '/spec/schedule/cron', message: e });
    }
  }
  if (isObj(spec.steadyState)) checkProbes(spec.steadyState.probes, '/spec/steadyState/probes', out);
  const fault = spec.fault;
  if (isObj(fault) && typeof fault.type === 'string' && isObj(fault.params)) {
    for (const p of faultDefinition(fault.type)?.checkParams?.(fault.params) ?? []) out.push({ pointer: `/spec/fault/params${p.pointer}`, message: p.message });
  }
  const safety = spec.safety;
  if (isObj(safety) && isObj(target) && isObj(target.mode)) {
    const { type, value } = target.mode;
    if (type === 'fixed' && typeof value === 'number' && typeof safety.maxTargets === 'number' && value > safety.maxTargets) {
      out.push({ pointer: '/spec/target/mode/value', message: `mode fixed asks for ${value} pods but safety.maxTargets is ${safety.maxTargets}` });
    }
    if (type === 'percent' && typeof value === 'number' && typeof safety.maxBlastRadiusPercent === 'number' && value > safety.maxBlastRadiusPercent) {
      out.push({ pointer: '/spec/target/mode/value', message: `mode percent ${value} is above safety.maxBlastRadiusPercent ${safety.maxBlastRadiusPercent}` });
    }
    if (type === 'all' && typeof safety.maxBlastRadiusPercent === 'number' && safety.maxBlastRadiusPercent < 100) {
      out.push({ pointer: '/spec/target/mode/type', message: `mode all hits 100% of the pods, above safety.maxBlastRadiusPercent ${safety.maxBlastRadiusPercent}` });
    }
  }
  return out;
}
