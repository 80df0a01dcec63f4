// Files → validated, normalised, hashed experiments and precise problems. Pure and synchronous.
import type { ErrorObject } from 'ajv';
import type { Document, LineCounter } from 'yaml';
import { parseDuration } from './duration.js';
import { specHash } from './hash.js';
import { findImporter, SUPPORTED_FORMATS } from './importers/index.js';
import type { ImportContext, ImportResult } from './importers/types.js';
import { API_VERSION, KIND, type Experiment, type LoadedExperiment, type LoadResult, type Problem } from './model.js';
import { normaliseExperiment } from './normalise.js';
import { decodeYamlFile, fastParse, parseYamlFile } from './parse.js';
import { joinPointer, pointerSegments, positionOf } from './positions.js';
import { experimentValidator } from './schema.js';
import { semanticProblems } from './semantic.js';
import { DNS1123_LABEL_PATTERN, DNS1123_SUBDOMAIN_PATTERN, MEMORY_SIZE_PATTERN } from './faults.js';
import { DURATION_PATTERN } from './duration.js';
import { egressProblems } from '../egress/urls.js';
import type { EgressPolicy } from '../egress/policy.js';
import { isWorkflowDocument, loadWorkflowDocument, resolveWorkflows, type ImportedWorkflow } from '../workflows/load.js';
import type { LoadedWorkflow } from '../workflows/model.js';

export interface LoadOptions {
  /** URLs the files name are checked against it (validate/plan time); refused ones are problems. */
  egress?: EgressPolicy;
  /** Values for foreign files' environment references (Chaos Toolkit `type: env` configuration), given explicitly. */
  importEnv?: Record<string, string>;
  /** Workflows' references to experiments are checked against the files loaded together (default true). */
  resolveReferences?: boolean;
}

export interface InputFile {
  path: string;
  content: Uint8Array;
}

interface DocProblem {
  pointer: string; // native pointer
  message: string;
  key?: boolean;
}

const PATTERN_HINTS: Record<string, string> = {
  [DNS1123_LABEL_PATTERN]: 'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters',
  [DNS1123_SUBDOMAIN_PATTERN]: 'must be a DNS-1123 name: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit',
  [DURATION_PATTERN]: 'must be a duration like 500ms, 30s, 5m or 1h30m',
  [MEMORY_SIZE_PATTERN]: 'must be a size like 256Mi or 2Gi',
  '^https?://[^\\s]+$': 'must be an http:// or https:// URL',
  '^[a-z][a-z0-9]{0,14}$': 'must be a network interface name like eth0',
};

/** Loads every document of every file; names must be unique across the whole set. */
export function loadExperimentFiles(files: InputFile[], options: LoadOptions = {}): LoadResult {
  const opts: Loading = { ...options, ctx: { ...relatedDocuments(files), env: options.importEnv ?? {} } };
  const experiments: WithPos[] = [];
  const problems: Problem[] = [];
  const workflows: LoadedWorkflow[] = [];
  for (const f of files) {
    const r = loadFile(f, opts);
    experiments.push(...r.experiments);
    problems.push(...r.problems);
    workflows.push(...r.workflows);
  }
  const byName = new Map<string, WithPos[]>();
  for (const e of experiments) {
    const list = byName.get(e.experiment.metadata.name);
    if (list) list.push(e);
    else byName.set(e.experiment.metadata.name, [e]);
  }
  const unique: WithPos[] = [];
  for (const [name, list] of byName) {
    if (list.length === 1) {
      unique.push(list[0]!);
      continue;
    }
    const where = list.map((e) => `${e.file}:${e.line}`).join(', ');
    for (const e of list) {
      problems.push({
        file: e.file,
        ...e.namePos(),
        pointer: '/metadata/name',
        message: `metadata.name: "${name}" is defined more than once (${where}); names must be unique in the repository`,
      });
    }
  }
  const loaded = unique.map(stripPos);
  if (!workflows.length) return { experiments: loaded, problems };
  if (options.resolveReferences === false) return { experiments: loaded, problems, workflows };
  const resolved = resolveWorkflows(workflows, loaded);
  return { experiments: loaded, problems: [...problems, ...resolved.problems], workflows: resolved.workflows };
}

// Where metadata.name is written: computed only when a duplicate name must be reported.
type WithPos = LoadedExperiment & { namePos: () => { line: number; column: number } };
function stripPos(e: WithPos): LoadedExperiment {
  const { namePos: _p, ...rest } = e;
  return rest;
}

type Loading = LoadOptions & { ctx: ImportContext };

// Documents importers may look up across files: Litmus ChaosExperiments (a ChaosEngine's
// defaults). Only files that mention Litmus are parsed for it.
const LITMUS = Buffer.from('litmuschaos.io/');
function relatedDocuments(files: InputFile[]): Omit<ImportContext, 'env'> {
  const found = new Map<string, Record<string, unknown>>();
  for (const f of files) {
    if (!Buffer.from(f.content.buffer, f.content.byteOffset, f.content.byteLength).includes(LITMUS)) continue;
    for (const d of parseYamlFile(f.content).documents) {
      const v = d.value as Record<string, unknown> | null;
      const name = typeof v === 'object' && v !== null && typeof v.metadata === 'object' && v.metadata !== null ? (v.metadata as Record<string, unknown>).name : undefined;
      if (typeof v?.apiVersion === 'string' && v.kind === 'ChaosExperiment' && typeof name === 'string') {
        const key = `${v.apiVersion}\u0000${name}`;
        if (!found.has(key)) found.set(key, v);
      }
    }
  }
  return { related: (apiVersion, kind, name) => (kind === 'ChaosExperiment' ? found.get(`${apiVersion}\u0000${name}`) : undefined) };
}

function loadFile(f: InputFile, opts: Loading): { experiments: WithPos[]; problems: Problem[]; workflows: LoadedWorkflow[] } {
  const decoded = decodeYamlFile(f.content);
  if ('problem' in decoded) return { experiments: [], problems: [{ file: f.path, ...decoded.problem }], workflows: [] };
  // Fast path: most files are valid, and a valid file needs no positions. Any problem sends the
  // whole file through the full parser, which reports every problem at its line and column.
  const fast = fastParse(decoded.text);
  if (fast) {
    const experiments: WithPos[] = [];
    let definitions = 0;
    for (const d of fast) {
      if (isWorkflowDocument(d.value)) break; // workflows take the full path (they need positions)
      const ev = evaluate(d.value, opts);
      if (ev.workflow) break;
      if (ev.imported?.definition && !ev.imported.problems.length) {
        definitions++;
        continue;
      }
      if (ev.found.length || ev.unsupported || ev.native === undefined || ev.imported?.problems.length) break;
      const namePos = () => {
        const slow = parseYamlFile(f.content);
        const doc = slow.documents.find((x) => x.index === d.index);
        return doc ? namePosition(doc.doc, ev, slow.lineCounter) : { line: d.line, column: 1 };
      };
      experiments.push(toExperiment(f.path, ev, d.index, d.line, namePos));
    }
    if (experiments.length + definitions === fast.length) return { experiments, problems: [], workflows: [] };
  }

  const parsed = parseYamlFile(f.content);
  const problems: Problem[] = parsed.problems.map((p) => ({ file: f.path, ...p }));
  const experiments: WithPos[] = [];
  const workflows: LoadedWorkflow[] = [];
  for (const d of parsed.documents) {
    if (isWorkflowDocument(d.value)) {
      const w = loadWorkflowDocument(f.path, d, parsed.lineCounter, opts.egress);
      problems.push(...w.problems);
      if (w.workflow) workflows.push(w.workflow);
      continue;
    }
    const ev = evaluate(d.value, opts);
    if (ev.imported?.definition && !ev.imported.problems.length) continue;
    if (ev.workflow && ev.imported && !ev.imported.problems.length) {
      const w = loadWorkflowDocument(f.path, d, parsed.lineCounter, opts.egress, importedWorkflow(ev, ev.imported));
      problems.push(...w.problems);
      if (w.workflow) workflows.push(w.workflow);
      continue;
    }
    const found = documentProblems(f.path, d.doc, parsed.lineCounter, ev);
    if (found.length) problems.push(...found);
    else {
      const pos = namePosition(d.doc, ev, parsed.lineCounter);
      experiments.push(toExperiment(f.path, ev, d.index, d.line, () => pos));
    }
  }
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return { experiments, problems, workflows };
}

interface Evaluation {
  value: unknown;
  native?: unknown;
  imported?: ImportResult;
  importedFrom?: string;
  unsupported?: { pointer: string; message: string };
  found: DocProblem[];
  /** The importer made a ChaosWorkflow (a Chaos Mesh Workflow): checked as one, not as an experiment. */
  workflow?: true;
}

function importedWorkflow(ev: Evaluation, imported: ImportResult): ImportedWorkflow {
  return {
    native: ev.native,
    from: ev.importedFrom!,
    toSource: (p) => toSource(imported.pointerMap, p),
    source: sourceOf(ev.value),
    ...(imported.notes?.length ? { notes: imported.notes } : {}),
  };
}

/** Import (if foreign), schema and semantic checks; positions come later, only if needed. */
function evaluate(value: unknown, opts: Loading): Evaluation {
  const ev: Evaluation = { value, native: value, found: [] };
  const obj = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  const foreign = obj && !(obj.apiVersion === API_VERSION && obj.kind === KIND);
  const importer = foreign ? findImporter(obj) : undefined;
  if (obj && foreign && (importer || obj.apiVersion !== undefined || obj.kind !== undefined)) {
    if (importer) {
      ev.importedFrom = importer.describe(obj);
      ev.imported = importer.import(obj, opts.ctx);
      ev.native = ev.imported.experiment;
      if (isWorkflowDocument(ev.native)) {
        ev.workflow = true;
        return ev; // checked by the workflow loader
      }
    } else if (!(typeof obj.apiVersion === 'string' && obj.apiVersion.startsWith('faultline.dev/'))) {
      const pointer = obj.apiVersion !== undefined ? '/apiVersion' : '/kind';
      ev.unsupported = { pointer, message: `unsupported document ${String(obj.apiVersion)} ${String(obj.kind)}: expected ${SUPPORTED_FORMATS}` };
      return ev;
    }
  }
  if (ev.native !== undefined) {
    const validate = experimentValidator();
    if (!validate(ev.native)) ev.found.push(...(validate.errors ?? []).flatMap(ajvProblem));
    const seen = new Set(ev.found.map((p) => p.pointer));
    for (const p of semanticProblems(ev.native)) if (!seen.has(p.pointer)) ev.found.push(p);
    if (opts.egress) for (const p of egressProblems(ev.native, opts.egress)) if (!seen.has(p.pointer)) ev.found.push(p);
  }
  return ev;
}

function documentProblems(file: string, doc: Document.Parsed, lc: LineCounter, ev: Evaluation): Problem[] {
  if (ev.unsupported) return [{ file, ...positionOf(doc, lc, ev.unsupported.pointer), ...ev.unsupported }];
  const { imported, importedFrom } = ev;
  const out: Problem[] = (imported?.problems ?? []).map((p) => ({
    file,
    ...positionOf(doc, lc, p.pointer, p.key),
    pointer: p.pointer,
    message: `${importedFrom}: ${p.message}`,
  }));
  const dedupe = new Set<string>();
  for (const p of ev.found) {
    const source = imported ? toSource(imported.pointerMap, p.pointer) : p.pointer;
    const k = `${source}\u0000${p.message}`;
    if (dedupe.has(k)) continue;
    dedupe.add(k);
    const field = fieldName(p.pointer);
    out.push({
      file,
      ...positionOf(doc, lc, source, p.key),
      pointer: source,
      message: imported
        ? `${importedFrom}: ${field ? `${field} (mapped from ${fieldName(source) || 'the document'})` : 'document'}: ${p.message}`
        : `${field || 'document'}: ${p.message}`,
    });
  }
  if (!out.length && ev.native === undefined) {
    out.push({ file, ...positionOf(doc, lc, ''), pointer: '', message: `${importedFrom ?? 'document'}: could not be imported` });
  }
  return out;
}

function namePosition(doc: Document.Parsed, ev: Evaluation, lc: LineCounter): { line: number; column: number } {
  return positionOf(doc, lc, ev.imported ? toSource(ev.imported.pointerMap, '/metadata/name') : '/metadata/name');
}

function toExperiment(file: string, ev: Evaluation, index: number, line: number, namePos: WithPos['namePos']): WithPos {
  const experiment = normaliseExperiment(ev.native as Experiment);
  return {
    experiment,
    file,
    documentIndex: index,
    line,
    specHash: specHash(experiment),
    durationMs: parseDuration(experiment.spec.duration),
    ...(ev.importedFrom ? { importedFrom: ev.importedFrom } : {}),
    ...(ev.imported?.notes?.length ? { importNotes: ev.imported.notes } : {}),
    ...(ev.imported ? { source: sourceOf(ev.value) } : {}),
    namePos,
  };
}

function sourceOf(value: unknown): { apiVersion: string | null; kind: string | null } {
  const v = value as Record<string, unknown>;
  return { apiVersion: typeof v.apiVersion === 'string' ? v.apiVersion : null, kind: typeof v.kind === 'string' ? v.kind : null };
}

function toSource(map: [string, string][], pointer: string): string {
  let best: [string, string] | undefined;
  for (const entry of map) {
    const [prefix] = entry;
    if ((pointer === prefix || pointer.startsWith(prefix + '/') || prefix === '') && (!best || prefix.length > best[0].length)) best = entry;
  }
  if (!best) return '';
  return best[1] + (best[0] === '' && best[1] !== '' ? '' : pointer.slice(best[0].length));
}

/** /spec/fault/params/latency → spec.fault.params.latency; odd keys in brackets. */
export function fieldName(pointer: string): string {
  let out = '';
  for (const seg of pointerSegments(pointer)) {
    if (/^[0-9]+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += (out ? '.' : '') + seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

export function ajvProblem(e: ErrorObject): DocProblem[] {
  const at = e.instancePath;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'if':
      return []; // the failing `then` branch reports the real problem
    case 'required':
      return [{ pointer: joinPointer(at, String(params.missingProperty)), message: `missing required field "${String(params.missingProperty)}"` }];
    case 'additionalProperties': {
      const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return [
        {
          pointer: joinPointer(at, String(params.additionalProperty)),
          key: true,
          message: `unknown field "${String(params.additionalProperty)}"${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ' (no fields allowed here)'}`,
        },
      ];
    }
    case 'enum':
      return [{ pointer: at, message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` }];
    case 'const':
      return [{ pointer: at, message: `must be ${JSON.stringify(params.allowedValue)}` }];
    case 'pattern':
      return [{ pointer: at, message: PATTERN_HINTS[String(params.pattern)] ?? `must match ${String(params.pattern)}` }];
    case 'format':
      return [{ pointer: at, message: params.format === 'cidr' ? `${JSON.stringify(e.data)} is not a CIDR (e.g. 10.0.0.0/8 or fd00::/8)` : e.message ?? 'bad format' }];
    default:
      return [{ pointer: at, message: e.message ?? e.keyword }];
  }
}
