import type { Command } from 'commander';
import { commandConfig, NO_REPO_URL } from './config.js';
import { CliError, EXIT, action, connectRedis, oneLine, safeUrl } from './fail.js';
import { createLogger } from '../log.js';
import { KubeConfigError, loadKubeConfig, waitForApiServer } from '../cluster/index.js';
import { startController } from '../controller/index.js';

// A controller pod restarting while the API server is briefly away waits this long, then exits 3.
const API_SERVER_WAIT_MS = 15_000;

export function register(program: Command): void {
  program
    .command('run')
    .description('run the controller: Git polling and webhooks, reconcile, queue, runs, reports, API and dashboard')
    .option('-c, --config <file>', 'controller configuration file (YAML); env variables override it')
    .option('--kubeconfig <file>', 'kubeconfig file (default: kubernetes.kubeconfig, KUBECONFIG, in-cluster, ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context')
    .action(
      action('run', async (opts: { config?: string; kubeconfig?: string; context?: string }) => {
        const config = commandConfig(opts.config);
        if (config.repo.url === NO_REPO_URL) throw new CliError('repo.url is required (set repo.url in the config file or FAULTLINE_REPO_URL)', EXIT.usage);
        let kubeConfig;
        try {
          const kubeconfig = opts.kubeconfig ?? config.kubernetes.kubeconfig;
          const context = opts.context ?? config.kubernetes.context;
          kubeConfig = loadKubeConfig({ ...(kubeconfig ? { kubeconfig } : {}), ...(context ? { context } : {}) });
        } catch (err) {
          if (err instanceof KubeConfigError) throw new CliError(err.message, EXIT.usage);
          throw err;
        }
        // Redis first, with a bounded wait: otherwise every queue would retry forever, printing errors.
        (await connectRedis(config.redis.url, 5000)).disconnect();
        // The API server too: without it the watches would restart forever and nothing would start.
        const server = safeUrl(kubeConfig.getCurrentCluster()?.server ?? '?');
        await waitForApiServer(kubeConfig, API_SERVER_WAIT_MS).catch((err: unknown) => {
          throw new CliError(`cannot reach the Kubernetes API server ${server} within ${API_SERVER_WAIT_MS / 1000}s: ${oneLine((err as Error).message)}`, EXIT.unreachable);
        });
        const log = createLogger();
        let controller;
        try {
          controller = await startController({ config, log, kubeConfig });
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          const code = e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'ETIMEDOUT' ? EXIT.unreachable : EXIT.failed;
          throw new CliError(`cannot start: ${oneLine(e.message)}${code === EXIT.unreachable ? ` (cluster ${safeUrl(kubeConfig.getCurrentCluster()?.server ?? '?')})` : ''}`, code);
        }
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) return;
          stopping = true;
          log.info({ signal, boundMs: config.runs.shutdownTimeoutMs }, 'shutting down: active runs abort and revert first');
          // Within runs.shutdownTimeout (below the pod's grace period): what is not reverted by then
          // is in the objects' annotations and the ledger, for the next controller's revert loop.
          void controller.shutdown(`controller shutting down (${signal})`).then(
            () => process.exit(0),
            (err: unknown) => {
              log.error({ err }, 'shutdown failed');
              process.exit(1);
            },
          );
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      }),
    );
}
