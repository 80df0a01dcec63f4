// The README's fault table, written from the registry: what each fault does, its params, and what
// its injector needs (user, capabilities, Pod Security level). `npx tsx src/faults/docs.ts`
// rewrites the table in README.md; a test checks README.md holds exactly this text.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FaultDefinition } from './definition.js';
import { FAULTS } from './registry.js';

export const README_FILE = fileURLToPath(new URL('../../README.md', import.meta.url));
export const TABLE_BEGIN = '<!-- fault table: generated from src/faults/registry.ts by `npx tsx src/faults/docs.ts`; a test checks it -->';
export const TABLE_END = '<!-- end of fault table -->';

const code = (s: string) => `\`${s}\``;

function params(f: FaultDefinition): string {
  const props = Object.keys((f.paramsSchema as { properties?: Record<string, unknown> }).properties ?? {});
  return props.length ? props.map(code).join(', ') : '—';
}

function needs(f: FaultDefinition): [string, string, string] {
  const n = f.injector;
  if (!n) return ['— (API calls only)', '—', 'any'];
  return [n.runAsUser === 0 ? '0 (root)' : String(n.runAsUser), n.capabilities.length ? n.capabilities.map(code).join(', ') : 'none', n.podSecurity];
}

export function faultTable(faults: readonly FaultDefinition[] = FAULTS): string {
  const rows = faults.map((f) => `| ${code(f.type)} | ${params(f)} | ${f.docs} | ${needs(f).join(' | ')} |`);
  return [
    '| type | params | what happens, and how it is undone | injector user | capabilities | Pod Security level |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** README text with the table between the markers replaced by `table`. */
export function withTable(readme: string, table = faultTable()): string {
  const a = readme.indexOf(TABLE_BEGIN);
  const b = readme.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error(`README.md has no fault table markers (${TABLE_BEGIN} ... ${TABLE_END})`);
  return `${readme.slice(0, a + TABLE_BEGIN.length)}\n${table}\n${readme.slice(b)}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(README_FILE, withTable(readFileSync(README_FILE, 'utf8')));
  console.log(`wrote the fault table in ${README_FILE}`);
}
