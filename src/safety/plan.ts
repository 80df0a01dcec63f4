// One plan row per experiment: what it would hit right now and what every guard says. The same
// function serves `faultline plan` and the pull-request plan, so they can never disagree.
import type { TargetResolver } from '../cluster/types.js';
import type { LoadedExperiment } from '../experiments/model.js';
import type { BlastRadius, GuardVerdict, TargetRef } from '../runs/types.js';
import { allowed, effectiveBlastRadius, evaluateGuards, type SafetyConfig } from './guards.js';

export interface PlanRow {
  name: string;
  file: string;
  fault: string;
  namespace: string;
  targets: TargetRef[]; // the pods it would hit now (names, with owning workload)
  candidates: number; // ready pods matching the selector
  blastRadius: BlastRadius[];
  guards: GuardVerdict[];
  allowed: boolean;
  schedule?: string; // cron; absent = once per spec revision
  seed: number;
  /** The cluster it runs in (spec.target.cluster); absent: the local one. */
  cluster?: string;
}

export interface PlanDeps {
  config: SafetyConfig;
  now?: () => Date;
  /** `.faultline/freeze` present. */
  freeze?: boolean;
  killSwitch?: boolean;
  /** Fixed seed for every row; default a seed derived from each spec hash (stable across plans). */
  seed?: number;
  active?: { runs: number; lockedWorkloads: string[] };
  /**
   * Several clusters: the resolver and safety config of each registered cluster. Without it, only
   * the local cluster is known and a row naming another one is refused.
   */
  clusters?: PlanClusters;
}

export interface PlanClusters {
  resolver(name: string): TargetResolver | undefined;
  safety(name: string): SafetyConfig;
  names(): string[];
}

const EMPTY_CLUSTER: TargetResolver = {
  resolve: (_t, seed) => ({ seed, candidates: 0, pods: [], refs: [], workloads: [], blastRadius: [] }),
  namespaceLabels: () => undefined,
  ready: () => Promise.resolve(),
  close: () => undefined,
};

/** A stable seed for an experiment revision: the first 32 bits of its spec hash. */
export function seedFromSpecHash(specHash: string): number {
  const n = Number.parseInt(specHash.slice(0, 8), 16);
  return Number.isFinite(n) ? n >>> 0 : 0;
}

export function planExperiment(loaded: LoadedExperiment, localResolver: TargetResolver, deps: PlanDeps): PlanRow {
  const spec = loaded.experiment.spec;
  // Another cluster: its own cache and caps; one that is not registered finds nothing and is refused.
  const cluster = spec.target.cluster;
  const remote = cluster !== undefined && cluster !== 'in-cluster' ? deps.clusters?.resolver(cluster) : undefined;
  const unknown = cluster !== undefined && cluster !== 'in-cluster' && !remote;
  const resolver = remote ?? (unknown ? EMPTY_CLUSTER : localResolver);
  if (remote && deps.clusters) deps = { ...deps, config: deps.clusters.safety(cluster!) };
  const seed = deps.seed ?? seedFromSpecHash(loaded.specHash);
  const targets = resolver.resolve(spec.target, seed);
  const pdbs = resolver.disruptionBudgets ? resolver.disruptionBudgets(spec.target.namespace, targets.pods) : [];
  const input = {
    experiment: loaded,
    targets,
    namespaceLabels: resolver.namespaceLabels(spec.target.namespace),
    pdbs,
    config: deps.config,
    now: deps.now ? deps.now() : new Date(),
    freeze: deps.freeze ?? false,
    killSwitch: deps.killSwitch ?? false,
    ...(deps.active ? { active: deps.active } : {}),
  };
  const guards = evaluateGuards({ ...input, ...(remote ? { cluster } : {}) });
  if (unknown) {
    const known = ['in-cluster', ...(deps.clusters?.names() ?? [])];
    guards.unshift({ guard: 'cluster', ok: false, reason: `${loaded.file}:${loaded.line}: spec.target.cluster: cluster "${cluster}" is not registered (registered: ${known.join(', ')})` });
  }
  const row: PlanRow = {
    name: loaded.experiment.metadata.name,
    file: loaded.file,
    fault: spec.fault.type,
    namespace: spec.target.namespace,
    targets: targets.refs,
    candidates: targets.candidates,
    blastRadius: effectiveBlastRadius(loaded, targets),
    guards,
    allowed: allowed(guards),
    seed,
  };
  if (spec.schedule) row.schedule = spec.schedule.cron;
  if (cluster !== undefined && cluster !== 'in-cluster') row.cluster = cluster;
  return row;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** A plain-text table, then the targets and the refusal reasons of each row. */
export function formatPlanTable(rows: PlanRow[]): string {
  const head = ['EXPERIMENT', 'FAULT', 'NAMESPACE', 'TARGETS', 'BLAST RADIUS', 'SCHEDULE', 'VERDICT'];
  const body = rows.map((r) => [
    r.cluster ? `${r.name} (cluster ${r.cluster})` : r.name,
    r.fault,
    r.namespace,
    `${r.targets.length}/${r.candidates}`,
    r.blastRadius.length ? r.blastRadius.map((b) => `${b.workload} ${b.hit}/${b.ready} (${Math.round(b.percent)}%)`).join(', ') : '-',
    r.schedule ?? 'once',
    r.allowed ? 'allowed' : `REFUSED (${r.guards.filter((g) => !g.ok).map((g) => g.guard).join(', ')})`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i]!))).join('  ').trimEnd();
  const out = [line(head), ...body.map(line)];
  const details: string[] = [];
  for (const r of rows) {
    const lines: string[] = [];
    if (r.targets.length) lines.push(`  targets (seed ${r.seed}): ${r.targets.map((t) => t.name).join(', ')}`);
    for (const g of r.guards.filter((g) => !g.ok)) lines.push(`  ✗ ${g.guard}: ${g.reason}`);
    if (lines.length) details.push(`${r.name} (${r.file})`, ...lines);
  }
  if (details.length) out.push('', ...details);
  return out.join('\n') + '\n';
}
