import type { Command } from 'commander';
import { configOrExit } from './config.js';
import { createLogger } from '../log.js';
import { loadKubeConfig } from '../cluster/index.js';
import { startController } from '../controller/index.js';

export function register(program: Command): void {
  program
    .command('run')
    .description('run the controller: Git polling and webhooks, reconcile, queue, runs, reports, API and dashboard')
    .option('-c, --config <file>', 'controller configuration file (YAML); env variables override it')
    .action(async (opts: { config?: string }) => {
      const log = createLogger();
      const config = configOrExit(opts.config);
      if (!config) return;
      const kubeConfig = loadKubeConfig({ kubeconfig: config.kubernetes.kubeconfig, context: config.kubernetes.context });
      const controller = await startController({ config, log, kubeConfig });
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'shutting down: active runs finish and revert first');
        void controller.close().then(
          () => process.exit(0),
          (err: unknown) => {
            log.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}
