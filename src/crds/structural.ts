// JSON Schema (draft 2020-12, as schemas/*.json are written) → a structural OpenAPI v3 schema as
// apiextensions.k8s.io/v1 accepts it: $refs inlined, a type on every node, `const` as a one-value
// enum, no if/then (the per-fault-type params are free-form: x-kubernetes-preserve-unknown-fields),
// no additionalProperties:false (the API server prunes unknown fields instead), only RE2 patterns,
// no ajv-only keywords. The full checks stay with the validator (`faultline validate`, the
// admission webhook); this schema is what the API server can check by itself.

type Schema = Record<string, unknown>;

/** Keywords an apiextensions v1 JSONSchemaProps has (besides the x-kubernetes-* extensions). */
const KEPT = new Set([
  'description', 'type', 'format', 'maximum', 'minimum', 'maxLength', 'minLength', 'pattern',
  'maxItems', 'minItems', 'multipleOf', 'enum', 'maxProperties', 'minProperties', 'required', 'default',
]);

/** Paths (JSON pointers into the input) whose value is free-form per type: kept, unchecked. */
export interface ConvertOptions {
  freeForm?: string[];
  /** CRD defaults by pointer (the API server fills them; they must equal what normalise fills). */
  defaults?: Record<string, unknown>;
  /** How often one $ref may be inlined inside itself (a workflow's nested groups); deeper is kept whole. */
  recursion?: number;
}

function typeOfValue(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (Number.isInteger(v)) return 'integer';
  if (typeof v === 'number') return 'number';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

/** ECMAScript patterns the Go RE2 engine also reads: a lookahead that only prunes is dropped. */
export function re2Pattern(p: string): string | undefined {
  // `m(?!s)` in the duration pattern: "5ms" still matches through the `ms` group without it.
  const q = p.replace(/m\(\?!s\)/g, 'm');
  return /\(\?[=!<]/.test(q) ? undefined : q;
}

function resolve(root: Schema, ref: string): Schema {
  if (!ref.startsWith('#/')) throw new Error(`unsupported $ref ${ref}`);
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) node = (node as Schema)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  if (!node || typeof node !== 'object') throw new Error(`dangling $ref ${ref}`);
  return node as Schema;
}

export function toStructural(root: Schema, opts: ConvertOptions = {}): Schema {
  const freeForm = new Set(opts.freeForm ?? []);
  const walk = (node: Schema, path: string, refs: string[]): Schema => {
    if (freeForm.has(path)) {
      const out: Schema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
      if (typeof node.description === 'string') out.description = node.description;
      return out;
    }
    if (typeof node.$ref === 'string') {
      // A recursive reference (a workflow's nested groups) is kept whole below the cycle.
      if (refs.filter((r) => r === node.$ref).length >= (opts.recursion ?? 1)) return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
      return walk(resolve(root, node.$ref), path, [...refs, node.$ref]);
    }
    const out: Schema = {};
    for (const [k, v] of Object.entries(node)) {
      if (!KEPT.has(k)) continue;
      if (k === 'pattern') {
        const p = re2Pattern(v as string);
        if (p !== undefined) out.pattern = p;
      } else if (k === 'format') {
        // only formats the API server knows; others (cidr) are checked by the validator
        if (['date-time', 'uri', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid', 'byte', 'int32', 'int64', 'double', 'float'].includes(v as string)) out.format = v;
      } else out[k] = structuredClone(v);
    }
    if ('const' in node) out.enum = [structuredClone(node.const)];
    if (out.type === undefined) {
      const values = (out.enum as unknown[] | undefined) ?? [];
      const types = new Set(values.map(typeOfValue));
      if (types.size === 1) out.type = [...types][0];
      else if (node.properties || node.additionalProperties) out.type = 'object';
      else if (node.items) out.type = 'array';
    }
    if (Array.isArray(out.type)) throw new Error(`${path || '/'}: a union type cannot be structural`);
    if (node.properties) {
      const props: Schema = {};
      for (const [name, child] of Object.entries(node.properties as Record<string, Schema>)) {
        props[name] = walk(child, `${path}/properties/${name}`, refs);
      }
      out.properties = props;
    } else if (node.additionalProperties && typeof node.additionalProperties === 'object') {
      out.additionalProperties = walk(node.additionalProperties as Schema, `${path}/additionalProperties`, refs);
    } else if (out.type === 'object' && node.additionalProperties !== false) {
      // `{ type: object }` with nothing declared: anything goes, as in the JSON Schema
      out['x-kubernetes-preserve-unknown-fields'] = true;
    }
    if (node.items && typeof node.items === 'object' && !Array.isArray(node.items)) out.items = walk(node.items as Schema, `${path}/items`, refs);
    if (out.type === undefined) throw new Error(`${path || '/'}: no type can be given to this node`);
    const d = opts.defaults?.[path];
    if (d !== undefined) out.default = structuredClone(d);
    return out;
  };
  return walk(root, '', []);
}

/**
 * The structural-schema rules of apiextensions (k8s.io/apiextensions-apiserver
 * pkg/apis/apiextensions/validation + pkg/apiserver/schema): every node has a type (unless it
 * preserves unknown fields or is int-or-string), properties and additionalProperties never
 * together, metadata declares at most name/generateName, no $ref or keywords v1 does not have.
 */
export function structuralProblems(schema: unknown, path = 'openAPIV3Schema', depth = 0): string[] {
  const out: string[] = [];
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return [`${path}: must be an object`];
  const s = schema as Schema;
  const allowed = new Set([...KEPT, 'title', 'properties', 'additionalProperties', 'items', 'allOf', 'oneOf', 'anyOf', 'not', 'nullable', 'exclusiveMaximum', 'exclusiveMinimum', 'uniqueItems', 'example', 'externalDocs',
    'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-embedded-resource', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type', 'x-kubernetes-validations']);
  for (const k of Object.keys(s)) if (!allowed.has(k)) out.push(`${path}.${k}: Forbidden: ${k} is not supported`);
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  if (s.type === undefined && !preserve && s['x-kubernetes-int-or-string'] !== true) out.push(`${path}.type: Required value: must not be empty for specified object fields`);
  if (s.type !== undefined && !['object', 'array', 'string', 'integer', 'number', 'boolean'].includes(s.type as string)) out.push(`${path}.type: Unsupported value: ${JSON.stringify(s.type)}`);
  if (s.uniqueItems === true) out.push(`${path}.uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`);
  if (s.properties && s.additionalProperties !== undefined) out.push(`${path}.additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`);
  if (s.type === 'array' && !s.items) out.push(`${path}.items: Required value: must be specified`);
  const props = (s.properties ?? {}) as Record<string, unknown>;
  for (const [name, child] of Object.entries(props)) {
    if (depth === 0 && name === 'metadata') {
      const m = child as Schema;
      for (const k of Object.keys((m.properties ?? {}) as object)) if (k !== 'name' && k !== 'generateName') out.push(`${path}.properties[metadata].properties[${k}]: Forbidden: must not be specified`);
      if (m.type !== 'object') out.push(`${path}.properties[metadata].type: Invalid value: must be object`);
      continue;
    }
    out.push(...structuralProblems(child, `${path}.properties[${name}]`, depth + 1));
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object') out.push(...structuralProblems(s.additionalProperties, `${path}.additionalProperties`, depth + 1));
  if (s.items) out.push(...structuralProblems(s.items, `${path}.items`, depth + 1));
  return out;
}
