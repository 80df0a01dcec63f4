// CustomResourceDefinitions: a created CRD makes its resource served (discovery, REST, watch);
// objects of it are pruned, defaulted and validated against the version's structural schema as
// apiextensions-apiserver does (pruning and defaulting when the body is decoded, then schema
// validation with the same field paths and messages: k8s.io/kube-openapi validate errors).
import { badRequest, invalid, type StatusCause } from './errors.js';
import { resourceKey, type ResourceDef } from './resources.js';
import type { SimStore } from './store.js';
import type { KObject } from './types.js';
import { structuralProblems } from '../crds/structural.js';

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  pattern?: string;
  maxLength?: number;
  minLength?: number;
  maximum?: number;
  minimum?: number;
  maxItems?: number;
  minItems?: number;
  maxProperties?: number;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
};

export interface PrinterColumn { name: string; type: string; jsonPath: string; description?: string; priority?: number; format?: string }

export interface CustomResourceInfo {
  /** Schema and printer columns per served version. */
  versions: Record<string, { schema: Schema; columns: PrinterColumn[] }>;
  categories: string[];
}

interface CrdSpec {
  group: string;
  names: { kind: string; plural: string; singular?: string; shortNames?: string[]; listKind?: string; categories?: string[] };
  scope: 'Namespaced' | 'Cluster';
  versions: { name: string; served: boolean; storage: boolean; schema?: { openAPIV3Schema?: Schema }; subresources?: { status?: object; scale?: object }; additionalPrinterColumns?: PrinterColumn[] }[];
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The checks of a CRD's create/update that its served resource relies on (422 otherwise). */
export function validateCrd(obj: KObject): void {
  const spec = obj.spec as unknown as CrdSpec | undefined;
  const causes: StatusCause[] = [];
  const name = obj.metadata.name;
  if (!spec?.group) causes.push({ reason: 'FieldValueRequired', field: 'spec.group', message: 'Required value' });
  if (!spec?.names?.plural) causes.push({ reason: 'FieldValueRequired', field: 'spec.names.plural', message: 'Required value' });
  if (!spec?.names?.kind) causes.push({ reason: 'FieldValueRequired', field: 'spec.names.kind', message: 'Required value' });
  if (spec?.names?.plural && !DNS1123_LABEL.test(spec.names.plural)) causes.push({ field: 'spec.names.plural', message: `Invalid value: "${spec.names.plural}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'` });
  if (spec?.group && spec.names?.plural && name !== `${spec.names.plural}.${spec.group}`) {
    causes.push({ field: 'metadata.name', message: `Invalid value: "${name}": must be spec.names.plural+"."+spec.group` });
  }
  if (spec && spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') causes.push({ reason: 'FieldValueNotSupported', field: 'spec.scope', message: `Unsupported value: "${String(spec.scope)}": supported values: "Cluster", "Namespaced"` });
  const versions = spec?.versions ?? [];
  if (!versions.length) causes.push({ reason: 'FieldValueRequired', field: 'spec.versions', message: 'Required value: must have exactly one version marked as storage version' });
  else if (versions.filter((v) => v.storage).length !== 1) causes.push({ field: 'spec.versions', message: 'Invalid value: must have exactly one version marked as storage version' });
  versions.forEach((v, i) => {
    const schema = v.schema?.openAPIV3Schema;
    if (!schema) {
      causes.push({ reason: 'FieldValueRequired', field: `spec.versions[${i}].schema.openAPIV3Schema`, message: 'Required value: schemas are required' });
      return;
    }
    for (const p of structuralProblems(schema, `spec.versions[${i}].schema.openAPIV3Schema`)) {
      const at = p.indexOf(': ');
      causes.push({ field: p.slice(0, at), message: p.slice(at + 2) });
    }
  });
  if (causes.length) throw invalid('apiextensions.k8s.io', 'CustomResourceDefinition', name, causes);
}

/** The served resource a CRD defines (served versions, storage version first). */
export function crdToResource(obj: KObject): ResourceDef {
  const spec = obj.spec as unknown as CrdSpec;
  const served = spec.versions.filter((v) => v.served).sort((a, b) => Number(b.storage) - Number(a.storage));
  const info: CustomResourceInfo = { versions: {}, categories: spec.names.categories ?? [] };
  for (const v of served) info.versions[v.name] = { schema: v.schema?.openAPIV3Schema ?? {}, columns: v.additionalPrinterColumns ?? [] };
  return {
    group: spec.group,
    versions: served.map((v) => v.name),
    plural: spec.names.plural,
    singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
    kind: spec.names.kind,
    namespaced: spec.scope === 'Namespaced',
    ...(spec.names.shortNames?.length ? { shortNames: spec.names.shortNames } : {}),
    status: served.some((v) => v.subresources?.status !== undefined),
    custom: info,
  };
}

/**
 * Keeps the table in step with the stored CRDs: a created or changed CRD is served and gets
 * NamesAccepted and Established; a deleted one stops being served and its objects go.
 */
export function watchCrds(store: SimStore): () => void {
  const sync = (o: KObject) => {
    const def = crdToResource(o);
    store.resources.set(def);
    const conds = ((o.status ?? {}) as { conditions?: { type: string }[] }).conditions ?? [];
    if (conds.some((c) => c.type === 'Established')) return;
    store.later(0, () => {
      store.mutate('customresourcedefinitions', undefined, o.metadata.name, (crd) => {
        const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        const spec = crd.spec as unknown as CrdSpec;
        crd.status = {
          conditions: [
            { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: now },
            { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: now },
          ],
          acceptedNames: { ...spec.names },
          storedVersions: spec.versions.filter((v) => v.storage).map((v) => v.name),
        };
      });
    });
  };
  for (const o of store.list('customresourcedefinitions')) sync(o);
  return store.onChange((e) => {
    if (e.resource !== 'apiextensions.k8s.io/customresourcedefinitions') return;
    if (e.type === 'DELETED') {
      const def = crdToResource(e.object);
      store.later(0, () => {
        store.dropResource(def);
        store.resources.remove(resourceKey(def));
      });
    } else sync(e.object);
  });
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Drops fields the schema does not declare (unless it preserves unknown fields), in place. */
function prune(v: unknown, s: Schema | undefined): void {
  if (!s || v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (const x of v) prune(x, s.items);
    return;
  }
  const o = v as Record<string, unknown>;
  if (s.properties) {
    for (const k of Object.keys(o)) {
      if (s.properties[k]) prune(o[k], s.properties[k]);
      else if (!s['x-kubernetes-preserve-unknown-fields']) delete o[k];
    }
  } else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    for (const k of Object.keys(o)) prune(o[k], s.additionalProperties);
  } else if (!s['x-kubernetes-preserve-unknown-fields'] && s.additionalProperties !== true) {
    for (const k of Object.keys(o)) delete o[k];
  }
}

/** Fills defaults of absent properties, in place (apiextensions defaults after pruning). */
function fillDefaults(v: unknown, s: Schema | undefined): void {
  if (!s || v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (const x of v) fillDefaults(x, s.items);
    return;
  }
  const o = v as Record<string, unknown>;
  for (const [k, ps] of Object.entries(s.properties ?? {})) {
    if (o[k] === undefined && ps.default !== undefined) o[k] = structuredClone(ps.default);
    fillDefaults(o[k], ps);
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object') for (const k of Object.keys(o)) fillDefaults(o[k], s.additionalProperties);
}

const q = (v: unknown) => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v));

/** Schema validation with the API server's field paths and wording. */
function check(v: unknown, s: Schema, path: string, out: StatusCause[]): void {
  if (v === null || v === undefined) return;
  const t = typeName(v);
  if (s['x-kubernetes-int-or-string']) {
    if (t !== 'integer' && t !== 'string') out.push({ reason: 'FieldValueTypeInvalid', field: path, message: `Invalid value: "${t}": ${path} in body must be of type integer,string: "${t}"` });
    return;
  }
  if (s.type) {
    const ok = s.type === t || (s.type === 'number' && t === 'integer');
    if (!ok) {
      out.push({ reason: 'FieldValueTypeInvalid', field: path, message: `Invalid value: "${t}": ${path} in body must be of type ${s.type}: "${t}"` });
      return;
    }
  }
  if (s.enum && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) {
    out.push({ reason: 'FieldValueNotSupported', field: path, message: `Unsupported value: ${q(v)}: supported values: ${s.enum.map(q).join(', ')}` });
  }
  if (typeof v === 'string') {
    if (s.maxLength !== undefined && [...v].length > s.maxLength) out.push({ reason: 'FieldValueTooLong', field: path, message: `Too long: may not be more than ${s.maxLength} bytes` });
    if (s.minLength !== undefined && [...v].length < s.minLength) out.push({ field: path, message: `Invalid value: ${q(v)}: ${path} in body should be at least ${s.minLength} chars long` });
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(v)) out.push({ field: path, message: `Invalid value: ${q(v)}: ${path} in body should match '${s.pattern}'` });
  }
  if (typeof v === 'number') {
    if (s.maximum !== undefined && v > s.maximum) out.push({ field: path, message: `Invalid value: ${v}: ${path} in body should be less than or equal to ${s.maximum}` });
    if (s.minimum !== undefined && v < s.minimum) out.push({ field: path, message: `Invalid value: ${v}: ${path} in body should be greater than or equal to ${s.minimum}` });
  }
  if (Array.isArray(v)) {
    if (s.maxItems !== undefined && v.length > s.maxItems) out.push({ reason: 'FieldValueTooMany', field: path, message: `Too many: ${v.length}: must have at most ${s.maxItems} items` });
    if (s.minItems !== undefined && v.length < s.minItems) out.push({ field: path, message: `Invalid value: ${v.length}: ${path} in body should have at least ${s.minItems} items` });
    if (s.items) v.forEach((x, i) => check(x, s.items!, `${path}[${i}]`, out));
    return;
  }
  if (t === 'object') {
    const o = v as Record<string, unknown>;
    for (const r of s.required ?? []) if (o[r] === undefined || o[r] === null) out.push({ reason: 'FieldValueRequired', field: path ? `${path}.${r}` : r, message: 'Required value' });
    if (s.maxProperties !== undefined && Object.keys(o).length > s.maxProperties) out.push({ reason: 'FieldValueTooMany', field: path, message: `Too many: ${Object.keys(o).length}: must have at most ${s.maxProperties} items` });
    for (const [k, x] of Object.entries(o)) {
      const child = s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
      if (child) check(x, child, path ? `${path}.${k}` : k, out);
    }
  }
}

/**
 * What the API server does to a custom resource body: apiVersion/kind/metadata kept, everything
 * else pruned to the schema and defaulted, then validated (422 with every cause).
 */
export function admitCustomObject(def: ResourceDef, version: string, obj: KObject): void {
  const schema = def.custom?.versions[version]?.schema;
  if (!schema) throw badRequest(`no schema for ${def.group}/${version} ${def.kind}`);
  const { apiVersion, kind, metadata } = obj;
  const rest = obj as Record<string, unknown>;
  prune(rest, { ...schema, properties: { ...(schema.properties ?? {}), apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } });
  Object.assign(rest, { apiVersion, kind, metadata });
  fillDefaults(rest, schema);
  const causes: StatusCause[] = [];
  const body: Record<string, unknown> = { ...rest };
  delete body.metadata;
  check(body, { ...schema, properties: { ...(schema.properties ?? {}), metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }, '', causes);
  if (causes.length) throw invalid(def.group, def.kind, obj.metadata.name || obj.metadata.generateName || '', causes);
}

/** A printer column's value: the simple JSONPath `.a.b[0].c` the CRDs here use. */
export function columnValue(o: KObject, jsonPath: string): unknown {
  let v: unknown = o;
  for (const part of jsonPath.replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}
