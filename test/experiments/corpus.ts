// Reads the shared real-world corpus (../shared/corpus) for the importer measurements: every
// document of the chosen kinds, each loaded on its own so its outcome is its own.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadExperimentFiles } from '../../src/experiments/index.js';
import type { LoadedExperiment, Problem } from '../../src/experiments/model.js';
import type { LoadedWorkflow } from '../../src/workflows/model.js';

// Beside the clone (../shared/corpus, as on the team's machines), or FAULTLINE_CORPUS.
const CANDIDATES = [process.env.FAULTLINE_CORPUS, new URL('../../../shared/corpus/', import.meta.url).pathname, '/work/shared/corpus/'];
export const CORPUS = CANDIDATES.find((p): p is string => !!p && existsSync(p)) ?? '';
/** Corpus tests are skipped (loudly) on a machine without the corpus. */
export const NO_CORPUS = CORPUS === '';
if (NO_CORPUS) process.stderr.write('corpus tests skipped: no ../shared/corpus and no FAULTLINE_CORPUS\n');

export function corpusFiles(dir: string, ext = /\.ya?ml$/i): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (ext.test(e)) out.push(p);
    }
  };
  walk(join(CORPUS, dir));
  return out;
}

export interface CorpusDoc {
  file: string; // relative to the corpus
  index: number;
  value: Record<string, unknown>;
  text: string;
}

/** Every YAML document in `dirs` that `pick` accepts; documents that do not parse are skipped. */
export function corpusDocs(dirs: string[], pick: (d: Record<string, unknown>) => boolean): CorpusDoc[] {
  const out: CorpusDoc[] = [];
  for (const dir of dirs) {
    for (const path of corpusFiles(dir)) {
      const docs = parseAllDocuments(readFileSync(path, 'utf8'));
      if (!Array.isArray(docs)) continue;
      docs.forEach((d, index) => {
        if (d.errors.length) return;
        const value = d.toJS() as unknown;
        if (typeof value === 'object' && value !== null && !Array.isArray(value) && pick(value as Record<string, unknown>)) {
          out.push({ file: relative(CORPUS, path), index, value: value as Record<string, unknown>, text: d.toString() });
        }
      });
    }
  }
  return out;
}

export interface Outcome {
  doc: CorpusDoc;
  experiment?: LoadedExperiment;
  workflow?: LoadedWorkflow; // a Chaos Mesh Workflow becomes a ChaosWorkflow
  problems: Problem[];
}

/** Accepted: it became an experiment or a workflow. */
export const accepted = (o: Outcome): boolean => !!(o.experiment ?? o.workflow);

export function loadDoc(doc: CorpusDoc): Outcome {
  const r = loadExperimentFiles([{ path: `${doc.file}#${doc.index}`, content: new TextEncoder().encode(doc.text) }]);
  return { doc, ...(r.experiments[0] ? { experiment: r.experiments[0] } : {}), ...(r.workflows?.[0] ? { workflow: r.workflows[0] } : {}), problems: r.problems };
}

/** One line per document, for the measurement printout. */
export function describeOutcome(o: Outcome): string {
  const kind = `${String(o.doc.value.kind)} ${String((o.doc.value.metadata as { name?: unknown } | undefined)?.name)}`;
  if (o.workflow) return `  ok      ${o.doc.file}#${o.doc.index} ${kind} → ChaosWorkflow (${stepKinds(o.workflow.workflow.spec.steps)})`;
  if (o.experiment) return `  ok      ${o.doc.file}#${o.doc.index} ${kind} → ${o.experiment.experiment.spec.fault.type}`;
  return `  refused ${o.doc.file}#${o.doc.index} ${kind}: ${o.problems.map((p) => p.message).join(' | ')}`;
}

function stepKinds(steps: unknown[]): string {
  return steps
    .map((s) => {
      const x = s as Record<string, unknown>;
      if (Array.isArray(x.parallel)) return `parallel[${stepKinds(x.parallel)}]`;
      if (x.pause !== undefined) return 'pause';
      if (x.check !== undefined) return 'check';
      if (x.experiment !== undefined) return 'experiment';
      return (x.fault as { type: string }).type;
    })
    .join(', ');
}
