// The CustomResourceDefinitions of faultline.dev/v1alpha1, generated from the same JSON Schemas
// the validator uses (schemas/*.json are those schemas written out). deploy/crds/ holds them
// written out by src/crds/write.ts; a test checks the files equal what this builds.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildExperimentSchema } from '../experiments/schema.js';
import { DEFAULT_FAILURE_THRESHOLD, DEFAULT_PROBE_INTERVAL } from '../experiments/normalise.js';
import { buildWorkflowSchema } from '../workflows/schema.js';
import { MAX_STEP_DEPTH } from '../workflows/model.js';
import { toStructural } from './structural.js';

export const CRD_GROUP = 'faultline.dev';
export const CRD_VERSION = 'v1alpha1';

export interface CrdNames {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
}
export const EXPERIMENT_NAMES: CrdNames = { kind: 'ChaosExperiment', plural: 'chaosexperiments', singular: 'chaosexperiment', shortNames: ['chaosexp', 'fexp'] };
export const WORKFLOW_NAMES: CrdNames = { kind: 'ChaosWorkflow', plural: 'chaosworkflows', singular: 'chaosworkflow', shortNames: ['chaoswf', 'fwf'] };

const PACKAGE_VERSION = (JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string }).version;

const str = (description: string, extra: Record<string, unknown> = {}) => ({ type: 'string', description, ...extra });

/** What the controller writes to the status subresource (src/cluster/custom-resources.ts). */
export function statusSchema(): Record<string, unknown> {
  return {
    type: 'object',
    description: 'Written by the controller through the status subresource.',
    properties: {
      observedGeneration: { type: 'integer', format: 'int64', description: 'The metadata.generation the controller last read.' },
      specHash: str('Spec hash of the accepted spec (same as for the same content in Git).'),
      conditions: {
        type: 'array',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
        items: {
          type: 'object',
          required: ['type', 'status'],
          properties: {
            type: str('Accepted, Running or Succeeded.'),
            status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
            reason: str('CamelCase reason (the run reason codes, Valid, Invalid, DuplicateName, ...).'),
            message: str('Human-readable detail.'),
            lastTransitionTime: str('When status last changed.', { format: 'date-time' }),
            observedGeneration: { type: 'integer', format: 'int64' },
          },
        },
      },
      lastRun: {
        type: 'object',
        properties: {
          id: str('Run id.'),
          state: str('Pending, Validating, Injecting, Running, Reverting, Succeeded, Failed or Aborted.'),
          outcome: str('succeeded, failed or aborted once ended.'),
          reason: str('Why it failed or was aborted.'),
          reasonCode: str('Machine-readable reason.'),
          specHash: str('Spec hash the run executed.'),
          startedAt: str('When injection started.', { format: 'date-time' }),
          endedAt: str('When the run ended.', { format: 'date-time' }),
          targets: { type: 'integer', description: 'How many targets an experiment run hit.' },
        },
      },
      nextRun: str('The next scheduled run, for experiments with a schedule.', { format: 'date-time' }),
      score: { type: 'number', description: 'Resilience score (0..100) of the last finished run that put its fault in place (README: Resilience score).' },
    },
  };
}

function crd(names: CrdNames, spec: Record<string, unknown>, columns: Record<string, unknown>[], description: string): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${names.plural}.${CRD_GROUP}`,
      labels: {
        'app.kubernetes.io/name': 'faultline',
        'app.kubernetes.io/instance': 'faultline',
        'app.kubernetes.io/version': PACKAGE_VERSION,
        'app.kubernetes.io/component': 'crd',
        'app.kubernetes.io/part-of': 'faultline',
        'app.kubernetes.io/managed-by': 'kustomize',
      },
    },
    spec: {
      group: CRD_GROUP,
      names: { kind: names.kind, listKind: `${names.kind}List`, plural: names.plural, singular: names.singular, shortNames: names.shortNames, categories: ['faultline', 'chaos'] },
      scope: 'Namespaced',
      versions: [{
        name: CRD_VERSION,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: columns,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            description,
            required: ['spec'],
            properties: {
              apiVersion: { type: 'string' },
              kind: { type: 'string' },
              metadata: { type: 'object' },
              spec,
              status: statusSchema(),
            },
          },
        },
      }],
    },
  };
}

const RUN_COLUMNS = [
  { name: 'Last Run', type: 'string', jsonPath: '.status.lastRun.state' },
  { name: 'Last Run Time', type: 'date', jsonPath: '.status.lastRun.startedAt' },
  { name: 'Score', type: 'number', jsonPath: '.status.score' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

const PROBE = '/properties/steadyState/properties/probes/items/properties';

export function experimentCrd(): Record<string, unknown> {
  const schema = buildExperimentSchema() as { properties: { spec: Record<string, unknown> } } & Record<string, unknown>;
  const spec = toStructural({ ...schema.properties.spec, $defs: schema.$defs }, {
    freeForm: ['/properties/fault/properties/params'],
    // what normalise fills in: the same spec hash with or without them
    defaults: {
      '/properties/target/properties/mode': { type: 'one' },
      '/properties/suspend': false,
      [`${PROBE}/interval`]: DEFAULT_PROBE_INTERVAL,
      [`${PROBE}/failureThreshold`]: DEFAULT_FAILURE_THRESHOLD,
    },
  });
  delete spec.$defs;
  return crd(EXPERIMENT_NAMES, spec, [
    { name: 'Fault', type: 'string', jsonPath: '.spec.fault.type' },
    { name: 'Target Namespace', type: 'string', jsonPath: '.spec.target.namespace' },
    ...RUN_COLUMNS,
  ], 'A Faultline chaos experiment, reconciled like a file in the experiments repository.');
}

export function workflowCrd(): Record<string, unknown> {
  const schema = buildWorkflowSchema() as { properties: { spec: Record<string, unknown> } } & Record<string, unknown>;
  const step = '/properties/steps/items';
  const spec = toStructural({ ...schema.properties.spec, $defs: schema.$defs }, {
    freeForm: [`${step}/properties/fault/properties/params`, `${step}/properties/parallel/items/properties/fault/properties/params`, `${step}/properties/parallel/items/properties/parallel/items/properties/fault/properties/params`],
    recursion: MAX_STEP_DEPTH,
  });
  delete spec.$defs;
  return crd(WORKFLOW_NAMES, spec, [
    { name: 'Schedule', type: 'string', jsonPath: '.spec.schedule.cron' },
    ...RUN_COLUMNS,
  ], 'A Faultline chaos workflow (a gameday as code).');
}

export function allCrds(): Record<string, unknown>[] {
  return [experimentCrd(), workflowCrd()];
}
