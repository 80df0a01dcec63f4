// Runs every bench/*.bench.ts (or those named on the command line) and prints a table; each
// bench's heading is its file's opening comment, so the output says what every figure measures.
// `--list` prints those headings without running anything.
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench, BenchResult } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
const list = process.argv.includes('--list');
const wanted = process.argv.slice(2).filter((a) => a !== '--list');
const files = (await readdir(here))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();

/** The file's opening `//` comment: what it measures, in its own words. */
async function heading(file: string): Promise<string> {
  const lines = (await readFile(join(here, file), 'utf8')).split('\n');
  const out: string[] = [];
  for (const l of lines) {
    if (!l.startsWith('//')) break;
    out.push(`  ${l.replace(/^\/\/ ?/, '')}`);
  }
  return out.join('\n');
}

if (list) {
  for (const file of files) console.log(`# ${file}\n${await heading(file)}\n`);
  process.exit(0);
}

const rows: BenchResult[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: Bench };
  console.log(`# ${file}\n${await heading(file)}`);
  for (const r of await mod.default()) {
    rows.push(r);
    console.log(`  ${r.name}: ${fmt(r.value)} ${r.unit}${r.target ? `  (target ${r.target})` : ''}${r.note ? `  — ${r.note}` : ''}`);
  }
}
if (rows.length === 0) console.log('no benchmarks matched');

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 2 : 1);
}
// Some benchmarks leave connection pools open; every number is printed, so exit.
process.exit(0);
