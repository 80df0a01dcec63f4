// `faultline plan [PATH...]`: for each experiment (and each step of each workflow), the pods it would hit right now, its blast
// radius and every guard's verdict, against the live cluster (read-only: nothing is changed).
// Exit 0 when every experiment is allowed and every file valid, 1 otherwise, 2 when it cannot run.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { createTargetResolver, loadKubeConfig } from '../cluster/index.js';
import { ConfigError, type ControllerConfig } from '../config/index.js';
import { egressPolicyFrom } from '../controller/egress.js';
import { toolConfig } from './config.js';
import { validatePaths } from '../experiments/index.js';
import { formatPlanTable, formatWorkflowPlans, planExperiment, planWorkflow, type PlanRow, type WorkflowPlan } from '../safety/index.js';

interface PlanOptions {
  kubeconfig?: string;
  context?: string;
  config?: string;
  json?: boolean;
  seed?: string;
  timeout: string;
}


export function register(program: Command): void {
  program
    .command('plan')
    .description('show what each experiment would hit now, its blast radius and the safety verdicts (changes nothing)')
    .argument('[paths...]', 'experiment files or directories', ['experiments/'])
    .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, in-cluster, ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context')
    .option('--config <file>', 'controller config file (safety limits, protected namespaces, windows)')
    .option('--json', 'print JSON instead of a table')
    .option('--seed <n>', 'seed for target choice (default: derived from each spec, stable between plans)')
    .option('--timeout <seconds>', 'how long to wait for the cluster caches', '30')
    .action(async (paths: string[], opts: PlanOptions) => {
      const fail = (msg: string): void => {
        console.error(`faultline plan: ${msg}`);
        process.exitCode = 2;
      };
      let seed: number | undefined;
      if (opts.seed !== undefined) {
        if (!/^\d{1,10}$/.test(opts.seed) || Number(opts.seed) > 0xffffffff) return fail(`--seed must be an integer 0..4294967295, not ${JSON.stringify(opts.seed)}`);
        seed = Number(opts.seed);
      }
      const timeoutS = Number(opts.timeout);
      if (!Number.isFinite(timeoutS) || timeoutS <= 0) return fail('--timeout must be a positive number of seconds');

      let config: ControllerConfig;
      try {
        config = toolConfig(opts.config); // repo.url does not matter for a plan
      } catch (err) {
        return fail(err instanceof ConfigError ? `invalid config:\n${err.message}` : (err as Error).message);
      }

      let kc;
      try {
        const kubeconfig = opts.kubeconfig ?? config.kubernetes.kubeconfig;
        const context = opts.context ?? config.kubernetes.context;
        kc = loadKubeConfig({ ...(kubeconfig ? { kubeconfig } : {}), ...(context ? { context } : {}) });
      } catch (err) {
        return fail((err as Error).message);
      }
      // URLs the files name are judged as the controller will judge them (egress policy).
      const loaded = await validatePaths(paths, { egress: egressPolicyFrom(config, kc) });

      const resolver = createTargetResolver(kc);
      let rows: PlanRow[];
      let workflows: WorkflowPlan[];
      try {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`the cluster at ${kc.getCurrentCluster()?.server ?? '?'} did not answer within ${timeoutS}s`)), timeoutS * 1000);
        });
        await Promise.race([resolver.ready(), timeout]).finally(() => clearTimeout(timer));
        // The Git kill switch, when run from the repository root.
        const freeze = existsSync('.faultline/freeze');
        const deps = { config: { ...config.safety, ownNamespace: config.kubernetes.namespace }, freeze, ...(seed !== undefined ? { seed } : {}) };
        rows = loaded.experiments.map((l) => planExperiment(l, resolver, deps));
        // Each workflow step planned as an experiment is; parallel groups combined per workload.
        const byName = new Map(loaded.experiments.map((e) => [e.experiment.metadata.name, e]));
        workflows = (loaded.workflows ?? []).map((w) => planWorkflow(w, byName, resolver, deps));
      } catch (err) {
        return fail((err as Error).message);
      } finally {
        resolver.close();
      }

      const problems = loaded.problems.map(({ file, line, column, message }) => ({ file, line, column, message }));
      if (opts.json) {
        process.stdout.write(JSON.stringify({ rows, workflows, problems }, null, 2) + '\n');
      } else {
        if (rows.length) process.stdout.write(formatPlanTable(rows));
        if (workflows.length) process.stdout.write(`${rows.length ? '\n' : ''}${formatWorkflowPlans(workflows)}`);
        if (problems.length) {
          process.stdout.write(`${rows.length ? '\n' : ''}problems:\n`);
          for (const p of problems) process.stdout.write(`  ${p.file}:${p.line}:${p.column}: ${p.message}\n`);
        }
        const refused = rows.filter((r) => !r.allowed).length;
        const wf = workflows.length ? `, ${workflows.length} workflow${workflows.length === 1 ? '' : 's'} planned, ${workflows.filter((w) => !w.allowed).length} refused` : '';
        process.stderr.write(`${rows.length} experiment${rows.length === 1 ? '' : 's'} planned, ${refused} refused${wf}, ${problems.length} problem${problems.length === 1 ? '' : 's'}\n`);
      }
      process.exitCode = problems.length || rows.some((r) => !r.allowed) || workflows.some((w) => !w.allowed) ? 1 : 0;
    });
}
