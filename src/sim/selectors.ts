// Label and field selectors with the API server's syntax.
import { badRequest } from './errors.js';
import type { KObject } from './types.js';

export type LabelRequirement =
  | { op: 'exists' | '!'; key: string }
  | { op: '=' | '!='; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] };

export type LabelSelector = LabelRequirement[];

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]{0,61}[a-z0-9A-Z])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/** Splits on commas that are not inside parentheses. */
function splitTop(text: string): string[] {
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
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function checkKey(key: string, raw: string): string {
  if (!KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in "${raw}"`);
  return key;
}

function checkValue(value: string, raw: string): string {
  if (!VALUE.test(value)) throw badRequest(`unable to parse requirement: invalid label value "${value}" in "${raw}"`);
  return value;
}

export function parseLabelSelector(text: string | null | undefined): LabelSelector {
  if (!text) return [];
  return splitTop(text).map((raw) => {
    let m = /^!\s*(\S+)$/.exec(raw);
    if (m) return { op: '!', key: checkKey(m[1]!, raw) };
    m = /^(\S+?)\s+(in|notin)\s*\(([^)]*)\)$/.exec(raw);
    if (m) {
      const values = m[3]!.split(',').map((v) => checkValue(v.trim(), raw));
      return { op: m[2] as 'in' | 'notin', key: checkKey(m[1]!, raw), values };
    }
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(raw);
    if (m) return { op: m[2] === '!=' ? '!=' : '=', key: checkKey(m[1]!, raw), value: checkValue(m[3]!, raw) };
    if (/^[^\s=!(),]+$/.test(raw)) return { op: 'exists', key: checkKey(raw, raw) };
    throw badRequest(`unable to parse requirement: found '${raw}', expected: in, notin, =, ==, !=, gt, lt`);
  });
}

export function matchLabels(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return sel.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'exists': return has;
      case '!': return !has;
      case '=': return has && l[r.key] === r.value;
      case '!=': return !has || l[r.key] !== r.value;
      case 'in': return has && r.values.includes(l[r.key]!);
      case 'notin': return !has || !r.values.includes(l[r.key]!);
    }
  });
}

/** A metav1.LabelSelector (matchLabels + matchExpressions) as requirements. */
export function fromLabelSelectorObject(sel: unknown): LabelSelector {
  const s = (sel ?? {}) as { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
  const out: LabelSelector = [];
  for (const [key, value] of Object.entries(s.matchLabels ?? {})) out.push({ op: '=', key, value });
  for (const e of s.matchExpressions ?? []) {
    if (e.operator === 'In') out.push({ op: 'in', key: e.key, values: e.values ?? [] });
    else if (e.operator === 'NotIn') out.push({ op: 'notin', key: e.key, values: e.values ?? [] });
    else if (e.operator === 'Exists') out.push({ op: 'exists', key: e.key });
    else if (e.operator === 'DoesNotExist') out.push({ op: '!', key: e.key });
  }
  return out;
}

/** The string form, e.g. for Scale.status.selector. */
export function formatLabelSelector(sel: LabelSelector): string {
  return sel.map((r) => {
    switch (r.op) {
      case 'exists': return r.key;
      case '!': return `!${r.key}`;
      case '=': return `${r.key}=${r.value}`;
      case '!=': return `${r.key}!=${r.value}`;
      case 'in': return `${r.key} in (${r.values.join(',')})`;
      case 'notin': return `${r.key} notin (${r.values.join(',')})`;
    }
  }).join(',');
}

export interface FieldRequirement { field: string; op: '=' | '!='; value: string }

const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];
const FIELDS: Record<string, string[]> = {
  pods: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  nodes: ['spec.unschedulable'],
  namespaces: ['status.phase'],
  events: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion',
    'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type',
    'regarding.kind', 'regarding.namespace', 'regarding.name', 'regarding.uid'],
  replicasets: ['status.replicas'],
};

export function parseFieldSelector(text: string | null | undefined, plural: string): FieldRequirement[] {
  if (!text) return [];
  return splitTop(text).map((raw) => {
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(raw);
    if (!m) throw badRequest(`invalid field selector: '${raw}'`);
    const field = m[1]!.trim();
    if (!COMMON_FIELDS.includes(field) && !(FIELDS[plural] ?? []).includes(field)) {
      throw badRequest(`field label not supported: ${field}`);
    }
    return { field, op: m[2] === '!=' ? '!=' : '=', value: m[3]!.trim() };
  });
}

function fieldValue(obj: KObject, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return path === 'spec.unschedulable' ? 'false' : '';
  return String(cur);
}

export function matchFields(reqs: FieldRequirement[], obj: KObject): boolean {
  return reqs.every((r) => (fieldValue(obj, r.field) === r.value) === (r.op === '='));
}
