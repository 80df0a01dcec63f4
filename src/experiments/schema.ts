// The experiment JSON Schema (draft 2020-12), built from the model and the fault catalog, and its
// ajv validator compiled once. schemas/chaos-experiment.schema.json is this object written out
// (`npx tsx src/experiments/schema-file.ts` rewrites it; a test checks they agree).
import { isCidr } from './cidr.js';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { tryParseDuration } from './duration.js';
import { DNS1123_LABEL_PATTERN, DNS1123_SUBDOMAIN_PATTERN, FAULT_CATALOG, memorySizeMi } from './faults.js';
import { API_VERSION, FAULT_TYPES, KIND } from './model.js';
import { DURATION_PATTERN } from './duration.js';

export const SCHEMA_ID = 'https://faultline.dev/schemas/chaos-experiment.schema.json';

const dnsLabel = { type: 'string', maxLength: 63, pattern: DNS1123_LABEL_PATTERN };
const dnsSubdomain = { type: 'string', maxLength: 253, pattern: DNS1123_SUBDOMAIN_PATTERN };
const duration = (min: string, max: string) => ({ type: 'string', pattern: DURATION_PATTERN, durationRange: [min, max] });
const stringMap = { type: 'object', maxProperties: 64, additionalProperties: { type: 'string', maxLength: 4096 } };
const httpUrl = { type: 'string', maxLength: 2048, pattern: '^https?://[^\\s]+$' };

function obj(properties: Record<string, object>, required: string[] = [], extra: object = {}): object {
  return { type: 'object', additionalProperties: false, properties, ...(required.length ? { required } : {}), ...extra };
}

/** The fault, target, duration and safety parts an experiment's spec and a workflow's fault step share. */
export function faultPart(): object {
  const byType: object[] = [];
  for (const type of FAULT_TYPES) {
    const schema = FAULT_CATALOG[type].paramsSchema as { required?: string[] };
    byType.push({
      if: { properties: { type: { const: type } }, required: ['type'] },
      then: {
        ...(schema.required?.length ? { required: ['params'] } : {}),
        properties: { params: { $ref: `#/$defs/params-${type}` } },
      },
    });
  }
  return obj({ type: { enum: [...FAULT_TYPES] }, params: { type: 'object' } }, ['type'], { allOf: byType });
}

export function targetPart(): object {
  return obj(
    {
      namespace: dnsLabel,
      // A registered cluster (a cluster Secret's name); absent: the controller's own (in-cluster).
      cluster: { ...dnsSubdomain, description: 'the cluster to run in: the name of a registered cluster Secret; default the local one (in-cluster)' },
      selector: { $ref: '#/$defs/selector' },
      mode: obj({ type: { enum: ['one', 'all', 'fixed', 'percent'] }, value: { type: 'number' } }, ['type']),
    },
    ['namespace', 'selector'],
  );
}

export const FAULT_DURATION = duration('1s', '24h');
export const METADATA = obj({ name: dnsLabel, labels: stringMap, annotations: stringMap }, ['name']);
export const SCHEDULE = obj(
  { cron: { type: 'string', minLength: 1, maxLength: 128 }, timezone: { type: 'string', minLength: 1, maxLength: 64 } },
  ['cron'],
);
export const SAFETY = obj({
  maxBlastRadiusPercent: { type: 'number', minimum: 1, maximum: 100 },
  maxTargets: { type: 'integer', minimum: 1, maximum: 100000 },
});
export const NOTIFY = obj({
  slack: obj({ channel: { type: 'string', pattern: '^[#@]?[a-z0-9][a-z0-9._-]{0,79}$' } }, ['channel']),
  webhook: obj({ url: httpUrl }, ['url']),
});
export { obj as schemaObject, duration as durationSchema, httpUrl as httpUrlSchema, dnsLabel as dnsLabelSchema };

export function buildExperimentSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: SCHEMA_ID,
    title: 'Faultline ChaosExperiment',
    ...obj(
      {
        apiVersion: { const: API_VERSION },
        kind: { const: KIND },
        metadata: METADATA,
        spec: obj(
          {
            description: { type: 'string', maxLength: 2048 },
            fault: faultPart(),
            target: targetPart(),
            duration: FAULT_DURATION,
            schedule: SCHEDULE,
            suspend: { type: 'boolean' },
            steadyState: obj(
              { probes: { type: 'array', maxItems: 16, items: { $ref: '#/$defs/probe' } } },
              ['probes'],
            ),
            safety: SAFETY,
            notify: NOTIFY,
          },
          ['fault', 'target', 'duration'],
        ),
      },
      ['apiVersion', 'kind', 'metadata', 'spec'],
    ),
    $defs: sharedDefs(),
  };
}

/** Definitions both schemas reference: the selector, a probe and each fault's params. */
export function sharedDefs(): Record<string, object> {
  const paramDefs: Record<string, object> = {};
  for (const type of FAULT_TYPES) {
    paramDefs[`params-${type}`] = { description: FAULT_CATALOG[type].description, ...(FAULT_CATALOG[type].paramsSchema as object) };
  }
  return {
    selector: obj({
      matchLabels: { type: 'object', maxProperties: 32, additionalProperties: { type: 'string', maxLength: 63 } },
      matchExpressions: {
        type: 'array',
        maxItems: 32,
        items: obj(
          {
            key: { type: 'string', minLength: 1, maxLength: 317 },
            operator: { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
            values: { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 63 } },
          },
          ['key', 'operator'],
        ),
      },
    }),
    probe: obj(
      {
        name: dnsLabel,
        http: obj(
          {
            url: httpUrl,
            method: { enum: ['GET', 'HEAD', 'POST'] },
            expectStatus: { type: 'array', minItems: 1, maxItems: 16, items: { type: 'integer', minimum: 100, maximum: 599 } },
            bodyMatch: { type: 'string', maxLength: 512 },
            maxLatency: duration('1ms', '60s'),
            timeout: duration('1ms', '60s'),
          },
          ['url'],
        ),
        prometheus: obj(
          {
            url: httpUrl,
            query: { type: 'string', minLength: 1, maxLength: 4096 },
            op: { enum: ['<', '<=', '>', '>=', '==', '!='] },
            threshold: { type: 'number' },
            timeout: duration('1ms', '60s'),
          },
          ['url', 'query', 'op', 'threshold'],
        ),
        kubernetes: obj(
          {
            namespace: dnsLabel,
            kind: { enum: ['Deployment', 'StatefulSet', 'ReplicaSet'] },
            name: dnsSubdomain,
            minReadyReplicas: { type: 'integer', minimum: 0, maximum: 100000 },
          },
          ['namespace', 'kind', 'name', 'minReadyReplicas'],
        ),
        interval: duration('1s', '1h'),
        failureThreshold: { type: 'integer', minimum: 1, maximum: 100 },
      },
      ['name'],
    ),
    ...paramDefs,
  };
}

export function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true, verbose: true, strictRequired: false });
  ajv.addFormat('cidr', { type: 'string', validate: isCidr });
  ajv.addKeyword({
    keyword: 'durationRange',
    type: 'string',
    schemaType: 'array',
    errors: true,
    validate: function check(range: [string, string], data: string): boolean {
      const ms = tryParseDuration(data);
      if (ms === undefined) return true; // the pattern reports bad syntax
      const [min, max] = range.map((r) => tryParseDuration(r) ?? 0) as [number, number];
      if (ms >= min && ms <= max) return true;
      (check as { errors?: Partial<ErrorObject>[] }).errors = [
        { keyword: 'durationRange', message: `must be between ${range[0]} and ${range[1]}`, params: { range } },
      ];
      return false;
    },
  });
  ajv.addKeyword({
    keyword: 'memoryMaxMi',
    type: 'string',
    schemaType: 'number',
    errors: true,
    validate: function check(max: number, data: string): boolean {
      let mi: number;
      try {
        mi = memorySizeMi(data);
      } catch {
        return true; // the pattern reports bad syntax
      }
      if (mi <= max) return true;
      (check as { errors?: Partial<ErrorObject>[] }).errors = [
        { keyword: 'memoryMaxMi', message: `must be at most ${max / 1024}Gi`, params: { max } },
      ];
      return false;
    },
  });
  return ajv;
}

let compiled: ValidateFunction | undefined;

/** The experiment validator, compiled on first use and kept. */
export function experimentValidator(): ValidateFunction {
  compiled ??= createAjv().compile(buildExperimentSchema());
  return compiled;
}
