// `faultline validate [PATH...]`: checks experiment and workflow files the way the controller will load them.
// Exit 0 when every file is valid, 1 when any problem is found. One bad file never hides another's.
import type { Command } from 'commander';
import { validatePaths } from '../experiments/index.js';
import { ConfigError } from '../config/index.js';
import { egressPolicyFrom } from '../controller/egress.js';
import { toolConfig } from './config.js';

export function register(program: Command): void {
  program
    .command('validate')
    .description('validate experiment and workflow files (directories are walked for *.yaml / *.yml / *.json)')
    .argument('[paths...]', 'files or directories', ['experiments/'])
    .option('--format <format>', 'text or json', 'text')
    .option('--root <dir>', 'symlinks must stay inside this directory (default: each path\'s own tree)')
    .option('--config <file>', 'controller config file: URLs are checked against its egress policy (default policy without it)')
    .action(async (paths: string[], opts: { format: string; root?: string; config?: string }) => {
      if (opts.format !== 'text' && opts.format !== 'json') {
        console.error(`faultline validate: --format must be text or json, not ${JSON.stringify(opts.format)}`);
        process.exitCode = 2;
        return;
      }
      let egress;
      try {
        egress = egressPolicyFrom(toolConfig(opts.config));
      } catch (err) {
        console.error(`faultline validate: ${err instanceof ConfigError ? `invalid config:\n${err.message}` : (err as Error).message}`);
        process.exitCode = 2;
        return;
      }
      const result = await validatePaths(paths, { ...(opts.root ? { root: opts.root } : {}), egress });
      if (opts.format === 'json') {
        const rows = result.problems.map(({ file, line, column, pointer, message }) => ({ file, line, column, pointer, message }));
        process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      } else {
        for (const p of result.problems) process.stdout.write(`${p.file}:${p.line}:${p.column}: ${p.message}\n`);
        const n = result.experiments.length;
        const w = result.workflows?.length ?? 0;
        const workflows = w ? `, ${w} workflow${w === 1 ? '' : 's'}` : '';
        const summary = result.problems.length
          ? `${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}; ${n} valid experiment${n === 1 ? '' : 's'}${w ? `${workflows} valid` : ''}`
          : `${n} experiment${n === 1 ? '' : 's'}${workflows} valid`;
        process.stderr.write(`${summary}\n`);
      }
      process.exitCode = result.problems.length ? 1 : 0;
    });
}
