// A ChaosWorkflow document → a loaded workflow or problems at their line and column, with the
// same machinery as experiments (schema, semantic checks, egress policy, positions). References
// to experiments are resolved once the whole repository is loaded (resolveWorkflows).
import type { Document, LineCounter } from 'yaml';
import type { EgressPolicy } from '../egress/policy.js';
import { parseDuration } from '../experiments/duration.js';
import { specHash } from '../experiments/hash.js';
import { API_VERSION, type Experiment, type LoadedExperiment, type Problem } from '../experiments/model.js';
import { normaliseExperiment, normaliseProbe } from '../experiments/normalise.js';
import { positionOf } from '../experiments/positions.js';
import { ajvProblem, fieldName } from '../experiments/load.js';
import { plainClone } from '../experiments/hash.js';
import { workflowSpecHash } from './hash.js';
import { stepKind, WORKFLOW_KIND, type LoadedWorkflow, type Workflow, type WorkflowStep } from './model.js';
import { workflowValidator } from './schema.js';
import { MAX_WORKFLOW_MS, stepAsExperiment, stepsDurationMs, walkSteps, workflowSemanticProblems, workflowUrls } from './semantic.js';

export function isWorkflowDocument(value: unknown): boolean {
  const v = value as Record<string, unknown> | null;
  return typeof v === 'object' && v !== null && v.apiVersion === API_VERSION && v.kind === WORKFLOW_KIND;
}

interface DocProblem {
  pointer: string;
  message: string;
  key?: boolean;
}

/** Schema, semantic and egress problems of a workflow document (JSON pointers, no positions yet). */
export function workflowDocumentProblems(value: unknown, egress?: EgressPolicy): DocProblem[] {
  const found: DocProblem[] = [];
  const validate = workflowValidator();
  if (!validate(value)) found.push(...(validate.errors ?? []).flatMap(ajvProblem));
  const seen = new Set(found.map((p) => p.pointer));
  for (const p of workflowSemanticProblems(value)) if (!seen.has(p.pointer)) found.push(p);
  if (egress) {
    for (const { pointer, url } of workflowUrls(value)) {
      const reason = egress.checkUrl(url);
      if (reason && !seen.has(pointer)) found.push({ pointer, message: `${url} is refused by the egress policy: ${reason}` });
    }
  }
  return found;
}

/** A foreign document an importer turned into a workflow (a Chaos Mesh Workflow). */
export interface ImportedWorkflow {
  native: unknown;
  from: string; // 'chaos-mesh.org/v1alpha1 Workflow'
  toSource: (nativePointer: string) => string;
  source: { apiVersion: string | null; kind: string | null };
  notes?: string[];
}

export function loadWorkflowDocument(
  file: string,
  d: { index: number; line: number; doc: Document.Parsed; value: unknown },
  lc: LineCounter,
  egress?: EgressPolicy,
  imported?: ImportedWorkflow,
): { workflow?: LoadedWorkflow; problems: Problem[] } {
  // An imported workflow's pointers are into the native document it became; positions are of
  // the source document's fields they came from.
  const src = imported?.toSource ?? ((p: string) => p);
  const at = (p: string, key?: boolean) => positionOf(d.doc, lc, src(p), key);
  const value = imported ? imported.native : d.value;
  const found = workflowDocumentProblems(value, egress);
  if (found.length) {
    const dedupe = new Set<string>();
    const problems: Problem[] = [];
    for (const p of found) {
      const k = `${p.pointer}\u0000${p.message}`;
      if (dedupe.has(k)) continue;
      dedupe.add(k);
      const field = fieldName(p.pointer) || 'document';
      const message = imported ? `${imported.from}: ${field} (mapped from ${fieldName(src(p.pointer)) || 'the document'}): ${p.message}` : `${field}: ${p.message}`;
      problems.push({ file, ...at(p.pointer, p.key), pointer: src(p.pointer), message });
    }
    return { problems };
  }
  const workflow = normaliseWorkflow(value as Workflow);
  const loaded: LoadedWorkflow = {
    workflow, file, documentIndex: d.index, line: d.line, specHash: workflowSpecHash(workflow), stepsAt: at('/spec/steps', true), references: [], inline: {},
    ...(imported ? { importedFrom: imported.from, source: imported.source, ...(imported.notes?.length ? { importNotes: imported.notes } : {}) } : {}),
  };
  walkSteps(workflow.spec.steps, (step, pointer, path) => {
    const s = step as unknown as WorkflowStep;
    const where = { path: [workflow.metadata.name, ...path].join('/'), pointer };
    const kind = stepKind(s);
    if (kind === 'experiment') {
      const e = s as Extract<WorkflowStep, { experiment: string }>;
      loaded.references.push({ ...where, ...at(`${pointer}/experiment`), experiment: e.experiment, ...(e.duration ? { duration: e.duration } : {}) });
    } else if (kind === 'fault') {
      const as = stepAsExperiment(where.path.replace(/\//g, '--'), step, workflow.spec.safety) as unknown as Experiment;
      const experiment = normaliseExperiment(as);
      loaded.inline[where.path] = {
        experiment,
        file,
        documentIndex: d.index,
        line: at(pointer).line,
        specHash: specHash(experiment),
        durationMs: parseDuration(experiment.spec.duration),
      };
    }
  });
  return { workflow: loaded, problems: [] };
}

/** Defaults filled the way an experiment's are: fault params, target mode, probe interval and threshold. */
export function normaliseWorkflow(doc: Workflow): Workflow {
  const spec = plainClone(doc.spec);
  const fill = (steps: WorkflowStep[]): WorkflowStep[] =>
    steps.map((s) => {
      const out = { ...s, continueOnFailure: s.continueOnFailure ?? false } as WorkflowStep & Record<string, unknown>;
      const kind = stepKind(s);
      if (kind === 'fault') {
        const f = s as Extract<WorkflowStep, { fault: unknown }>;
        const n = normaliseExperiment(stepAsExperiment('x', f as unknown as Record<string, unknown>, undefined) as unknown as Experiment).spec;
        Object.assign(out, { fault: n.fault, target: n.target });
      } else if (kind === 'parallel') out.parallel = fill((s as Extract<WorkflowStep, { parallel: unknown }>).parallel);
      else if (kind === 'check') out.check = { probes: (s as Extract<WorkflowStep, { check: unknown }>).check.probes.map(normaliseProbe) };
      return out;
    });
  spec.steps = fill(spec.steps);
  if (spec.probes) spec.probes = spec.probes.map(normaliseProbe);
  if (spec.assertions) spec.assertions = spec.assertions.map((a) => ({ ...a, when: a.when ?? 'always' }));
  spec.suspend = spec.suspend ?? false;
  return { apiVersion: doc.apiVersion, kind: doc.kind, metadata: plainClone(doc.metadata), spec };
}

/**
 * Checks what needs the whole repository: every referenced experiment exists, the total duration
 * with those experiments' durations stays in bounds, workflow names are unique. Returns the valid
 * workflows and the problems of the others.
 */
export function resolveWorkflows(workflows: LoadedWorkflow[], experiments: LoadedExperiment[]): { workflows: LoadedWorkflow[]; problems: Problem[] } {
  const byName = new Map(experiments.map((e) => [e.experiment.metadata.name, e]));
  const problems: Problem[] = [];
  const names = new Map<string, LoadedWorkflow[]>();
  for (const w of workflows) names.set(w.workflow.metadata.name, [...(names.get(w.workflow.metadata.name) ?? []), w]);
  const valid: LoadedWorkflow[] = [];
  for (const w of workflows) {
    const mine: Problem[] = [];
    const same = names.get(w.workflow.metadata.name)!;
    if (same.length > 1) {
      mine.push({
        file: w.file, line: w.line, column: 1, pointer: '/metadata/name',
        message: `metadata.name: workflow "${w.workflow.metadata.name}" is defined more than once (${same.map((x) => `${x.file}:${x.line}`).join(', ')}); names must be unique in the repository`,
      });
    }
    for (const r of w.references) {
      if (!byName.has(r.experiment)) {
        mine.push({ file: w.file, line: r.line, column: r.column, pointer: `${r.pointer}/experiment`, message: `step ${r.path}: experiment "${r.experiment}" is not a valid ChaosExperiment of the repository` });
      }
    }
    const total = stepsDurationMs(w.workflow.spec.steps, (n) => byName.get(n)?.durationMs);
    if (total > MAX_WORKFLOW_MS) {
      mine.push({ file: w.file, ...w.stepsAt, pointer: '/spec/steps', message: `spec.steps: with the referenced experiments the steps take ${Math.round(total / 60000)}m, over the 24h bound for a workflow` });
    }
    if (mine.length) problems.push(...mine);
    else valid.push(w);
  }
  return { workflows: valid, problems };
}
