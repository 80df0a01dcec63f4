import type { Command } from 'commander';

// Placeholder until this command is built: it says so plainly and exits non-zero.
export function register(program: Command): void {
  program
    .command('run')
    .description('(run: not built yet)')
    .allowUnknownOption()
    .action(() => {
      console.error('faultline run: not built yet');
      process.exitCode = 2;
    });
}
