// The workflow JSON Schema (draft 2020-12). An inline fault step uses the very same fault, target
// and duration parts as an experiment's spec, so editors and the validator judge it alike.
// schemas/chaos-workflow.schema.json is this object written out (src/workflows/schema-file.ts).
import type { ValidateFunction } from 'ajv';
import { API_VERSION } from '../experiments/model.js';
import {
  createAjv, dnsLabelSchema, durationSchema, FAULT_DURATION, faultPart, httpUrlSchema, METADATA, NOTIFY, SAFETY, SCHEDULE,
  schemaObject as obj, sharedDefs, targetPart,
} from '../experiments/schema.js';
import { MAX_STEPS, WORKFLOW_KIND } from './model.js';

export const WORKFLOW_SCHEMA_ID = 'https://faultline.dev/schemas/chaos-workflow.schema.json';

const probes = (max: number) => ({ type: 'array', minItems: 1, maxItems: max, items: { $ref: '#/$defs/probe' } });

export function buildWorkflowSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: WORKFLOW_SCHEMA_ID,
    title: 'Faultline ChaosWorkflow',
    ...obj(
      {
        apiVersion: { const: API_VERSION },
        kind: { const: WORKFLOW_KIND },
        metadata: METADATA,
        spec: obj(
          {
            description: { type: 'string', maxLength: 2048 },
            steps: { type: 'array', minItems: 1, maxItems: MAX_STEPS, items: { $ref: '#/$defs/step' } },
            probes: probes(16),
            assertions: { type: 'array', maxItems: 32, items: { $ref: '#/$defs/assertion' } },
            schedule: SCHEDULE,
            suspend: { type: 'boolean' },
            safety: SAFETY,
            notify: NOTIFY,
          },
          ['steps'],
        ),
      },
      ['apiVersion', 'kind', 'metadata', 'spec'],
    ),
    $defs: {
      // One shape for every kind of step (exactly one of fault, experiment, parallel, pause,
      // check is a semantic check): ajv's oneOf errors would name every branch at once.
      step: obj(
        {
          name: dnsLabelSchema,
          duration: FAULT_DURATION,
          continueOnFailure: { type: 'boolean' },
          fault: faultPart(),
          target: targetPart(),
          experiment: dnsLabelSchema,
          parallel: { type: 'array', minItems: 1, maxItems: 16, items: { $ref: '#/$defs/step' } },
          pause: durationSchema('1s', '24h'),
          check: obj({ probes: probes(16) }, ['probes']),
        },
        ['name'],
      ),
      assertion: obj(
        {
          name: dnsLabelSchema,
          probe: dnsLabelSchema,
          prometheus: obj(
            { url: httpUrlSchema, query: { type: 'string', minLength: 1, maxLength: 4096 }, timeout: durationSchema('1ms', '60s') },
            ['url', 'query'],
          ),
          operator: { enum: ['gte', 'lte', 'eq'] },
          value: { type: 'number' },
          when: { enum: ['during', 'after', 'always'] },
        },
        ['name', 'operator', 'value'],
      ),
      ...sharedDefs(),
    },
  };
}

let compiled: ValidateFunction | undefined;

/** The workflow validator, compiled on first use and kept. */
export function workflowValidator(): ValidateFunction {
  compiled ??= createAjv().compile(buildWorkflowSchema());
  return compiled;
}
