// Helpers shared by the importers: a result builder and label selector string parsing.
import { API_VERSION, KIND } from '../model.js';
import type { ImportProblem, ImportResult } from './types.js';

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export class ImportBuilder {
  readonly pointerMap: [string, string][] = [['', '']];
  readonly problems: ImportProblem[] = [];
  readonly notes: string[] = [];

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  map(native: string, source: string): void {
    this.pointerMap.push([native, source]);
  }

  fail(pointer: string, message: string, key = false): void {
    this.problems.push({ pointer, message, ...(key ? { key: true } : {}) });
  }

  /** Every field not in `known` is an error: nothing is dropped silently. */
  onlyKnown(obj: Obj, at: string, known: string[], why = 'has no Faultline equivalent'): void {
    for (const k of Object.keys(obj)) {
      if (!known.includes(k)) this.fail(`${at}/${k}`, `field "${k}" ${why}`, true);
    }
  }

  result(experiment: unknown): ImportResult {
    return { experiment, pointerMap: this.pointerMap, problems: this.problems, ...(this.notes.length ? { notes: this.notes } : {}) };
  }
}

export function nativeDoc(metadata: Obj, spec: Obj): Obj {
  const meta: Obj = { name: metadata.name };
  if (metadata.labels !== undefined) meta.labels = metadata.labels;
  if (metadata.annotations !== undefined) meta.annotations = metadata.annotations;
  return { apiVersion: API_VERSION, kind: KIND, metadata: meta, spec };
}

/**
 * Parses a Kubernetes label selector string ("app=checkout,tier in (web,api),!canary") into
 * matchLabels / matchExpressions; returns an error message for what it cannot read.
 */
export function parseSelectorString(text: string): { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | string {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: { key: string; operator: string; values?: string[] }[] = [];
  // split on commas outside parentheses
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  for (const raw of parts) {
    const p = raw.trim();
    if (!p) return `empty term in selector "${text}"`;
    let m: RegExpExecArray | null;
    if ((m = /^([^\s=!()]+)\s+(in|notin)\s+\(([^()]*)\)$/.exec(p))) {
      const values = m[3]!.split(',').map((v) => v.trim()).filter(Boolean);
      matchExpressions.push({ key: m[1]!, operator: m[2] === 'in' ? 'In' : 'NotIn', values });
    } else if ((m = /^([^\s=!()]+)\s*!=\s*([^\s=!()]*)$/.exec(p))) {
      matchExpressions.push({ key: m[1]!, operator: 'NotIn', values: [m[2]!] });
    } else if ((m = /^([^\s=!()]+)\s*==?\s*([^\s=!()]*)$/.exec(p))) {
      matchLabels[m[1]!] = m[2]!;
    } else if ((m = /^!([^\s=!()]+)$/.exec(p))) {
      matchExpressions.push({ key: m[1]!, operator: 'DoesNotExist' });
    } else if ((m = /^([^\s=!()]+)$/.exec(p))) {
      matchExpressions.push({ key: m[1]!, operator: 'Exists' });
    } else {
      return `cannot read selector term "${p}"`;
    }
  }
  return {
    ...(Object.keys(matchLabels).length ? { matchLabels } : {}),
    ...(matchExpressions.length ? { matchExpressions } : {}),
  };
}

/** Numbers written as strings in foreign formats ("25"); undefined when not a number. */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?[0-9]+(\.[0-9]+)?$/.test(v.trim())) return Number(v);
  return undefined;
}

/** A latency written as a number is milliseconds in these formats. */
export function durationText(v: unknown): unknown {
  return typeof v === 'number' ? `${v}ms` : v;
}

const GO_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration the way Go's time.ParseDuration reads it ("1.5h", "2h45m", "300ms"; a bare number
 * is read as `bareUnit` when given) → milliseconds; undefined when it is not one.
 */
export function foreignDurationMs(v: unknown, bareUnit?: 'ms' | 's'): number | undefined {
  if (typeof v === 'number') return bareUnit && Number.isFinite(v) && v >= 0 ? v * GO_UNITS[bareUnit]! : undefined;
  if (typeof v !== 'string') return undefined;
  const text = v.trim();
  if (bareUnit && /^[0-9]+(\.[0-9]+)?$/.test(text)) return Number(text) * GO_UNITS[bareUnit]!;
  if (!/^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * GO_UNITS[m[2]!]!;
  return ms;
}

/** Milliseconds → a Faultline duration (1h30m, 90ms); undefined below 1 ms or not whole ms. */
export function nativeDuration(ms: number): string | undefined {
  if (!Number.isInteger(ms) || ms < 1) return undefined;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const rest = ms % 1000;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}${rest ? `${rest}ms` : ''}`;
}

/** A foreign duration turned native, or the problem written into `b`; undefined on failure. */
export function durationField(b: ImportBuilder, at: string, v: unknown, bareUnit?: 'ms' | 's', allowZero = false): string | undefined {
  const ms = foreignDurationMs(v, bareUnit);
  const text = ms === undefined ? undefined : ms === 0 && allowZero ? '0ms' : nativeDuration(ms);
  if (v === undefined) b.fail(at, 'a duration like 500ms, 30s, 5m or 1h30m is required here');
  else if (text === undefined) {
    b.fail(at, `${shown(v)} is not a duration like 500ms, 30s, 5m or 1h30m${ms !== undefined ? ' (Faultline counts in whole milliseconds, at least 1ms)' : ''}`);
  }
  return text;
}

const BYTE_UNITS: Record<string, number> = {
  B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3, TIB: 1024 ** 4,
  K: 1024, M: 1024 ** 2, G: 1024 ** 3, KI: 1024, MI: 1024 ** 2, GI: 1024 ** 3,
};

/** "256MB" (decimal), "256MiB"/"256Mi" (binary) → bytes; undefined when not an absolute size. */
export function sizeBytes(v: unknown, unitsOf: 'si' | 'binary' = 'si'): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  if (typeof v !== 'string') return undefined;
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)$/.exec(v.trim());
  if (!m) return undefined;
  let unit = m[2]!.toUpperCase();
  if (unit === '') unit = 'B';
  // Litmus and the seed format write MB meaning mebibytes (stress-ng counts in 1024s).
  if (unitsOf === 'binary' && /^[KMGT]B$/.test(unit)) unit = `${unit[0]}IB`;
  const f = BYTE_UNITS[unit];
  return f === undefined ? undefined : Number(m[1]) * f;
}

/** Bytes → a memory-stress size (Mi), rounded to the nearest MiB; undefined below 1 MiB. */
export function nativeSize(bytes: number): string | undefined {
  const mi = Math.round(bytes / 1024 ** 2);
  if (mi < 1) return undefined;
  return mi % 1024 === 0 ? `${mi / 1024}Gi` : `${mi}Mi`;
}

/** Prints a foreign value for a message: never `undefined`. */
export function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
