// Reads every YAML document under deploy/ with its file and position.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEPLOY = join(ROOT, 'deploy');

export interface ManifestDoc {
  file: string; // relative to the repo root, e.g. deploy/base/deployment.yaml
  index: number; // document number in the file
  obj: Record<string, unknown>;
}

export function yamlFiles(dir = DEPLOY): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(e.name)) out.push(relative(ROOT, p));
  }
  return out.sort();
}

/** Parses a YAML text into documents; parse errors throw with the file name. */
export function parseDocs(file: string, text: string): ManifestDoc[] {
  const docs: ManifestDoc[] = [];
  parseAllDocuments(text).forEach((d, index) => {
    if (d.errors.length) throw new Error(`${file} document ${index}: ${d.errors[0]!.message}`);
    const obj: unknown = d.toJS();
    if (obj === null || obj === undefined) return; // empty document (e.g. a trailing ---)
    if (typeof obj !== 'object' || Array.isArray(obj)) throw new Error(`${file} document ${index}: not a mapping`);
    docs.push({ file, index, obj: obj as Record<string, unknown> });
  });
  return docs;
}

export function loadDocs(file: string): ManifestDoc[] {
  return parseDocs(file, readFileSync(join(ROOT, file), 'utf8'));
}

export const isKustomization = (file: string) => /(^|\/)kustomization\.ya?ml$/.test(file);

/** Every Kubernetes object in deploy/ (kustomization files are checked on their own). */
export function allManifests(): ManifestDoc[] {
  return yamlFiles().filter((f) => !isKustomization(f)).flatMap(loadDocs);
}

export const name = (d: ManifestDoc) => `${d.file}#${d.index} ${String(d.obj.kind)}/${String((d.obj.metadata as { name?: string } | undefined)?.name)}`;
