// Several clusters on the controller's side: one watch cache + resolver, executor and revert loop
// per registered cluster (src/cluster/registry.ts), and the executor that sends each run to its
// cluster's. A cluster that does not answer fails only its own runs, with its name in the reason.
import type { KubeConfig } from '@kubernetes/client-node';
import type { ControllerConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { createTargetResolver, waitForApiServer } from '../cluster/index.js';
import { ClusterRegistry, LOCAL_CLUSTER, type RegisteredCluster } from '../cluster/registry.js';
import type { ClusterTargetResolver, ResolvedTargets, TargetResolver } from '../cluster/types.js';
import type { ActiveRunExecutor, ExecutorCluster } from '../runs/executor.js';
import type { RevertLoop } from '../runs/revert-loop.js';
import type { RunExecutor, RunJobData, RunRecord } from '../runs/types.js';
import type { SafetyConfig } from '../safety/guards.js';

export interface ClusterSide {
  name: string;
  server: string;
  kc: KubeConfig;
  resolver: ClusterTargetResolver;
  executor: RunExecutor;
  revertLoop: RevertLoop;
}

export interface ClusterSetDeps {
  log: Logger;
  /** The executor and revert loop of one cluster (built by the run side with its shared deps). */
  makeExecutor(cluster: ExecutorCluster, kc: KubeConfig, resolver: TargetResolver, safety: SafetyConfig): RunExecutor;
  makeRevertLoop(cluster: string, kc: KubeConfig): RevertLoop;
  safetyFor(name: string): SafetyConfig;
}

/** The safety config of a cluster: the global one with its `clusters.<name>.safety` on top. */
export function clusterSafety(config: ControllerConfig, name: string): SafetyConfig {
  const base: SafetyConfig = { ...config.safety, ownNamespace: config.kubernetes.namespace };
  const o = config.clusters?.[name]?.safety;
  if (!o) return base;
  return {
    ...base,
    // A cluster may add protected namespaces, never remove one.
    protectedNamespaces: [...new Set([...base.protectedNamespaces, ...(o.protectedNamespaces ?? [])])],
    ...(o.maxBlastRadiusPercent !== undefined ? { maxBlastRadiusPercent: o.maxBlastRadiusPercent } : {}),
    ...(o.maxTargets !== undefined ? { maxTargets: o.maxTargets } : {}),
    // Refusals say which cap: `(cluster east cap)` instead of `(controller cap)`.
    capSource: {
      ...(o.maxTargets !== undefined ? { maxTargets: `cluster ${name}` } : {}),
      ...(o.maxBlastRadiusPercent !== undefined ? { maxBlastRadiusPercent: `cluster ${name}` } : {}),
    },
  };
}

/** How long a run waits for a registered cluster's API server before failing (per run). */
const REACH_TIMEOUT_MS = 3000;

export class ClusterSet {
  private readonly sides = new Map<string, ClusterSide>();
  private registry: ClusterRegistry | undefined;

  constructor(private readonly deps: ClusterSetDeps) {}

  /** Watch the cluster Secrets of `namespace` through the local cluster's `kc`. */
  watch(kc: KubeConfig, namespace: string): ClusterRegistry {
    this.registry = new ClusterRegistry(kc, {
      namespace,
      log: this.deps.log,
      onAdd: (c) => this.add(c),
      onRemove: (name) => void this.remove(name),
    });
    return this.registry;
  }

  names(): string[] {
    return [...this.sides.keys()].sort();
  }

  get(name: string): ClusterSide | undefined {
    return this.sides.get(name);
  }

  all(): ClusterSide[] {
    return [...this.sides.values()];
  }

  add(c: RegisteredCluster): void {
    const log = this.deps.log.child({ cluster: c.name });
    void this.remove(c.name); // a changed Secret: the old connection goes
    const resolver = createTargetResolver(c.kc, { log });
    const check = async (): Promise<string | undefined> => {
      try {
        await waitForApiServer(c.kc, REACH_TIMEOUT_MS);
        return undefined;
      } catch (err) {
        return `cluster "${c.name}" (${c.server}) is unreachable: ${(err as Error).message}; only its runs are held up`;
      }
    };
    const executor = this.deps.makeExecutor({ name: c.name, check, known: () => [LOCAL_CLUSTER, ...this.names()] }, c.kc, resolver, this.deps.safetyFor(c.name));
    const revertLoop = this.deps.makeRevertLoop(c.name, c.kc);
    // Whatever a dead controller left in this cluster goes first, then every second as for the local one.
    void revertLoop.pass().catch((err: unknown) => log.error({ err }, 'start-up revert pass failed; the revert loop retries'));
    revertLoop.start();
    this.sides.set(c.name, { name: c.name, server: c.server, kc: c.kc, resolver, executor, revertLoop });
  }

  async remove(name: string): Promise<void> {
    const side = this.sides.get(name);
    if (!side) return;
    this.sides.delete(name);
    // Faults still in place there stay in the ledger (named by cluster) until it is registered again.
    await side.revertLoop.stop();
    side.resolver.close();
  }

  async close(): Promise<void> {
    this.registry?.close();
    await Promise.all(this.names().map((n) => this.remove(n)));
  }
}

/** The cluster a run or plan row is for. */
export const clusterOf = (target: { cluster?: string }): string => target.cluster ?? LOCAL_CLUSTER;

/**
 * Sends each run to its cluster's executor. A run naming a cluster that is not registered goes to
 * the local executor, which refuses it before touching anything ("not registered").
 */
export function routingExecutor(local: RunExecutor, clusters: ClusterSet): ActiveRunExecutor {
  const pick = (job: RunJobData): RunExecutor => {
    const name = clusterOf(job.spec.spec.target);
    return (name === LOCAL_CLUSTER ? undefined : clusters.get(name)?.executor) ?? local;
  };
  return {
    execute: (job: RunJobData, signal: AbortSignal): Promise<RunRecord> => pick(job).execute(job, signal),
    active: () => [local, ...clusters.all().map((s) => s.executor)].flatMap((e) => (e as Partial<ActiveRunExecutor>).active?.() ?? []),
  };
}

/** A resolver for a cluster that is not registered: it finds nothing (the plan says why). */
export const NO_CLUSTER: TargetResolver = {
  resolve: (_t, seed): ResolvedTargets => ({ seed, candidates: 0, pods: [], refs: [], workloads: [], blastRadius: [] }),
  namespaceLabels: () => undefined,
  ready: () => Promise.resolve(),
  close: () => undefined,
};
