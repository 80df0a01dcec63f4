// `faultline import PATH... [--out DIR] [--format json]`: turns Chaos Mesh, Litmus, Chaos Toolkit
// and chaos.io files into native Faultline experiments (and Chaos Mesh Workflows into
// ChaosWorkflows), one file per experiment or workflow named after it,
// each with a comment saying what it came from and what the importer assumed. Problems are
// printed the way `validate` prints them; the exit code is 1 when there is any.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { ConfigError } from '../config/index.js';
import { egressPolicyFrom } from '../controller/egress.js';
import { validatePaths } from '../experiments/index.js';
import { toolConfig } from './config.js';
import { API_VERSION, KIND, type LoadedExperiment } from '../experiments/model.js';
import { WORKFLOW_KIND, type LoadedWorkflow } from '../workflows/model.js';

interface Options {
  out?: string;
  format: string;
  force?: boolean;
  set: string[];
  config?: string;
}

export function register(program: Command): void {
  program
    .command('import')
    .description('convert Chaos Mesh, Litmus, Chaos Toolkit and chaos.io files into native experiments')
    .argument('<paths...>', 'files or directories (walked for *.yaml / *.yml / *.json)')
    .option('--out <dir>', 'write one <name>.yaml per experiment into this directory (default: print them)')
    .option('--format <format>', 'text or json', 'text')
    .option('--force', 'overwrite files that already exist in --out')
    .option('--config <file>', 'controller config file: URLs are checked against its egress policy, as validate checks them (default policy without it)')
    .option('--set <KEY=VALUE>', 'a value for an environment variable a Chaos Toolkit configuration names (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .action(async (paths: string[], opts: Options) => {
      if (opts.format !== 'text' && opts.format !== 'json') {
        console.error(`faultline import: --format must be text or json, not ${JSON.stringify(opts.format)}`);
        process.exitCode = 2;
        return;
      }
      if (opts.out !== undefined && existsSync(opts.out) && !statSync(opts.out).isDirectory()) {
        console.error(`faultline import: --out ${opts.out} is not a directory`);
        process.exitCode = 2;
        return;
      }
      const importEnv: Record<string, string> = {};
      for (const kv of opts.set) {
        const i = kv.indexOf('=');
        if (i < 1) {
          console.error(`faultline import: --set needs KEY=VALUE, not ${JSON.stringify(kv)}`);
          process.exitCode = 2;
          return;
        }
        importEnv[kv.slice(0, i)] = kv.slice(i + 1);
      }
      // The egress policy validate applies: what import writes, validate accepts.
      let egress;
      try {
        egress = egressPolicyFrom(toolConfig(opts.config));
      } catch (err) {
        console.error(`faultline import: ${err instanceof ConfigError ? `invalid config:\n${err.message}` : (err as Error).message}`);
        process.exitCode = 2;
        return;
      }
      const result = await validatePaths(paths, { importEnv, egress });
      const problems = result.problems.map(({ file, line, column, pointer, message }) => ({ file, line, column, pointer, message }));
      const written: string[] = [];
      const workflows = result.workflows ?? [];
      if (opts.out !== undefined) {
        try {
          mkdirSync(opts.out, { recursive: true });
        } catch (err) {
          console.error(`faultline import: cannot create ${opts.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
          process.exitCode = 2;
          return;
        }
        for (const e of [...result.experiments, ...workflows]) {
          const path = join(opts.out, `${nameOf(e)}.yaml`);
          if (existsSync(path) && !opts.force) {
            problems.push({ file: path, line: 1, column: 1, pointer: '', message: `already exists; not overwritten (use --force), imported from ${e.file}:${e.line}` });
            continue;
          }
          writeFileSync(path, nativeFile(e));
          written.push(path);
        }
      }
      if (opts.format === 'json') {
        const rows = result.experiments.map((e) => ({
          file: e.file,
          line: e.line,
          source: e.source ?? { apiVersion: API_VERSION, kind: KIND },
          experiment: e.experiment,
          specHash: e.specHash,
          ...(e.importNotes ? { notes: e.importNotes } : {}),
        }));
        for (const w of workflows) {
          rows.push({
            file: w.file,
            line: w.line,
            source: w.source ?? { apiVersion: API_VERSION, kind: WORKFLOW_KIND },
            experiment: w.workflow as unknown as LoadedExperiment['experiment'],
            specHash: w.specHash,
            ...(w.importNotes ? { notes: w.importNotes } : {}),
          });
        }
        process.stdout.write(JSON.stringify([...rows, ...problems], null, 2) + '\n');
      } else {
        if (opts.out === undefined) process.stdout.write([...result.experiments, ...workflows].map(nativeFile).join('---\n'));
        for (const p of problems) process.stderr.write(`${p.file}:${p.line}:${p.column}: ${p.message}\n`);
        const n = result.experiments.length;
        const w = workflows.length;
        process.stderr.write(
          `${n} experiment${n === 1 ? '' : 's'}${w ? ` and ${w} workflow${w === 1 ? '' : 's'}` : ''} imported${opts.out !== undefined ? `, ${written.length} written to ${opts.out}` : ''}` +
            `${problems.length ? `; ${problems.length} problem${problems.length === 1 ? '' : 's'}` : ''}\n`,
        );
      }
      process.exitCode = problems.length ? 1 : 0;
    });
}

const nameOf = (e: LoadedExperiment | LoadedWorkflow): string => ('workflow' in e ? e.workflow : e.experiment).metadata.name;

/** The native file: a comment saying where it came from, then the normalised experiment or workflow. */
export function nativeFile(e: LoadedExperiment | LoadedWorkflow): string {
  const from = e.importedFrom ? `${e.importedFrom} in ${e.file}:${e.line}` : `${e.file}:${e.line} (already native)`;
  const lines = [`# Imported by faultline import from ${from}.`];
  for (const n of e.importNotes ?? []) lines.push(`# - ${n}`);
  return `${lines.join('\n')}\n${stringify('workflow' in e ? e.workflow : e.experiment, { lineWidth: 0 })}`;
}
