// The run executor: one run end to end, always reverting what it injected, as named phases
// (RUN_PHASES): acquire → before-probes → inject → hold, then ALWAYS revert → recover.
//   acquire:       live targets from the resolver (seeded, seed recorded), every guard re-checked,
//                  global slot + per-workload locks taken (Validating).
//   before-probes: steady state holds before anything changes (Validating).
//   inject:        driver.prepare → ledger write → driver.inject → confirm → Kubernetes Events
//                  (Injecting), then Running.
//   hold:          the experiment duration; during-probes, the abort signal, the kill switch and
//                  the freeze flag can all end it early.
//   revert:        driver.revert with retries → ledger removal, or handed to the revert loop;
//                  locks and slot released (Reverting).
//   recover:       recovery time and after-probes; then the terminal state with its reason code.
// Each ending comes from REASONS (code next to message). A RunRecord is saved and listeners are
// told at every transition.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import { emitEvent, randomSeed } from '../cluster/index.js';
import type { ResolvedTargets, TargetResolver } from '../cluster/types.js';
import { parseDuration } from '../experiments/duration.js';
import type { LoadedExperiment } from '../experiments/model.js';
import { DEFAULT_START_TIMEOUT_MS, FAULT_CATALOG, FAULT_DRIVERS } from '../faults/index.js';
import type { FaultContext, Injection } from '../faults/types.js';
import type { Logger } from '../log.js';
import { createProbe, measureRecovery, ProbeRunner, sleep, type RecoveryResult } from '../probes/index.js';
import { evaluateGuards, SafetyState, seedFromSpecHash, workloadLockKey, type SafetyConfig } from '../safety/index.js';
import { revertAttempts } from '../metrics.js';
import { LOCAL_CLUSTER } from '../cluster/registry.js';
import { startHeartbeat, type Heartbeat } from './heartbeat.js';
import { FaultLedger } from './ledger.js';
import { newRunRecord } from './lifecycle.js';
import { startRun, transition, type Run } from './state.js';
import { REASONS, type Ending } from './reasons.js';
import type { ReasonCode, RunExecutor, RunJobData, RunListener, RunRecord, RunStore, TargetRef } from './types.js';

export interface RunExecutorDeps {
  kc: KubeConfig;
  resolver: TargetResolver;
  redis: Redis;
  prefix: string;
  safety: SafetyConfig;
  /** Default: new SafetyState(redis, { prefix, maxConcurrentRuns: safety.maxConcurrentRuns }). */
  safetyState?: SafetyState;
  injectorImage: string;
  /** How long in-pod injectors may take to confirm the fault (default 2 min). */
  injectorStartTimeoutMs?: number;
  /** In-pod faults may target hostNetwork pods (default false). */
  allowHostNetwork?: boolean;
  runStore?: RunStore;
  listeners?: RunListener[];
  log: Logger;
  /** The Git freeze file `.faultline/freeze` is present. */
  isFrozen(): Promise<boolean>;
  /** Seed for target choice; default: derived from the spec hash for one-off runs (same pods as the plan), random otherwise. */
  seed?: (job: RunJobData) => number;
  /** How long to wait for workloads to get back to their pre-run ready count (default 5 min). */
  recoveryTimeoutMs?: number;
  /** How long a run waits for a busy workload lock or run slot before failing with that reason (default 0: at once). */
  lockWaitMs?: number;
  /** How often the kill switch and freeze flag are polled while Running (default 500 ms). */
  stopCheckMs?: number;
  fetch?: typeof fetch; // for probes: the controller's egress-guarded fetch
  exposeResponses?: boolean; // probe errors may quote responses (egress.exposeResponses)
  /** How long the executor retries a failing revert (with backoff) before handing it to the revert loop (default 60 s). */
  revertRetryMs?: number;
  /** Aborted when the process must go (shutdown bound): a failing revert is handed over at once. */
  handover?: AbortSignal;
  /** Aborted on shutdown: after the revert, recovery is not waited for and after-probes are skipped. */
  shutdown?: AbortSignal;
  now?: () => Date;
  /**
   * Several clusters: the cluster this executor injects into (default the local one). A job whose
   * spec.target.cluster names another cluster is refused; `check` tells whether it answers now.
   */
  cluster?: ExecutorCluster;
}

export interface ExecutorCluster {
  name: string;
  /** Why the cluster cannot take a run now (unreachable), or undefined. */
  check?(): Promise<string | undefined>;
  /** The registered clusters' names, for the "not registered" message. */
  known?(): string[];
}

export interface ActiveRunExecutor extends RunExecutor {
  /** Run ids executing in this process right now (for sweepOrphans' isLive). */
  active(): string[];
}

type End = Ending;
type Live = Run<'Validating'> | Run<'Injecting'> | Run<'Running'>;

/** The run's phases in order; every run goes through revert and recover whatever ended it. */
export const RUN_PHASES = ['acquire', 'before-probes', 'inject', 'hold', 'revert', 'recover'] as const;
export type RunPhase = (typeof RUN_PHASES)[number];

const LOCK_MARGIN_MS = 10 * 60_000;
// Refusals that end on their own (another run's lock or slot, a budget spent while a sibling run's
// pods recover): the run waits up to lockWaitMs, re-checking every guard, then fails with the reason.
const WAITABLE_GUARDS: ReadonlySet<string> = new Set(['lock', 'concurrency', 'pdb']);
const MAX_EVENTS = 50;

export function createRunExecutor(deps: RunExecutorDeps): ActiveRunExecutor {
  const ledger = new FaultLedger(deps.redis, deps.prefix);
  const safetyState = deps.safetyState ?? new SafetyState(deps.redis, { prefix: deps.prefix, maxConcurrentRuns: deps.safety.maxConcurrentRuns });
  const active = new Set<string>();
  const stops = stopWatch(safetyState, deps);
  const now = () => deps.now?.() ?? new Date();

  async function execute(job: RunJobData, signal: AbortSignal): Promise<RunRecord> {
    const log = deps.log.child({ experiment: job.experiment, runId: job.runId });
    const spec = job.spec.spec;
    const record: RunRecord = newRunRecord(job, spec.fault.type, now());
    if (spec.target.cluster && spec.target.cluster !== LOCAL_CLUSTER) record.cluster = spec.target.cluster;
    const publish = async (): Promise<void> => {
      const snapshot = structuredClone(record);
      try {
        await deps.runStore?.save(snapshot);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'could not save run record');
      }
      for (const l of deps.listeners ?? []) {
        try {
          await l.onRunUpdate(snapshot, job);
        } catch (err) {
          log.error({ err: (err as Error).message }, 'run listener failed');
        }
      }
      log.info({ state: record.state, message: record.timeline[record.timeline.length - 1]?.message }, `run ${record.state}`);
    };

    const pending = startRun(record, `queued by ${job.trigger} at revision ${job.revision.slice(0, 12)}`, now());
    await publish();
    active.add(job.runId);

    // First cause wins: external abort, a failing during-probe, the kill switch or the freeze.
    const stop = new AbortController();
    let stopCause: End | undefined;
    const stopWith = (end: End) => {
      if (stop.signal.aborted) return;
      stopCause = end;
      stop.abort(new Error(end.reason));
    };
    const reasonOf = (s: AbortSignal) => (s.reason instanceof Error ? s.reason.message : String(s.reason ?? 'abort requested'));
    // The abort's Error may carry a reason code (ShuttingDown from the controller's shutdown).
    const onAbort = () => stopWith(REASONS.aborted(reasonOf(signal), (signal.reason as { code?: ReasonCode } | undefined)?.code));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });

    const validating = transition(pending, 'Validating', 'resolving live targets and re-checking every guard', now());
    let current: Live = validating;
    await publish();

    const driver = FAULT_DRIVERS[spec.fault.type];
    const fault = FAULT_CATALOG[spec.fault.type];
    let targets: ResolvedTargets | undefined;
    let injection: Injection | undefined;
    let heartbeat: Heartbeat | undefined;
    let slotTaken = false;
    let lockKeys: string[] = [];
    let probes: ProbeRunner | undefined;
    let instantRecovery: Promise<RecoveryResult> | undefined;
    const recoveryStop = new AbortController();
    let end: End;
    // A workflow step locks with its workflow run's id: the workflow holds its workloads for the
    // whole run (its parallel steps share them) and releases them at its end.
    const lockToken = job.workflow?.runId ?? job.runId;

    let durationMs = 0;
    let reverted = false;
    let reverting: Run<'Reverting'> | undefined;

    // The phases, in order (as Flux's reconcile() steps). acquire: live targets, every guard, the
    // run slot and the workload locks (waiting its turn up to lockWaitMs). before-probes: steady
    // state holds. inject: prepare, ledger, apply, confirm, Events; then Running. hold: the
    // duration, ended early by an abort, a failing during-probe, the kill switch or the freeze.
    // revert: ALWAYS, with retries, else handed to the revert loop; locks released. recover: the
    // workloads' recovery time and the after-probes. Each of the first four may end the run.
    const acquire = async (): Promise<End | undefined> => {
      if (stop.signal.aborted) return stopCause!;
      durationMs = parseDuration(spec.duration);
      // Several clusters: only runs for this executor's cluster, and only while it answers.
      const here = deps.cluster?.name ?? LOCAL_CLUSTER;
      const wanted = spec.target.cluster ?? LOCAL_CLUSTER;
      if (wanted !== here) {
        const known = deps.cluster?.known?.() ?? [here];
        return REASONS.clusterUnavailable(`${job.file}: spec.target.cluster: cluster "${wanted}" is not registered (registered: ${known.join(', ')})`);
      }
      const down = await deps.cluster?.check?.();
      if (down) return REASONS.clusterUnavailable(down);
      await deps.resolver.ready();
      const seed = deps.seed?.(job) ?? (job.occurrence === 'once' ? seedFromSpecHash(job.specHash) : randomSeed());
      record.seed = seed;
      // A run that finds its workload locked or every slot taken waits its turn (up to
      // lockWaitMs), re-resolving and re-checking everything each time; then it fails with the reason.
      const waitUntil = Date.now() + (deps.lockWaitMs ?? 0);
      let waitingLogged = false;
      const busy = async (reason: string): Promise<boolean> => {
        if (Date.now() >= waitUntil) return false;
        if (!waitingLogged) {
          waitingLogged = true;
          record.timeline.push({ at: now().toISOString(), state: 'Validating', message: `waiting: ${reason}` });
          await publish();
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 1000);
          stop.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
        });
        return !stop.signal.aborted;
      };
      for (;;) {
        targets = deps.resolver.resolve(spec.target, seed);
        record.targets = targets.refs;
        record.blastRadius = targets.blastRadius;

        const loaded: LoadedExperiment = { experiment: job.spec, file: job.file, documentIndex: 0, line: 1, specHash: job.specHash, durationMs };
        // Only this run's own workloads and the slot count: a fixed number of round trips per
        // run, however many runs are live (a scan of every lock per run was O(runs²) at 1,000).
        const mine = targets.workloads.map((w) => workloadLockKey(w.namespace, w.workload, deps.cluster?.name));
        const [freeze, killSwitch, others, locked] = await Promise.all([
          deps.isFrozen(), safetyState.isKillSwitchSet(), safetyState.activeRunCount(job.runId), safetyState.lockedAmong(mine, job.workflow ? lockToken : undefined),
        ]);
        const guards = evaluateGuards({
          experiment: loaded, targets, namespaceLabels: deps.resolver.namespaceLabels(spec.target.namespace),
          pdbs: deps.resolver.disruptionBudgets?.(spec.target.namespace, targets.pods) ?? [],
          config: deps.safety, now: now(), freeze, killSwitch,
          active: { runs: others, lockedWorkloads: locked }, cluster: deps.cluster?.name,
        });
        record.guards = guards;
        const refused = guards.filter((g) => !g.ok);
        const refusal = REASONS.guardRefused(refused.map((g) => `${g.guard}: ${g.reason}`).join('; '));
        if (refused.length && refused.every((g) => WAITABLE_GUARDS.has(g.guard)) && (await busy(refusal.reason))) continue;
        if (stop.signal.aborted) return stopCause!;
        if (refused.length) return refusal;

        const ttl = durationMs + LOCK_MARGIN_MS;
        if (!(await safetyState.acquireSlot(job.runId, ttl))) {
          const why = REASONS.slotsTaken(deps.safety.maxConcurrentRuns);
          if (await busy(why.reason)) continue;
          return stopCause ?? why;
        }
        slotTaken = true;
        const keys = targets.workloads.map((w) => workloadLockKey(w.namespace, w.workload, deps.cluster?.name));
        for (const k of fault.lockKeys?.(spec.fault.params) ?? []) keys.push(workloadLockKey(spec.target.namespace, k, deps.cluster?.name));
        const lock = await safetyState.lockWorkloads(keys, lockToken, ttl);
        if (!lock.ok) {
          await safetyState.releaseSlot(job.runId);
          slotTaken = false;
          const why = REASONS.workloadLocked(String(lock.heldBy));
          if (await busy(why.reason)) continue;
          return stopCause ?? why;
        }
        lockKeys = keys;
        break;
      }
      return undefined;
    };

    const beforeProbes = async (): Promise<End | undefined> => {
      probes = new ProbeRunner((spec.steadyState?.probes ?? []).map((p) => createProbe(p, { kc: deps.kc, fetch: deps.fetch, exposeResponses: deps.exposeResponses })), { log });
      const before = await probes.before(stop.signal);
      record.probes.push(...before.summaries);
      if (stop.signal.aborted) return stopCause!;
      if (!before.ok) return REASONS.beforeProbeFailed(before.reason ?? 'before-probes failed');
      return undefined;
    };

    const inject = async (): Promise<End | undefined> => {
      const injecting = transition(validating, 'Injecting', `injecting ${spec.fault.type} into ${targets!.refs.length} target(s)`, now());
      current = injecting;
      record.startedAt = now().toISOString();
      await publish();
      const ctx: FaultContext = {
        kc: deps.kc, runId: job.runId, experiment: job.experiment, params: spec.fault.params, durationMs, targets: targets!,
        injectorImage: deps.injectorImage, log, namespace: spec.target.namespace,
        startTimeoutMs: deps.injectorStartTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, allowHostNetwork: deps.allowHostNetwork ?? false,
      };
      // Live from here until reverted: without this heartbeat the revert loop undoes the fault.
      heartbeat = await startHeartbeat(deps.redis, deps.prefix, job.runId, log);
      const prepared = await driver.prepare(ctx);
      // The ledger entry names its cluster: a revert after a crash goes to the right one.
      if (deps.cluster && deps.cluster.name !== LOCAL_CLUSTER) prepared.cluster = deps.cluster.name;
      await ledger.write(prepared); // before anything changes in the cluster
      injection = prepared;
      if (prepared.note) {
        record.timeline.push({ at: now().toISOString(), state: 'Injecting', message: prepared.note });
        log.info({ note: prepared.note }, 'injection prepared');
      }
      const injectedAt = Date.now();
      await driver.inject(ctx, prepared);
      if (driver.confirm) {
        // Running only once every target confirms; otherwise revert (below) and fail with each target's error.
        const outcomes = await driver.confirm(ctx, prepared, { timeoutMs: ctx.startTimeoutMs!, signal: stop.signal });
        if (stop.signal.aborted) return stopCause!;
        const failed = outcomes.filter((o) => !o.ok);
        if (failed.length) {
          return REASONS.notInPlace(failed.map((o) => `${o.target}: ${o.message}`), outcomes.length);
        }
      }
      await events(prepared.touched, 'ChaosInjected', `Faultline ${spec.fault.type} (experiment ${job.experiment}, run ${job.runId})`, 'Warning', job, log);
      if (fault.instant) {
        // The fault is over once injected: the recovery clock starts now, polled in the background.
        instantRecovery = measureRecovery({
          kc: deps.kc, workloads: targets!.workloads, since: injectedAt, timeoutMs: deps.recoveryTimeoutMs ?? 300_000,
          signal: recoveryStop.signal,
          // Replaced pods must be gone before their workload counts as recovered.
          gone: fault.instant.replacesPods ? targets!.pods.map((p) => ({ namespace: p.namespace, name: p.name, uid: p.uid })) : [],
        });
      }

      const running = transition(injecting, 'Running', `fault active for ${spec.duration}`, now());
      current = running;
      await publish();
      return undefined;
    };

    const hold = async (): Promise<End> => {
      const during = probes!.during((reason) => stopWith(REASONS.steadyStateLost(reason)));
      // The kill switch and the freeze flag, read once per interval for every live run of this
      // process (not once per run: 1,000 live runs would poll Redis 4,000 times a second).
      const unwatch = stops.watch(stopWith);
      const timer = new AbortController();
      try {
        await sleep(durationMs, AbortSignal.any([stop.signal, timer.signal]));
      } finally {
        timer.abort();
        unwatch();
        // Ran the full duration (stopCause stays unset: nothing went wrong).
        if (!stop.signal.aborted) stop.abort(new Error('duration over'));
        record.probes.push(...(await during.stop()));
      }
      return stopCause ?? REASONS.durationOver();
    };

    const revert = async (): Promise<void> => {
      // Reverting: every path comes through here.
      reverting = transition(current, 'Reverting', injection ? `reverting: ${end.reason ?? 'duration over'}` : `nothing injected: ${end.reason ?? 'no fault'}`, now());
      await publish();
      if (injection) {
        const r = await revertWithRetry(injection, log);
        if (r.ok) {
          reverted = true;
          await events(injection.touched, 'ChaosReverted', `Faultline reverted ${spec.fault.type} (run ${job.runId})`, 'Normal', job, log);
        } else {
          end = REASONS.revertHandedOver(r.error, end.reason);
        }
      }
      // Reverted, or handed over: either way the revert loop may now act on this run.
      await heartbeat?.stop();
      try {
        if (lockKeys.length && !job.workflow) await safetyState.releaseWorkloads(lockKeys, job.runId);
        if (slotTaken) await safetyState.releaseSlot(job.runId);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'could not release locks/slot (they expire)');
      }
    };

    const recover = async (): Promise<void> => {
      const onShutdown = () => recoveryStop.abort();
      deps.shutdown?.addEventListener('abort', onShutdown, { once: true });
      if (injection && reverted && targets && deps.shutdown?.aborted) {
        log.warn('controller shutting down: recovery not measured, after-probes skipped');
      } else if (injection && reverted && targets) {
        const recovery = instantRecovery ?? measureRecovery({
          kc: deps.kc, workloads: targets.workloads, since: Date.now(), timeoutMs: deps.recoveryTimeoutMs ?? 300_000, signal: recoveryStop.signal,
        });
        const r = await recovery;
        if (r.recovered) record.recoveryMs = r.recoveryMs;
        else log.warn({ pending: r.pending }, 'workloads did not recover to their pre-run ready count in time');
        if (probes) record.probes.push(...(await probes.after()));
      }
      recoveryStop.abort();
      deps.shutdown?.removeEventListener('abort', onShutdown);
    };

    const phase = async <T>(name: RunPhase, fn: () => Promise<T>): Promise<T> => {
      log.debug({ phase: name, state: record.state }, `phase ${name}`);
      return fn();
    };
    try {
      end =
        (await phase('acquire', acquire)) ??
        (await phase('before-probes', beforeProbes)) ??
        (await phase('inject', inject)) ??
        (await phase('hold', hold));
    } catch (err) {
      log.error({ err: (err as Error).message }, 'run failed');
      end = stopCause ?? REASONS.error((err as Error).message, injection !== undefined);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }

    await phase('revert', revert);
    await phase('recover', recover);

    record.outcome = end.outcome;
    if (end.reason) record.reason = end.reason;
    record.endedAt = now().toISOString();
    const message = end.reason ?? (record.recoveryMs !== undefined ? `reverted; recovered in ${record.recoveryMs}ms` : 'reverted');
    if (end.outcome === 'succeeded') transition(reverting!, 'Succeeded', message, now());
    else if (end.outcome === 'aborted') transition(reverting!, 'Aborted', message, now());
    else transition(reverting!, 'Failed', message, now());
    record.reasonCode = end.code;
    record.timeline[record.timeline.length - 1]!.code = end.code;
    await publish();
    active.delete(job.runId);
    return record;
  }

  /** Reverts with backoff (250 ms doubling, at most 4 s apart) until it works, the retry window ends or the process must go. */
  async function revertWithRetry(injection: Injection, log: Logger): Promise<{ ok: true } | { ok: false; error: string }> {
    const driver = FAULT_DRIVERS[injection.fault];
    const until = Date.now() + (deps.revertRetryMs ?? 60_000);
    for (let attempt = 1; ; attempt++) {
      try {
        await driver.revert(deps.kc, injection, log);
        revertAttempts.inc({ by: 'executor', result: 'ok' });
        await ledger.remove(injection.runId).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not drop the ledger entry (the revert loop will find the fault reverted)'));
        return { ok: true };
      } catch (err) {
        revertAttempts.inc({ by: 'executor', result: 'error' });
        const error = (err as Error).message;
        const delay = Math.min(250 * 2 ** attempt, 4000);
        if (Date.now() + delay > until || deps.handover?.aborted) {
          log.error({ err: error, attempts: attempt }, 'revert failed; handing it to the revert loop');
          return { ok: false, error };
        }
        log.warn({ err: error, attempt, retryInMs: delay }, 'revert failed; retrying');
        await sleep(delay, deps.handover);
      }
    }
  }

  async function events(refs: TargetRef[], reason: string, message: string, type: 'Normal' | 'Warning', job: RunJobData, log: Logger): Promise<void> {
    for (const ref of refs.slice(0, MAX_EVENTS)) {
      await emitEvent(deps.kc, { involved: ref, reason, message, type, runId: job.runId, experiment: job.experiment, log });
    }
  }

  return { execute, active: () => [...active] };
}

/**
 * One poll of the kill switch and the freeze flag (every stopCheckMs, default 500 ms) shared by
 * every run holding its fault in this process; it runs only while some run watches.
 */
function stopWatch(safetyState: SafetyState, deps: Pick<RunExecutorDeps, 'isFrozen' | 'stopCheckMs' | 'log'>): { watch(onStop: (end: Ending) => void): () => void } {
  const watchers = new Set<(end: Ending) => void>();
  let polling = false;
  const poll = async () => {
    polling = true;
    try {
      while (watchers.size > 0) {
        await sleep(deps.stopCheckMs ?? 500);
        if (watchers.size === 0) break;
        try {
          const ks = await safetyState.killSwitch();
          const end = ks ? REASONS.killSwitch(ks.reason) : (await deps.isFrozen()) ? REASONS.frozenWhileRunning() : undefined;
          if (end) for (const w of [...watchers]) w(end);
        } catch (err) {
          deps.log.warn({ err: (err as Error).message, runs: watchers.size }, 'could not read the kill switch');
        }
      }
    } finally {
      polling = false;
    }
  };
  return {
    watch(onStop) {
      watchers.add(onStop);
      if (!polling) void poll();
      return () => void watchers.delete(onStop);
    },
  };
}
