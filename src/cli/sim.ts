import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { startSimulator } from '../sim/index.js';

// `faultline sim`: serves the Kubernetes API simulator so a person (or kubectl) can look at it.
export function register(program: Command): void {
  program
    .command('sim')
    .description('serve the in-memory Kubernetes API simulator (for demos and tests, not a real cluster)')
    .option('--topology <file>', 'seed topology YAML (default: the built-in "shop" topology)')
    .option('--port <n>', 'port to listen on (default: a free port)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port: not a port number: ${v}`);
      return n;
    })
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--kubeconfig-out <file>', 'write a kubeconfig for the simulator here')
    .option('--recreate-delay <ms>', 'delay before a ReplicaSet replaces a deleted pod', (v) => Number(v), 1000)
    .action(async (opts: { topology?: string; port?: number; host: string; kubeconfigOut?: string; recreateDelay: number }) => {
      const sim = await startSimulator({ topology: opts.topology, port: opts.port, host: opts.host, recreateDelayMs: opts.recreateDelay });
      console.log(`Kubernetes simulator listening on ${sim.url}`);
      if (opts.kubeconfigOut) {
        writeFileSync(opts.kubeconfigOut, sim.kubeconfigYaml(), { mode: 0o600 });
        console.log(`kubeconfig written to ${opts.kubeconfigOut}; try: kubectl --kubeconfig ${opts.kubeconfigOut} get pods -A`);
      } else {
        console.log('kubeconfig:\n' + sim.kubeconfigYaml());
      }
      console.log('Ctrl-C to stop.');
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await sim.close();
    });
}
