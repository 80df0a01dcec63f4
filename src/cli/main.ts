import { enableCompileCache } from 'node:module';
import { join } from 'node:path';
import { Command } from 'commander';

// V8's compiled code of the modules imported below is kept on disk, so a restart does not compile
// them again (~1 s of CPU for the controller's). NODE_COMPILE_CACHE names the folder; else the
// data directory when one is set (it persists across restarts), else the OS temp folder. A first
// start on an empty folder compiles as before; a failure to enable it only costs that time.
const dataRoot = process.env.FAULTLINE_DATA_DIR || process.env.FAULTLINE_WORKDIR;
enableCompileCache(process.env.NODE_COMPILE_CACHE || (dataRoot ? join(dataRoot, 'compile-cache') : undefined));

// Each command lives in its own module; only the one being run is imported, so
// `faultline validate` starts fast and does not load the controller's dependencies.
const COMMANDS = ['validate', 'import', 'plan', 'run', 'status', 'abort', 'demo', 'sim'] as const;
type Name = (typeof COMMANDS)[number];

const program = new Command('faultline')
  .description('GitOps controller for chaos engineering on Kubernetes')
  .version('0.1.0');

const asked = process.argv[2] as Name | undefined;
const wanted: readonly Name[] = asked && (COMMANDS as readonly string[]).includes(asked) ? [asked] : COMMANDS;
for (const name of wanted) {
  const mod = (await import(`./${name}.js`)) as { register(p: Command): void };
  mod.register(program);
}
try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Commands report their own failures; this is the net under them: one line, never a stack.
  console.error(`faultline: ${(err as Error).message?.split('\n')[0] ?? String(err)}`);
  process.exitCode = 1;
}
