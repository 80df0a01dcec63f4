// Helpers shared by the importers: a result builder and label selector string parsing.
import { API_VERSION, KIND } from '../model.js';
import type { ImportProblem, ImportResult } from './types.js';

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export class ImportBuilder {
  readonly pointerMap: [string, string][] = [['', '']];
  readonly problems: ImportProblem[] = [];

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
    return { experiment, pointerMap: this.pointerMap, problems: this.problems };
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
