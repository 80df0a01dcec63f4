import type { Command } from 'commander';
import { commandConfig } from './config.js';
import { CliError, EXIT, action, connectRedis, within } from './fail.js';
import { cancelRuns, createQueues, RedisRunStore } from '../queue/index.js';
import { SafetyState } from '../safety/state.js';

// `faultline abort`: talks to Redis directly, so it works even when no controller answers HTTP.
// --all turns the kill switch on (nothing new starts) and aborts every run; each one reverts.
// Needs only Redis (repo.url and the rest of the config may be absent); gives up within 10 s.
const DEADLINE_MS = 10_000;

export function register(program: Command): void {
  program
    .command('abort')
    .description('abort one run (RUN_ID) or, with --all, every run and turn the kill switch on; faults revert')
    .argument('[run-id]', 'the run to abort')
    .option('--all', 'kill switch: abort every run and start none until cleared')
    .option('--clear', 'clear the kill switch')
    .option('--reason <text>', 'why (recorded on the runs)', 'aborted from the command line')
    .option('-c, --config <file>', 'controller configuration file (YAML); env variables override it')
    .action(
      action('abort', async (runId: string | undefined, opts: { all?: boolean; clear?: boolean; reason: string; config?: string }) => {
        if (!runId && !opts.all && !opts.clear) throw new CliError('name a run id, or use --all (kill switch) or --clear', EXIT.usage);
        const config = commandConfig(opts.config);
        const started = Date.now();
        const left = () => Math.max(1000, DEADLINE_MS - (Date.now() - started));
        const redis = await connectRedis(config.redis.url, 5000);
        const queues = createQueues(redis, config.redis.prefix);
        const state = new SafetyState(redis, { prefix: config.redis.prefix, maxConcurrentRuns: config.safety.maxConcurrentRuns });
        try {
          await within(abort(), left(), 'Redis');
        } finally {
          await queues.close().catch(() => undefined);
          redis.disconnect();
        }

        async function abort(): Promise<void> {
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
          const id = runId!;
          const record = await new RedisRunStore(redis, config.redis.prefix).get(id);
          const job = await queues.runs.getJob(id);
          if (!record && !job) throw new CliError(`run ${id} is unknown (no run record and no queued job with that id)`, EXIT.failed);
          const jobState = job ? await job.getState() : undefined;
          if ((record && ['Succeeded', 'Failed', 'Aborted'].includes(record.state)) || jobState === 'completed' || jobState === 'failed') {
            throw new CliError(`run ${id} has already ended (${record?.state ?? jobState}); nothing to abort`, EXIT.failed);
          }
          const { removed } = await cancelRuns(queues, { runId: id }, opts.reason);
          console.log(removed.length ? `run ${id} removed from the queue` : `abort sent to run ${id} (${record?.state ?? 'queued'}); it reverts what it injected`);
        }
      }),
    );
}
