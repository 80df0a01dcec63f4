// Validates one Kubernetes object against the OpenAPI schema of its kind, using the validators
// that kubernetes-models (and @kubernetes-models/prometheus-operator) generate from the official
// OpenAPI documents. Those validators do not reject unknown fields (the schemas carry no
// additionalProperties: false), so the object is wrapped in proxies that record which
// properties the validator looks at: a field the schema of its object never reads is unknown.
// Objects whose keys the validator enumerates itself are maps (labels, data) and are left to it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

type Validatable = { prototype: { validate(this: unknown): void } };

export interface SchemaProblem {
  path: string; // JSON pointer-ish, e.g. /spec/template/spec/containers/0/imagePullPolcy
  message: string;
}

export function modulePathFor(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') as [string, string] : ['', apiVersion];
  if (!/^[A-Za-z0-9]+$/.test(kind) || !/^v\d+((alpha|beta)\d+)?$/.test(version) || !/^[a-z0-9.-]*$/.test(group)) {
    throw new Error(`unusable apiVersion/kind ${apiVersion} ${kind}`);
  }
  if (group === 'monitoring.coreos.com') return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  return group === '' ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`;
}

async function modelFor(apiVersion: string, kind: string): Promise<Validatable> {
  const spec = modulePathFor(apiVersion, kind);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(spec)) as Record<string, unknown>;
  } catch {
    throw new Error(`no schema for ${apiVersion} ${kind} (looked for ${spec})`);
  }
  const model = mod[kind] as Validatable | undefined;
  if (!model?.prototype?.validate) throw new Error(`${spec} has no model ${kind}`);
  return model;
}

interface Seen {
  value: object;
  path: string;
  read: Set<string>;
  enumerated: boolean;
}

function track(root: object): { proxy: object; seen: Map<object, Seen> } {
  const seen = new Map<object, Seen>();
  const proxies = new WeakMap<object, object>();
  const wrap = (value: object, path: string): object => {
    const existing = proxies.get(value);
    if (existing) return existing;
    const info: Seen = { value, path, read: new Set(), enumerated: false };
    seen.set(value, info);
    const proxy = new Proxy(value, {
      get(target, key, receiver) {
        const v: unknown = Reflect.get(target, key, receiver);
        if (typeof key !== 'string') return v;
        info.read.add(key);
        return v !== null && typeof v === 'object' ? wrap(v, `${path}/${key}`) : v;
      },
      has(target, key) {
        if (typeof key === 'string') info.read.add(key);
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        info.enumerated = true;
        return Reflect.ownKeys(target);
      },
    });
    proxies.set(value, proxy);
    return proxy;
  };
  return { proxy: wrap(root, ''), seen };
}

/** A CRD's schema node: openAPIV3Schema and what nests in it through properties, items, additionalProperties. */
const JSON_SCHEMA_NODE = /\/schema\/openAPIV3Schema(\/(properties\/[^/]+|items|additionalProperties))*$/;
let propsFields: Set<string> | undefined;
/** The fields of apiextensions v1 JSONSchemaProps, from kubernetes-models' interface of the official OpenAPI. */
function jsonSchemaPropsFields(): Set<string> {
  if (propsFields) return propsFields;
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('kubernetes-models/package.json'));
  const text = readFileSync(join(pkg, 'apiextensions.k8s.io/v1/JSONSchemaProps.d.ts'), 'utf8');
  propsFields = new Set([...text.matchAll(/^ {4}"?([A-Za-z$-]+)"?\??:/gm)].map((m) => m[1]!));
  if (!propsFields.has('x-kubernetes-preserve-unknown-fields') || !propsFields.has('description')) throw new Error('JSONSchemaProps fields not found in kubernetes-models');
  return propsFields;
}

/** Schema errors plus unknown fields of one object; empty when it is valid. */
export async function validateObject(obj: Record<string, unknown>): Promise<SchemaProblem[]> {
  const { apiVersion, kind } = obj;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return [{ path: '', message: 'apiVersion and kind are required strings' }];
  const model = await modelFor(apiVersion, kind);
  const problems: SchemaProblem[] = [];
  const { proxy, seen } = track(obj);
  try {
    model.prototype.validate.call(proxy);
  } catch (err) {
    const errors = (err as { errors?: { instancePath: string; message?: string }[] }).errors;
    if (errors?.length) for (const e of errors) problems.push({ path: e.instancePath, message: e.message ?? 'invalid' });
    else problems.push({ path: '', message: (err as Error).message });
  }
  for (const info of seen.values()) {
    if (Array.isArray(info.value) || info.enumerated) continue;
    if (JSON_SCHEMA_NODE.test(info.path)) {
      // the generated validator skips some JSONSchemaProps fields (description, x-kubernetes-*):
      // a CRD schema node is held to the model's field list instead of what was read
      for (const key of Object.keys(info.value)) if (!jsonSchemaPropsFields().has(key)) problems.push({ path: `${info.path}/${key}`, message: 'unknown field' });
      continue;
    }
    const keys = Object.keys(info.value);
    // Reached but never looked into: a free-form object in the schema (preserve-unknown-fields).
    if (info.read.size === 0 && keys.length > 0) continue;
    for (const key of keys) if (!info.read.has(key)) problems.push({ path: `${info.path}/${key}`, message: 'unknown field' });
  }
  return problems;
}
