// Runs every bench/*.bench.ts (or those named on the command line) and prints a table.
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench, BenchResult } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = (await readdir(here))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();

const rows: BenchResult[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: Bench };
  console.log(`# ${file}`);
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
