// Files → validated, normalised, hashed experiments and precise problems. Pure and synchronous.
import type { ErrorObject } from 'ajv';
import type { Document, LineCounter } from 'yaml';
import { parseDuration } from './duration.js';
import { specHash } from './hash.js';
import { findImporter, SUPPORTED_FORMATS } from './importers/index.js';
import type { ImportResult } from './importers/types.js';
import { API_VERSION, KIND, type Experiment, type LoadedExperiment, type LoadResult, type Problem } from './model.js';
import { normaliseExperiment } from './normalise.js';
import { parseYamlFile } from './parse.js';
import { joinPointer, pointerSegments, positionOf } from './positions.js';
import { experimentValidator } from './schema.js';
import { semanticProblems } from './semantic.js';
import { DNS1123_LABEL_PATTERN, DNS1123_SUBDOMAIN_PATTERN, MEMORY_SIZE_PATTERN } from './faults.js';
import { DURATION_PATTERN } from './duration.js';

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
export function loadExperimentFiles(files: InputFile[]): LoadResult {
  const experiments: WithPos[] = [];
  const problems: Problem[] = [];
  for (const f of files) {
    const r = loadFile(f);
    experiments.push(...r.experiments);
    problems.push(...r.problems);
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
        line: e.nameLine,
        column: e.nameColumn,
        pointer: '/metadata/name',
        message: `metadata.name: "${name}" is defined more than once (${where}); names must be unique in the repository`,
      });
    }
  }
  return { experiments: unique.map(stripPos), problems };
}

type WithPos = LoadedExperiment & { nameLine: number; nameColumn: number };
function stripPos(e: WithPos): LoadedExperiment {
  const { nameLine: _l, nameColumn: _c, ...rest } = e;
  return rest;
}

function loadFile(f: InputFile): { experiments: WithPos[]; problems: Problem[] } {
  const parsed = parseYamlFile(f.content);
  const problems: Problem[] = parsed.problems.map((p) => ({ file: f.path, ...p }));
  const experiments: WithPos[] = [];
  for (const d of parsed.documents) {
    const r = loadDocument(f.path, d.doc, parsed.lineCounter, d.value, d.index, d.line);
    if ('experiment' in r) experiments.push(r.experiment);
    else problems.push(...r.problems);
  }
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return { experiments, problems };
}

function loadDocument(
  file: string,
  doc: Document.Parsed,
  lc: LineCounter,
  value: unknown,
  index: number,
  line: number,
): { experiment: WithPos } | { problems: Problem[] } {
  let native: unknown = value;
  let imported: ImportResult | undefined;
  let importedFrom: string | undefined;
  const obj = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  if (obj && (obj.apiVersion !== undefined || obj.kind !== undefined) && !(obj.apiVersion === API_VERSION && obj.kind === KIND)) {
    const importer = findImporter(obj.apiVersion, obj.kind);
    if (importer) {
      importedFrom = importer.describe(obj);
      imported = importer.import(obj);
      native = imported.experiment;
    } else if (!(typeof obj.apiVersion === 'string' && obj.apiVersion.startsWith('faultline.dev/'))) {
      const at = positionOf(doc, lc, obj.apiVersion !== undefined ? '/apiVersion' : '/kind');
      return {
        problems: [
          {
            file,
            ...at,
            pointer: obj.apiVersion !== undefined ? '/apiVersion' : '/kind',
            message: `unsupported document ${String(obj.apiVersion)} ${String(obj.kind)}: expected ${SUPPORTED_FORMATS}`,
          },
        ],
      };
    }
  }

  const found: DocProblem[] = [];
  const importProblems: Problem[] = (imported?.problems ?? []).map((p) => ({
    file,
    ...positionOf(doc, lc, p.pointer, p.key),
    pointer: p.pointer,
    message: `${importedFrom}: ${p.message}`,
  }));
  if (native !== undefined) {
    const validate = experimentValidator();
    if (!validate(native)) found.push(...(validate.errors ?? []).flatMap(ajvProblem));
    const seen = new Set(found.map((p) => p.pointer));
    for (const p of semanticProblems(native)) if (!seen.has(p.pointer)) found.push(p);
  }
  if (found.length || importProblems.length || native === undefined) {
    const out = [...importProblems];
    const dedupe = new Set<string>();
    for (const p of found) {
      const source = imported ? toSource(imported.pointerMap, p.pointer) : p.pointer;
      const k = `${source}\u0000${p.message}`;
      if (dedupe.has(k)) continue;
      dedupe.add(k);
      const field = fieldName(p.pointer);
      out.push({
        file,
        ...positionOf(doc, lc, source, p.key),
        pointer: source,
        message: imported ? `${importedFrom}: ${field ? `${field} (mapped from ${fieldName(source) || 'the document'})` : 'document'}: ${p.message}` : `${field || 'document'}: ${p.message}`,
      });
    }
    return { problems: out };
  }

  const experiment = normaliseExperiment(native as Experiment);
  const namePointer = imported ? toSource(imported.pointerMap, '/metadata/name') : '/metadata/name';
  const namePos = positionOf(doc, lc, namePointer);
  return {
    experiment: {
      experiment,
      file,
      documentIndex: index,
      line,
      specHash: specHash(experiment),
      durationMs: parseDuration(experiment.spec.duration),
      ...(importedFrom ? { importedFrom } : {}),
      nameLine: namePos.line,
      nameColumn: namePos.column,
    },
  };
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

function ajvProblem(e: ErrorObject): DocProblem[] {
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
