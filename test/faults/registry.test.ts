// A fault is one complete plugin: its folder's definition drives the fault type list, the
// catalog, the experiment JSON Schema (built and published), the drivers and the README, and the
// run executor and the safety guards hold no fault-specific branch. The registry stays pure, so
// `faultline validate` does not load @kubernetes/client-node.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAULT_TYPES } from '../../src/experiments/model.js';
import { buildExperimentSchema } from '../../src/experiments/schema.js';
import { SCHEMA_FILE } from '../../src/experiments/schema-file.js';
import { ephemeralContainer, FAULT_CATALOG, FAULT_DRIVERS, FAULTS, injectorNeeds } from '../../src/faults/index.js';
import { faultTable, README_FILE, TABLE_BEGIN, TABLE_END, withTable } from '../../src/faults/docs.js';

const ROOT = join(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');

type Schema = { properties: { spec: { properties: { fault: { properties: { type: { enum: string[] } }; allOf: { if: { properties: { type: { const: string } } } }[] } } } }; $defs: Record<string, { description?: string }> };

describe('the fault registry drives everything', () => {
  it('lists each fault once, each in its own folder with a definition and a driver', () => {
    expect(new Set(FAULT_TYPES).size).toBe(FAULT_TYPES.length);
    expect(FAULT_TYPES).toEqual(FAULTS.map((f) => f.type));
    const folders = readdirSync(join(ROOT, 'src/faults')).filter((n) => statSync(join(ROOT, 'src/faults', n)).isDirectory());
    expect(folders.sort()).toEqual([...FAULT_TYPES].sort());
    for (const t of FAULT_TYPES) {
      expect(readdirSync(join(ROOT, 'src/faults', t)).sort(), t).toEqual(['driver.ts', 'index.ts']);
      expect(FAULT_CATALOG[t].type).toBe(t);
      expect(FAULT_DRIVERS[t].type, t).toBe(t);
    }
    expect(Object.keys(FAULT_DRIVERS).sort()).toEqual([...FAULT_TYPES].sort());
  });

  it('every registered fault is in the JSON Schema enum, with its params schema and description (built and published)', () => {
    const published = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Schema;
    for (const schema of [buildExperimentSchema() as unknown as Schema, published]) {
      const fault = schema.properties.spec.properties.fault;
      expect(fault.properties.type.enum).toEqual([...FAULT_TYPES]);
      expect(fault.allOf.map((c) => c.if.properties.type.const)).toEqual([...FAULT_TYPES]);
      for (const t of FAULT_TYPES) {
        expect(schema.$defs[`params-${t}`], t).toEqual({ description: FAULT_CATALOG[t].description, ...FAULT_CATALOG[t].paramsSchema });
      }
    }
  });

  it('README.md holds the fault table the registry writes: one row per fault, with what its injector needs', () => {
    const readme = readFileSync(README_FILE, 'utf8');
    expect(withTable(readme), 'README.md is stale: run npx tsx src/faults/docs.ts').toBe(readme);
    const table = readme.slice(readme.indexOf(TABLE_BEGIN) + TABLE_BEGIN.length, readme.indexOf(TABLE_END)).trim();
    expect(table).toBe(faultTable());
    const rows = new Map(table.split('\n').slice(2).map((r) => {
      const cells = r.split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, '').trim());
      return [cells[0]!.replaceAll('`', ''), cells] as const;
    }));
    expect([...rows.keys()]).toEqual([...FAULT_TYPES]);
    for (const t of FAULT_TYPES) {
      const [, params, , user, caps, level] = rows.get(t)!;
      const props = Object.keys((FAULT_CATALOG[t].paramsSchema as { properties: object }).properties);
      expect(params, t).toBe(props.length ? props.map((p) => `\`${p}\``).join(', ') : '—');
      const needs = FAULT_CATALOG[t].injector;
      if (!needs) {
        expect([user, caps, level], t).toEqual(['— (API calls only)', '—', 'any']);
        continue;
      }
      // The row says what the injector really gets: the ephemeral container built from the same definition.
      const sc = ephemeralContainer({ name: 'x', image: 'i', targetContainer: 'app', command: ['true'], needs: injectorNeeds(t) }).securityContext!;
      expect(user, t).toBe(sc.runAsUser === 0 ? '0 (root)' : String(sc.runAsUser));
      expect(caps, t).toBe(sc.capabilities!.add!.length ? sc.capabilities!.add!.map((c) => `\`${c}\``).join(', ') : 'none');
      expect(sc.capabilities!.drop).toEqual(['ALL']);
      expect(level, t).toBe(needs.podSecurity);
    }
  });

  it('the executor, the revert loop and the guards name no fault type (their rules come from the definitions)', () => {
    const names = new RegExp(`['"\`](${FAULT_TYPES.join('|')})['"\`]`);
    const files = ['src/runs', 'src/safety'].flatMap((d) => readdirSync(join(ROOT, d)).filter((f) => f.endsWith('.ts')).map((f) => join(d, f)));
    expect(files).toContain('src/runs/executor.ts');
    expect(files).toContain('src/safety/guards.ts');
    for (const f of files) {
      const hit = readFileSync(join(ROOT, f), 'utf8').split('\n').findIndex((l) => names.test(l));
      expect(hit === -1 ? 'none' : `${f}:${hit + 1}`, f).toBe('none');
    }
  });

  it('the registry and the experiments stage load without @kubernetes/client-node; the drivers load it', () => {
    const probe = (mods: string[]) => execFileSync(NODE, ['--import', 'tsx', '--input-type=module', '-e', `
      import { registerHooks } from 'node:module';
      let n = 0;
      registerHooks({ resolve(s, c, next) { const r = next(s, c); if (r.url.includes('@kubernetes/client-node')) n++; return r; } });
      for (const m of ${JSON.stringify(mods)}) await import(m);
      console.log(n);`], { cwd: ROOT, encoding: 'utf8' }).trim();
    expect(probe(['./src/faults/registry.ts', './src/experiments/index.ts', './src/cli/validate.ts'])).toBe('0');
    expect(Number(probe(['./src/faults/index.ts']))).toBeGreaterThan(0);
  });
});
