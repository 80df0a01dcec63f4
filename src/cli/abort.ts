import type { Command } from 'commander';
import { commandConfig } from './config.js';
import { CliError, EXIT, action, connectRedis, oneLine, within } from './fail.js';
import { cancelRuns, createQueues, RedisRunStore, requestAbort } from '../queue/index.js';
import { createWorkflowQueue } from '../queue/workflow-worker.js';
import { isTerminalWorkflow, RedisWorkflowRunStore } from '../workflows/run-store.js';
import { SafetyState } from '../safety/state.js';
import { ClusterKillSwitch } from '../safety/cluster-kill-switch.js';
import { KubeConfigError, loadKubeConfig } from '../cluster/index.js';
import type { ControllerConfig } from '../config/types.js';

// `faultline abort`: talks to Redis directly, so it works even when no controller answers HTTP.
// --all turns the kill switch on (nothing new starts) and aborts every run; each one reverts.
// Needs only Redis (repo.url and the rest of the config may be absent); gives up within 10 s.
// The kill switch (--all, --clear) is stored in the cluster too (ConfigMap faultline-kill-switch
// in the controller's namespace, durable: it survives a Redis flush); with Redis down, --all
// still sets it there, where every controller reads it.
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
        if (opts.all || opts.clear) return killSwitch(config, opts);
        const started = Date.now();
        const left = () => Math.max(1000, DEADLINE_MS - (Date.now() - started));
        const redis = await connectRedis(config.redis.url, 5000);
        const queues = createQueues(redis, config.redis.prefix);
        try {
          await within(abort(), left(), 'Redis');
        } finally {
          await queues.close().catch(() => undefined);
          redis.disconnect();
        }

        async function abort(): Promise<void> {
          const id = runId!;
          const record = await new RedisRunStore(redis, config.redis.prefix).get(id);
          const job = await queues.runs.getJob(id);
          if (!record && !job) return abortWorkflow(id);
          const jobState = job ? await job.getState() : undefined;
          if ((record && ['Succeeded', 'Failed', 'Aborted'].includes(record.state)) || jobState === 'completed' || jobState === 'failed') {
            throw new CliError(`run ${id} has already ended (${record?.state ?? jobState}); nothing to abort`, EXIT.failed);
          }
          const { removed } = await cancelRuns(queues, { runId: id }, opts.reason);
          console.log(removed.length ? `run ${id} removed from the queue` : `abort sent to run ${id} (${record?.state ?? 'queued'}); it reverts what it injected`);
        }

        // A workflow run id: a queued run is dropped, a running one aborts (every active step reverts).
        async function abortWorkflow(id: string): Promise<void> {
          const record = await new RedisWorkflowRunStore(redis, config.redis.prefix).get(id);
          const wfQueue = createWorkflowQueue(redis, config.redis.prefix);
          try {
            const job = await wfQueue.getJob(id);
            if (!record && !job) throw new CliError(`run ${id} is unknown (no run record, workflow run record or queued job with that id)`, EXIT.failed);
            const jobState = job ? await job.getState() : undefined;
            if ((record && isTerminalWorkflow(record.phase)) || jobState === 'completed' || jobState === 'failed') {
              throw new CliError(`workflow run ${id} has already ended (${record?.phase ?? jobState}); nothing to abort`, EXIT.failed);
            }
            if (!record && job && jobState !== 'active') {
              await job.remove();
              console.log(`workflow run ${id} removed from the queue`);
              return;
            }
            await requestAbort(redis, config.redis.prefix, { runId: id, reason: opts.reason });
            console.log(`abort sent to workflow run ${id} (${record?.phase ?? 'starting'}); every active step reverts what it injected`);
          } finally {
            await wfQueue.close();
          }
        }
      }),
    );
}

const STEP_MS = 5_000;

async function settle(p: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await p();
    return undefined;
  } catch (err) {
    return oneLine((err as Error).message);
  }
}

function clusterSwitch(config: ControllerConfig): ClusterKillSwitch {
  const kc = loadKubeConfig({ ...(config.kubernetes.kubeconfig ? { kubeconfig: config.kubernetes.kubeconfig } : {}), ...(config.kubernetes.context ? { context: config.kubernetes.context } : {}) });
  return new ClusterKillSwitch(kc, config.kubernetes.namespace);
}

/** --all / --clear: the cluster copy and the Redis copy, each bounded; one line either way. */
async function killSwitch(config: ControllerConfig, opts: { all?: boolean; clear?: boolean; reason: string }): Promise<void> {
  let redis: Awaited<ReturnType<typeof connectRedis>> | undefined;
  let queues: ReturnType<typeof createQueues> | undefined;
  const connect = async () => {
    redis ??= await connectRedis(config.redis.url, STEP_MS);
    queues ??= createQueues(redis, config.redis.prefix);
    return { redis, queues, state: new SafetyState(redis, { prefix: config.redis.prefix, maxConcurrentRuns: config.safety.maxConcurrentRuns }) };
  };
  let where = `ConfigMap ${config.kubernetes.namespace}/faultline-kill-switch`;
  const cluster = () => {
    const c = clusterSwitch(config);
    where = c.where;
    return c;
  };
  try {
    if (opts.clear) {
      // The cluster first: a controller seeing Redis off re-reads the cluster, never the other way round.
      const clusterErr = await settle(async () => {
        let c: ClusterKillSwitch;
        try {
          c = cluster();
        } catch (err) {
          if (err instanceof KubeConfigError) return; // nothing here can have stored it in a cluster
          throw err;
        }
        await within(c.clear(), STEP_MS, 'the Kubernetes API');
      });
      if (clusterErr) throw new CliError(`kill switch NOT cleared: cannot clear it in ${where} (${clusterErr}); controllers would keep reading it there`, EXIT.unreachable);
      const redisErr = await settle(async () => within((await connect()).state.clearKillSwitch(), STEP_MS, 'Redis'));
      if (redisErr) throw new CliError(`kill switch cleared in ${where} but not in Redis (${redisErr}); run --clear again once Redis is back`, EXIT.unreachable);
      console.log('kill switch cleared: runs may start again');
      return;
    }
    let at = Date.now();
    // No Kubernetes configuration at all (a workstation that only reaches Redis): Redis only, said so.
    let noKube: string | undefined;
    const [clusterErr, redisErr] = await Promise.all([
      settle(async () => {
        let c: ClusterKillSwitch;
        try {
          c = cluster();
        } catch (err) {
          if (!(err instanceof KubeConfigError)) throw err;
          noKube = oneLine(err.message);
          return;
        }
        await within(c.set(opts.reason), STEP_MS, 'the Kubernetes API');
      }),
      settle(async () => {
        const c = await connect();
        await within(c.state.setKillSwitch(opts.reason), STEP_MS, 'Redis');
        at = (await within(cancelRuns(c.queues, { all: true }, `kill switch: ${opts.reason}`), STEP_MS, 'Redis')).request.at;
      }),
    ]);
    if (noKube && redisErr) throw new CliError(`kill switch NOT set: ${redisErr} (and no Kubernetes configuration to store it in the cluster)`, EXIT.unreachable);
    if (clusterErr && redisErr) throw new CliError(`kill switch NOT set: ${where}: ${clusterErr}; Redis: ${redisErr}`, EXIT.unreachable);
    if (clusterErr) throw new CliError(`kill switch on in Redis only, NOT stored in ${where} (${clusterErr}): a Redis flush would turn it off; every active run is aborting`, EXIT.failed);
    if (redisErr) {
      // Durable and read by every controller: on, though running jobs learn of it by polling, not by message.
      console.log(`kill switch on in ${where}; Redis unreachable (${redisErr}): controllers read it from the cluster, abort their runs and start none until \`faultline abort --clear\``);
      return;
    }
    if (noKube) {
      console.log(`kill switch on at ${new Date(at).toISOString()} in Redis only (not stored in the cluster: ${noKube}): every active run is aborting and reverting; nothing starts until \`faultline abort --clear\``);
      return;
    }
    console.log(`kill switch on at ${new Date(at).toISOString()} (${where} and Redis): every active run is aborting and reverting; nothing starts until \`faultline abort --clear\``);
  } finally {
    if (queues) await within(queues.close(), STEP_MS, 'Redis').catch(() => undefined);
    redis?.disconnect();
  }
}
