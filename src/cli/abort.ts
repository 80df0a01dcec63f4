import type { Command } from 'commander';
import { configOrExit } from './config.js';
import { cancelRuns, createQueues } from '../queue/index.js';
import { SafetyState } from '../safety/state.js';

// `faultline abort`: talks to Redis directly, so it works even when no controller answers HTTP.
// --all turns the kill switch on (nothing new starts) and aborts every run; each one reverts.
export function register(program: Command): void {
  program
    .command('abort')
    .description('abort one run (RUN_ID) or, with --all, every run and turn the kill switch on; faults revert')
    .argument('[run-id]', 'the run to abort')
    .option('--all', 'kill switch: abort every run and start none until cleared')
    .option('--clear', 'clear the kill switch')
    .option('--reason <text>', 'why (recorded on the runs)', 'aborted from the command line')
    .option('-c, --config <file>', 'controller configuration file (YAML); env variables override it')
    .action(async (runId: string | undefined, opts: { all?: boolean; clear?: boolean; reason: string; config?: string }) => {
      if (!runId && !opts.all && !opts.clear) {
        console.error('faultline abort: name a run id, or use --all (kill switch) or --clear');
        process.exitCode = 2;
        return;
      }
      const config = configOrExit(opts.config);
      if (!config) return;
      const queues = createQueues(config.redis.url, config.redis.prefix);
      const state = new SafetyState(queues.redis, { prefix: config.redis.prefix, maxConcurrentRuns: config.safety.maxConcurrentRuns });
      try {
        if (opts.clear) {
          await state.clearKillSwitch();
          console.log('kill switch cleared: runs may start again');
          return;
        }
        if (opts.all) {
          await state.setKillSwitch(opts.reason);
          const { request } = await cancelRuns(queues, { all: true }, `kill switch: ${opts.reason}`);
          console.log(`kill switch on at ${new Date(request.at).toISOString()}: every active run is aborting and reverting; nothing starts until \`faultline abort --clear\``);
          return;
        }
        const { removed } = await cancelRuns(queues, { runId: runId! }, opts.reason);
        console.log(removed.length ? `run ${runId} removed from the queue` : `abort sent to run ${runId}; it reverts if it is active`);
      } finally {
        await queues.close();
      }
    });
}
