// Safety guards: pure functions of the experiment, the resolved targets and the live cluster
// facts. Each guard gives one verdict with a plain reason. An experiment file can only tighten
// the controller's limits, never loosen them; protected namespaces come from controller config only.
import type { PdbStatus, ResolvedTargets } from '../cluster/types.js';
import type { ControllerConfig } from '../config/types.js';
import { faultDefinition, POD_SECURITY_LABEL, type PodSecurityLevel } from '../experiments/faults.js';
import type { FaultType, LoadedExperiment } from '../experiments/model.js';
import type { BlastRadius, GuardVerdict } from '../runs/types.js';
import { desiredHealthy, disruptionsAllowed } from './pdb.js';
import { describeWindow, inWindow } from './windows.js';

export type SafetyConfig = ControllerConfig['safety'] & {
  ownNamespace: string;
  /** Where the caps come from when not the global config (`cluster east`: clusters.east.safety). */
  capSource?: { maxTargets?: string; maxBlastRadiusPercent?: string };
};

export interface GuardInput {
  experiment: LoadedExperiment;
  targets: ResolvedTargets;
  /** Labels of the target namespace; undefined when it does not exist. */
  namespaceLabels: Record<string, string> | undefined;
  /** Budgets selecting any chosen pod (TargetResolver.disruptionBudgets). */
  pdbs: PdbStatus[];
  config: SafetyConfig;
  now: Date;
  /** `.faultline/freeze` present in the repository. */
  freeze: boolean;
  /** The kill switch (`faultline abort --all`, POST /api/abort) is set. */
  killSwitch?: boolean;
  /** Live run state, known just before injection; absent at plan time (then no lock/concurrency verdicts). */
  active?: { runs: number; lockedWorkloads: string[] };
  /** The cluster the targets are in (lock keys are per cluster); absent: the local one. */
  cluster?: string;
}

/** The key of a workload lock: `namespace/Kind/name`. */
export function workloadLockKey(namespace: string, workload: string, cluster?: string): string {
  // Locks are per cluster: the same workload name in two clusters is two workloads. The local
  // cluster keeps the plain key (unchanged for single-cluster users).
  return cluster && cluster !== 'in-cluster' ? `@${cluster}/${namespace}/${workload}` : `${namespace}/${workload}`;
}

/** Protected namespaces: the configured list plus, always, the controller's own namespace. */
export function protectedNamespaces(config: SafetyConfig): string[] {
  return [...new Set([...config.protectedNamespaces, config.ownNamespace])];
}

/**
 * What the fault really takes away per workload: by default the chosen pods; a fault declares its
 * own rule (scale-down: ready − replicas of each owning workload; http-fault: its traffic share).
 */
export function effectiveBlastRadius(experiment: LoadedExperiment, targets: ResolvedTargets): BlastRadius[] {
  const { fault } = experiment.experiment.spec;
  const rule = faultDefinition(fault.type)?.blastRadius;
  return rule ? rule(fault.params, targets.blastRadius) : targets.blastRadius;
}

function pct(n: number): string {
  return `${Math.round(n * 100) / 100}%`;
}

export function evaluateGuards(input: GuardInput): GuardVerdict[] {
  const { experiment, targets, config } = input;
  const spec = experiment.experiment.spec;
  const ns = spec.target.namespace;
  const out: GuardVerdict[] = [];
  const add = (guard: string, ok: boolean, reason: string): void => {
    out.push({ guard, ok, reason });
  };

  add('kill-switch', !input.killSwitch, input.killSwitch ? 'the kill switch is set (faultline abort --all); nothing starts until it is cleared' : 'kill switch not set');
  add('freeze-file', !input.freeze, input.freeze ? 'the repository has .faultline/freeze; nothing starts until it is removed' : 'no .faultline/freeze in the repository');

  const freezing = config.freezeWindows.find((w) => inWindow(w, input.now));
  add('freeze-window', !freezing, freezing ? `inside freeze window ${describeWindow(freezing)}` : config.freezeWindows.length ? 'outside every freeze window' : 'no freeze windows configured');

  if (config.allowedWindows.length === 0) add('time-window', true, 'no allowed windows configured: any time');
  else {
    const open = config.allowedWindows.find((w) => inWindow(w, input.now));
    add('time-window', !!open, open ? `inside allowed window ${describeWindow(open)}` : `outside the allowed windows (${config.allowedWindows.map(describeWindow).join('; ')})`);
  }

  const prot = protectedNamespaces(config);
  const isProtected = prot.includes(ns);
  // A fault that reaches pods of other namespaces (partition peers) is refused when any is protected.
  const peers = [...new Set(faultDefinition(spec.fault.type)?.peerNamespaces?.(spec.fault.params, ns) ?? [])].filter((p) => p !== ns);
  const protectedPeers = peers.filter((p) => prot.includes(p));
  if (isProtected) add('protected-namespace', false, `namespace ${ns} is protected (protected: ${prot.join(', ')})`);
  else if (protectedPeers.length) add('protected-namespace', false, `peer namespace ${protectedPeers.join(', ')} is protected (protected: ${prot.join(', ')}): a fault aimed at its pods is refused as one in it is`);
  else add('protected-namespace', true, peers.length ? `namespace ${ns} and peer namespace ${peers.join(', ')} are not protected` : `namespace ${ns} is not protected`);

  const { key, value } = config.optInLabel;
  if (!input.namespaceLabels) add('opt-in', false, `namespace ${ns} does not exist`);
  else {
    const ok = input.namespaceLabels[key] === value;
    add('opt-in', ok, ok ? `namespace ${ns} has ${key}=${value}` : `namespace ${ns} lacks the opt-in label ${key}=${value}`);
  }

  const podSecurity = podSecurityVerdict(spec.fault.type, ns, input.namespaceLabels);
  if (podSecurity) add('pod-security', podSecurity.ok, podSecurity.reason);

  const chosen = targets.pods.length;
  if (targets.candidates === 0) add('no-targets', false, `no ready pods in ${ns} match the selector`);
  else add('no-targets', chosen > 0, chosen > 0 ? `${chosen} of ${targets.candidates} matching ready pods chosen` : `mode chose 0 of ${targets.candidates} matching pods`);

  const expMax = spec.safety?.maxTargets;
  const maxTargets = Math.min(config.maxTargets, expMax ?? Infinity);
  const maxSrc = maxTargets < config.maxTargets ? 'experiment' : (config.capSource?.maxTargets ?? 'controller');
  add('max-targets', chosen <= maxTargets, `${chosen} target${chosen === 1 ? '' : 's'} ${chosen <= maxTargets ? '<=' : '>'} ${maxTargets} (${maxSrc} cap)`);

  const expCap = spec.safety?.maxBlastRadiusPercent;
  const cap = Math.min(config.maxBlastRadiusPercent, expCap ?? Infinity);
  const capSrc = cap < config.maxBlastRadiusPercent ? 'experiment' : (config.capSource?.maxBlastRadiusPercent ?? 'controller');
  const radius = effectiveBlastRadius(experiment, targets);
  if (radius.length === 0) add('blast-radius', targets.candidates > 0, targets.candidates > 0 ? 'no workload hit' : 'nothing to measure: no targets');
  else {
    const over = radius.filter((b) => b.percent > cap);
    const list = (bs: BlastRadius[]): string => bs.map((b) => `${b.workload} ${b.hit}/${b.ready} ready (${pct(b.percent)})`).join(', ');
    add('blast-radius', over.length === 0, over.length ? `${list(over)} over the ${pct(cap)} cap (${capSrc})` : `${list(radius)} within the ${pct(cap)} cap (${capSrc})`);
  }

  const disruption = faultDefinition(spec.fault.type)?.disruption;
  if (disruption && 'exempt' in disruption) add('pdb', true, disruption.exempt);
  else if (input.pdbs.length === 0) add('pdb', true, 'no PodDisruptionBudget selects the targets');
  else {
    const totalEffective = radius.reduce((n, b) => n + b.hit, 0);
    const verdicts = input.pdbs.map((p) => {
      const hit = disruption ? disruption.hit(p, totalEffective) : p.hit;
      const allowed = disruptionsAllowed(p);
      return { p, hit, allowed, ok: hit <= allowed };
    });
    const bad = verdicts.filter((v) => !v.ok);
    const say = (v: (typeof verdicts)[number]): string =>
      `${v.p.name}: ${v.p.healthy} healthy, needs ${desiredHealthy(v.p)}, allows ${v.allowed} disruption${v.allowed === 1 ? '' : 's'}, run takes ${v.hit}`;
    add('pdb', bad.length === 0, (bad.length ? bad : verdicts).map(say).join('; '));
  }

  if (input.active) {
    const full = input.active.runs >= config.maxConcurrentRuns;
    add('concurrency', !full, `${input.active.runs} run${input.active.runs === 1 ? '' : 's'} active, cap ${config.maxConcurrentRuns}`);
    const locked = new Set(input.active.lockedWorkloads);
    const mine = targets.workloads.map((w) => workloadLockKey(w.namespace, w.workload, input.cluster));
    const taken = mine.filter((k) => locked.has(k));
    add('lock', taken.length === 0, taken.length ? `workload ${taken.join(', ')} is locked by another run` : 'no target workload is locked');
  }
  return out;
}

export function allowed(verdicts: GuardVerdict[]): boolean {
  return verdicts.every((v) => v.ok);
}

const STRICTNESS: Record<PodSecurityLevel, number> = { privileged: 0, baseline: 1, restricted: 2 };

/**
 * Would Pod Security admission let the fault's injector into the namespace? Read from the
 * namespace's enforce label, as the API server does (403 otherwise); undefined for API faults.
 */
export function podSecurityVerdict(type: FaultType, ns: string, labels: Record<string, string> | undefined): { ok: boolean; reason: string } | undefined {
  const needs = faultDefinition(type)?.injector;
  if (!needs || !labels) return undefined;
  const what = `the ${type} injector needs "${needs.podSecurity}" (${needs.runAsUser === 0 ? 'root' : 'non-root'}${needs.capabilities.length ? `, adds ${needs.capabilities.join(', ')}` : ', no capabilities'})`;
  const level = labels[POD_SECURITY_LABEL];
  if (level === undefined) return { ok: true, reason: `namespace ${ns} has no ${POD_SECURITY_LABEL} label (the cluster default applies); ${what}` };
  if (!(level in STRICTNESS)) return { ok: true, reason: `namespace ${ns} has ${POD_SECURITY_LABEL}=${level}, which is not a level; ${what}` };
  const ok = STRICTNESS[level as PodSecurityLevel] <= STRICTNESS[needs.podSecurity];
  return ok
    ? { ok, reason: `namespace ${ns} enforces Pod Security "${level}"; ${what}` }
    : { ok, reason: `namespace ${ns} enforces Pod Security "${level}": the API server would refuse the injector (403); ${what}` };
}
