// The workflow runner: one ChaosWorkflow run end to end. Steps run in order; a parallel group's
// steps run at once and the group ends when all have; a pause waits; a check runs its probes.
// Fault and experiment steps go through the SAME run executor as experiments (every guard
// re-checked at the last moment, the durable ledger and revert, probes), each making a normal
// RunRecord whose id is the StepRun's runId. The workflow holds the locks of all its workloads
// for its whole run; workflow probes are polled throughout and assertions judged during (a
// failing one aborts: every active step reverts) and after. The record is saved and told to the
// listeners as it goes.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import type { TargetResolver } from '../cluster/types.js';
import { parseDuration } from '../experiments/duration.js';
import type { LoadedExperiment } from '../experiments/model.js';
import { FAULT_CATALOG } from '../faults/index.js';
import type { Logger } from '../log.js';
import { createProbe, queryPrometheus, sleep } from '../probes/index.js';
import { keys } from '../queue/keys.js';
import { startHeartbeat } from '../runs/heartbeat.js';
import type { ReasonCode, RunExecutor, RunJobData, RunListener, RunRecord } from '../runs/types.js';
import { seedFromSpecHash, workloadLockKey, type SafetyState } from '../safety/index.js';
import { stepKind, type Assertion, type LoadedWorkflow, type WorkflowStep } from './model.js';
import type { AssertionSample, StepPhase, StepRun, WorkflowPhase, WorkflowRunRecord } from './run-types.js';
import type { WorkflowRunStore } from './run-store.js';

/** The payload of a job on the `workflows` queue. */
export interface WorkflowJobData {
  runId: string;
  workflow: string;
  file: string;
  specHash: string;
  revision: string;
  occurrence: string; // 'once', the scheduled time, 'manual-<ts>'
  trigger: WorkflowRunRecord['trigger'];
  loaded: LoadedWorkflow;
  /** The experiments its steps name, as loaded when the run was queued. */
  experiments: Record<string, LoadedExperiment>;
}

/** Anything that wants to hear about workflow run progress (status branch, PR comment, metrics). */
export interface WorkflowListener {
  onWorkflowUpdate(record: WorkflowRunRecord): Promise<void> | void;
}

/** Live updates of step runs: the executor's listeners include one of these; the runner watches its steps' run ids. */
export class StepRunWatch implements RunListener {
  private readonly watchers = new Map<string, (r: RunRecord) => void>();
  watch(runId: string, fn: (r: RunRecord) => void): () => void {
    this.watchers.set(runId, fn);
    return () => this.watchers.delete(runId);
  }
  onRunUpdate(record: RunRecord): void {
    this.watchers.get(record.id)?.(record);
  }
}

export interface WorkflowRunnerDeps {
  executor: RunExecutor;
  resolver: TargetResolver;
  /** Several clusters: a registered cluster's resolver (steps with target.cluster lock there). */
  resolverFor?(cluster: string): TargetResolver | undefined;
  safetyState: SafetyState;
  redis: Redis;
  prefix: string;
  store: WorkflowRunStore;
  listeners: WorkflowListener[];
  steps?: StepRunWatch;
  log: Logger;
  kc: KubeConfig;
  fetch?: typeof fetch; // the controller's egress-guarded fetch: URLs from files never reach its own network
  exposeResponses?: boolean;
  isFrozen(): Promise<boolean>;
  /** How long a workflow waits for a workload another run holds before failing (default 0). */
  lockWaitMs?: number;
  stopCheckMs?: number; // kill switch / freeze poll, default 500 ms
  assertionEveryMs?: number; // Prometheus assertions during the run, default 5 s
  now?: () => Date;
}

interface Stop {
  phase: 'Failed' | 'Aborted';
  code: ReasonCode;
  reason: string;
}

export const LOCK_TTL_MS = 120_000; // renewed every 20 s while the run lives; a dead run's locks lapse
const MAX_SAMPLES = 2000;

/** Every step at every level, in start order (a group's steps right after it), all Pending. */
export function pendingSteps(steps: WorkflowStep[], parent: string): StepRun[] {
  return steps.flatMap((s) => {
    const path = `${parent}/${s.name}`;
    const kind = stepKind(s);
    const own: StepRun = { path, name: s.name, kind, phase: 'Pending', continueOnFailure: s.continueOnFailure ?? false };
    return kind === 'parallel' ? [own, ...pendingSteps((s as Extract<WorkflowStep, { parallel: unknown }>).parallel, path)] : [own];
  });
}

/** The step's experiment: inline (as loaded) or the referenced one with the step's duration. */
export function stepExperiment(job: Pick<WorkflowJobData, 'loaded' | 'experiments'>, step: WorkflowStep, path: string): LoadedExperiment | undefined {
  if ('experiment' in step) {
    const ref = job.experiments[step.experiment];
    if (!ref) return undefined;
    if (!step.duration) return ref;
    const experiment = structuredClone(ref.experiment);
    experiment.spec.duration = step.duration;
    return { ...ref, experiment, durationMs: parseDuration(step.duration) };
  }
  return job.loaded.inline[path];
}

function faultSteps(steps: WorkflowStep[], parent: string): { step: WorkflowStep; path: string }[] {
  return steps.flatMap((s) => {
    const path = `${parent}/${s.name}`;
    const kind = stepKind(s);
    if (kind === 'parallel') return faultSteps((s as Extract<WorkflowStep, { parallel: WorkflowStep[] }>).parallel, path);
    return kind === 'fault' || kind === 'experiment' ? [{ step: s, path }] : [];
  });
}

export function compare(value: number, op: Assertion['operator'], threshold: number): boolean {
  if (op === 'gte') return value >= threshold;
  if (op === 'lte') return value <= threshold;
  return Math.abs(value - threshold) < 1e-9;
}

export async function runWorkflow(deps: WorkflowRunnerDeps, job: WorkflowJobData, signal: AbortSignal): Promise<WorkflowRunRecord> {
  const wf = job.loaded.workflow;
  const spec = wf.spec;
  const name = wf.metadata.name;
  const now = () => deps.now?.() ?? new Date();
  const iso = () => now().toISOString();
  const log = deps.log.child({ workflow: name, runId: job.runId });
  const record: WorkflowRunRecord = {
    id: job.runId, workflow: name, file: job.file, specHash: job.specHash, revision: job.revision, trigger: job.trigger,
    phase: 'Pending', createdAt: iso(), currentStep: 0, totalSteps: spec.steps.length, progress: 0,
    steps: pendingSteps(spec.steps, name), assertions: [], probes: [],
  };
  const byPath = new Map(record.steps.map((s) => [s.path, s]));
  const counts = new Map<string, { total: number; passed: number }>(); // workflow probe rounds, for assertions

  // Saves are chained so that concurrent steps never write an older record over a newer one.
  let chain: Promise<void> = Promise.resolve();
  const publish = (message: string, extra: Record<string, unknown> = {}): Promise<void> => {
    const snapshot = structuredClone(record);
    log.info({ phase: record.phase, currentStep: record.currentStep, progress: record.progress, ...extra }, message);
    chain = chain.then(async () => {
      try {
        await deps.store.save(snapshot);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'could not save workflow run record');
      }
      for (const l of deps.listeners) {
        try {
          await l.onWorkflowUpdate(snapshot);
        } catch (err) {
          log.error({ err: (err as Error).message }, 'workflow listener failed');
        }
      }
    });
    return chain;
  };

  // First cause wins: an abort (CLI, API, kill switch, freeze, shutdown) or a failing during-assertion.
  const stop = new AbortController();
  let stopCause: Stop | undefined;
  const stopWith = (s: Stop) => {
    if (stop.signal.aborted) return;
    stopCause = s;
    stop.abort(Object.assign(new Error(s.reason), { code: s.code }));
    if (record.phase === 'Running') {
      record.phase = 'Reverting';
      void publish(`workflow stopping: ${s.reason}; every active step reverts`);
    }
  };
  const onAbort = () => {
    const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'abort requested');
    stopWith({ phase: 'Aborted', code: (signal.reason as { code?: ReasonCode } | undefined)?.code ?? 'Aborted', reason: `aborted: ${reason}` });
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });

  await publish(`workflow run queued by ${job.trigger} at revision ${job.revision.slice(0, 12)}`);
  const heartbeat = await startHeartbeat(deps.redis, keys.workflowHeartbeats(deps.prefix), job.runId, log);
  const background: Promise<void>[] = [];
  const bgStop = new AbortController();
  let renew: NodeJS.Timeout | undefined;
  let failure: Stop | undefined;
  try {
    const locked = await acquire();
    if (locked) failure = locked;
    else if (!stop.signal.aborted) {
      record.phase = 'Running';
      record.startedAt = iso();
      renew = setInterval(() => void renewLocks(), 20_000);
      renew.unref();
      await publish('workflow running', { totalSteps: record.totalSteps });
      background.push(watchStops(), ...(spec.probes ?? []).map((p) => pollProbe(p)), judgeDuring());
      failure = await runTop();
    }
  } catch (err) {
    log.error({ err: (err as Error).message }, 'workflow run failed');
    failure = { phase: 'Failed', code: 'Error', reason: `error: ${(err as Error).message}` };
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  bgStop.abort();
  await Promise.all(background);
  // After-assertions judge the whole run unless it was aborted.
  if (!stopCause && record.startedAt) {
    const after = await judge('after');
    if (!failure && after) failure = after;
  }
  for (const s of record.steps) {
    if (s.phase !== 'Pending') continue;
    s.phase = 'Skipped';
    s.reason = 'not run: the workflow ended before this step';
  }
  if (renew) clearInterval(renew);
  try {
    const held = await deps.safetyState.workloadsHeldBy(job.runId);
    await deps.safetyState.releaseWorkloads(held, job.runId);
  } catch (err) {
    log.error({ err: (err as Error).message }, 'could not release the workflow locks (they expire)');
  }
  await heartbeat.stop();
  const end = stopCause ?? failure;
  record.phase = end?.phase ?? 'Succeeded';
  if (end) {
    record.reason = end.reason;
    record.reasonCode = end.code;
  }
  record.currentStep = record.totalSteps;
  record.endedAt = iso();
  await publish(`workflow ${record.phase}${end ? `: ${end.reason}` : ''}`);
  return record;

  // Locks of every workload the fault steps would hit now (and the faults' own lock keys), all or
  // none, held with the workflow run's id; steps lock with the same id, so they share them.
  async function acquire(): Promise<Stop | undefined> {
    const [ks, frozen] = await Promise.all([deps.safetyState.killSwitch(), deps.isFrozen()]);
    if (ks) return void stopWith({ phase: 'Aborted', code: 'KillSwitch', reason: `aborted: kill switch: ${ks.reason}; workflow not started` });
    if (frozen) return void stopWith({ phase: 'Aborted', code: 'Frozen', reason: 'aborted: the repository has .faultline/freeze; workflow not started' });
    await deps.resolver.ready();
    const lockKeys = new Set<string>();
    for (const { step, path } of faultSteps(spec.steps, name)) {
      const exp = stepExperiment(job, step, path);
      if (!exp) return { phase: 'Failed', code: 'GuardRefused', reason: `step ${path}: its experiment is not in the repository` };
      const s = exp.experiment.spec;
      // A step in another cluster locks its workloads there (keys per cluster); one whose cluster
      // is not registered locks nothing here and is refused by the executor when it starts.
      const resolver = s.target.cluster ? deps.resolverFor?.(s.target.cluster) : deps.resolver;
      if (!resolver) continue;
      if (resolver !== deps.resolver) await resolver.ready();
      for (const w of resolver.resolve(s.target, seedFromSpecHash(exp.specHash)).workloads) lockKeys.add(workloadLockKey(w.namespace, w.workload, s.target.cluster));
      for (const k of FAULT_CATALOG[s.fault.type].lockKeys?.(s.fault.params) ?? []) lockKeys.add(workloadLockKey(s.target.namespace, k, s.target.cluster));
    }
    const until = Date.now() + (deps.lockWaitMs ?? 0);
    let waiting = false;
    for (;;) {
      const lock = await deps.safetyState.lockWorkloads([...lockKeys], job.runId, LOCK_TTL_MS);
      if (lock.ok) return undefined;
      if (Date.now() >= until || stop.signal.aborted) return stop.signal.aborted ? undefined : { phase: 'Failed', code: 'GuardRefused', reason: `refused by safety guards: lock: workload ${lock.heldBy}` };
      if (!waiting) {
        waiting = true;
        await publish(`waiting: workload ${lock.heldBy}`);
      }
      await sleep(1000, stop.signal);
    }
  }

  async function renewLocks(): Promise<void> {
    try {
      const held = await deps.safetyState.workloadsHeldBy(job.runId);
      await deps.safetyState.extendWorkloads(held, job.runId, LOCK_TTL_MS);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not renew the workflow locks');
    }
  }

  async function runTop(): Promise<Stop | undefined> {
    for (let i = 0; i < spec.steps.length; i++) {
      if (stop.signal.aborted) return undefined;
      record.currentStep = i;
      const step = spec.steps[i]!;
      const sr = byPath.get(`${name}/${step.name}`)!;
      const ok = await runStep(step, name, stop.signal);
      record.progress = (i + 1) / spec.steps.length;
      if (!ok && !stop.signal.aborted && !step.continueOnFailure) {
        return { phase: 'Failed', code: sr.reasonCode ?? 'Error', reason: `step ${sr.path} ${sr.phase.toLowerCase()}${sr.reason ? `: ${sr.reason}` : ''}` };
      }
    }
    return undefined;
  }

  async function runStep(step: WorkflowStep, parent: string, parentSignal: AbortSignal): Promise<boolean> {
    const path = `${parent}/${step.name}`;
    const sr = byPath.get(path)!;
    if (parentSignal.aborted) return false; // stays Pending: Skipped at the end
    sr.phase = 'Running';
    sr.startedAt = iso();
    const kind = stepKind(step);
    await publish(`step ${path} started`, { step: path, kind });
    let phase: StepPhase;
    if (kind === 'pause') {
      await sleep(parseDuration((step as Extract<WorkflowStep, { pause: string }>).pause), parentSignal);
      phase = parentSignal.aborted ? 'Aborted' : 'Succeeded';
    } else if (kind === 'check') {
      phase = await runCheck(step as Extract<WorkflowStep, { check: unknown }>, sr, parentSignal);
    } else if (kind === 'parallel') {
      phase = await runParallel((step as Extract<WorkflowStep, { parallel: WorkflowStep[] }>).parallel, path, sr, parentSignal);
    } else {
      phase = await runFault(step, path, sr, parentSignal);
    }
    if (phase === 'Aborted' && !sr.reason) sr.reason = reasonOf(parentSignal);
    sr.phase = phase;
    sr.endedAt = iso();
    await publish(`step ${path} ${phase}${sr.reason ? `: ${sr.reason}` : ''}`, { step: path, kind, stepRunId: sr.runId });
    return phase === 'Succeeded';
  }

  async function runParallel(children: WorkflowStep[], path: string, sr: StepRun, parentSignal: AbortSignal): Promise<StepPhase> {
    // A failing step (without continueOnFailure) ends its siblings too: they revert.
    const group = new AbortController();
    const groupSignal = AbortSignal.any([parentSignal, group.signal]);
    const failed: string[] = [];
    const results = await Promise.all(children.map(async (c) => {
      const ok = await runStep(c, path, groupSignal);
      if (!ok && !c.continueOnFailure && !groupSignal.aborted) {
        failed.push(`${path}/${c.name}`);
        group.abort(Object.assign(new Error(`step ${path}/${c.name} failed`), { code: 'Aborted' }));
      }
      return ok || (c.continueOnFailure ?? false);
    }));
    if (parentSignal.aborted) return 'Aborted';
    if (results.every(Boolean)) return 'Succeeded';
    const first = byPath.get(failed[0] ?? '');
    sr.reason = `step ${failed.join(', ')} failed${first?.reason ? `: ${first.reason}` : ''}`;
    if (first?.reasonCode) sr.reasonCode = first.reasonCode;
    return 'Failed';
  }

  async function runFault(step: WorkflowStep, path: string, sr: StepRun, stepSignal: AbortSignal): Promise<StepPhase> {
    const exp = stepExperiment(job, step, path);
    if (!exp) {
      sr.reason = 'its experiment is not in the repository';
      return 'Failed';
    }
    const runId = `${job.runId}.${step.name}`;
    const data: RunJobData = {
      runId, experiment: exp.experiment.metadata.name, file: exp.file, specHash: exp.specHash, revision: job.revision,
      occurrence: job.occurrence, trigger: job.trigger, spec: exp.experiment, workflow: { runId: job.runId, name, step: path },
    };
    sr.runId = runId;
    const unwatch = deps.steps?.watch(runId, (r) => {
      if (faultWindow(sr, r)) void publish(`step ${path}: fault ${r.state === 'Running' ? 'in place' : 'reverted'}`, { step: path, stepRunId: runId });
    });
    let rec: RunRecord;
    try {
      rec = await deps.executor.execute(data, stepSignal);
    } catch (err) {
      sr.reason = `error: ${(err as Error).message}`;
      return 'Failed';
    } finally {
      unwatch?.();
    }
    faultWindow(sr, rec);
    if (rec.reason) sr.reason = rec.reason;
    if (rec.reasonCode) sr.reasonCode = rec.reasonCode;
    sr.probes = rec.probes.map((p) => ({ name: `${p.name} (${p.phase})`, at: rec.endedAt ?? iso(), ok: p.ok, ...(p.lastError ? { error: p.lastError } : {}) }));
    return rec.state === 'Succeeded' ? 'Succeeded' : rec.state === 'Aborted' ? 'Aborted' : 'Failed';
  }

  async function runCheck(step: Extract<WorkflowStep, { check: unknown }>, sr: StepRun, stepSignal: AbortSignal): Promise<StepPhase> {
    const probes = step.check.probes.map((p) => createProbe(p, { kc: deps.kc, fetch: deps.fetch, exposeResponses: deps.exposeResponses }));
    const durationMs = step.duration ? parseDuration(step.duration) : 0;
    const until = Date.now() + durationMs;
    const every = Math.min(...probes.map((p) => parseDuration(p.spec.interval ?? '5s')));
    const fails = new Map<string, number>();
    sr.probes = [];
    for (;;) {
      for (const p of probes) {
        const r = await p.check(stepSignal);
        if (stepSignal.aborted) return 'Aborted';
        sr.probes.push({ name: p.name, at: iso(), ok: r.ok, ...(r.error ? { error: r.error } : {}) });
        if (sr.probes.length > MAX_SAMPLES) sr.probes.shift();
        const n = r.ok ? 0 : (fails.get(p.name) ?? 0) + 1;
        fails.set(p.name, n);
        // One round: any failure fails the check; over a duration: failureThreshold in a row.
        if (n >= (durationMs ? (p.spec.failureThreshold ?? 1) : 1)) {
          sr.reason = `probe ${p.name} failed: ${r.error ?? 'not ok'}`;
          return 'Failed';
        }
      }
      if (Date.now() >= until) return 'Succeeded';
      await sleep(Math.min(every, Math.max(0, until - Date.now())), stepSignal);
      if (stepSignal.aborted) return 'Aborted';
    }
  }

  async function watchStops(): Promise<void> {
    while (!bgStop.signal.aborted) {
      await sleep(deps.stopCheckMs ?? 500, bgStop.signal);
      if (bgStop.signal.aborted) return;
      try {
        const ks = await deps.safetyState.killSwitch();
        if (ks) stopWith({ phase: 'Aborted', code: 'KillSwitch', reason: `aborted: kill switch: ${ks.reason}` });
        else if (await deps.isFrozen()) stopWith({ phase: 'Aborted', code: 'Frozen', reason: 'aborted: the repository has .faultline/freeze' });
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'could not read the kill switch');
      }
    }
  }

  // Workflow probes, each at its interval, for the whole run; probe assertions judged on every round.
  async function pollProbe(p: NonNullable<typeof spec.probes>[number]): Promise<void> {
    const probe = createProbe(p, { kc: deps.kc, fetch: deps.fetch, exposeResponses: deps.exposeResponses });
    const every = parseDuration(p.interval ?? '5s');
    while (!bgStop.signal.aborted) {
      const r = await probe.check(bgStop.signal);
      if (bgStop.signal.aborted) return;
      const c = counts.get(p.name) ?? { total: 0, passed: 0 };
      c.total++;
      if (r.ok) c.passed++;
      counts.set(p.name, c);
      record.probes.push({ name: p.name, at: iso(), ok: r.ok });
      if (record.probes.length > MAX_SAMPLES) record.probes.shift();
      const failedDuring = await judge('during', (a) => a.probe === p.name);
      if (failedDuring) stopWith(failedDuring);
      else if (!r.ok) void publish(`workflow probe ${p.name} failed: ${r.error ?? 'not ok'}`);
      await sleep(every, bgStop.signal);
    }
  }

  async function judgeDuring(): Promise<void> {
    const prom = (spec.assertions ?? []).filter((a) => a.prometheus && a.when !== 'after');
    if (!prom.length) return;
    while (!bgStop.signal.aborted) {
      const failed = await judge('during', (a) => a.prometheus !== undefined);
      if (failed) stopWith(failed);
      await sleep(deps.assertionEveryMs ?? 5000, bgStop.signal);
    }
  }

  /** Evaluates the assertions for `when` (those `filter` keeps); returns the first failure. */
  async function judge(when: 'during' | 'after', filter: (a: Assertion) => boolean = () => true): Promise<Stop | undefined> {
    let first: Stop | undefined;
    for (const a of spec.assertions ?? []) {
      if (!filter(a) || (a.when !== 'always' && a.when !== when && a.when !== undefined)) continue;
      const sample: AssertionSample = { name: a.name, at: iso(), value: null, operator: a.operator, threshold: a.value, ok: false, when };
      if (a.probe) {
        const c = counts.get(a.probe);
        if (!c?.total) {
          if (when === 'during') continue; // nothing to judge yet
          sample.reason = `probe ${a.probe} had no rounds`;
        } else sample.value = c.passed / c.total;
      } else if (a.prometheus) {
        const r = await queryPrometheus(a.prometheus, { fetch: deps.fetch, exposeResponses: deps.exposeResponses });
        if ('error' in r) sample.reason = r.error;
        else sample.value = r.value;
      }
      sample.ok = sample.value !== null && compare(sample.value, a.operator, a.value);
      record.assertions.push(sample);
      if (record.assertions.length > MAX_SAMPLES) record.assertions.shift();
      if (!sample.ok && !first) {
        const what = sample.value === null ? `no value (${sample.reason ?? 'unknown'})` : `${round(sample.value)} is not ${a.operator} ${a.value}`;
        first = { phase: 'Failed', code: 'SteadyStateLost', reason: `assertion ${a.name} failed ${when === 'during' ? 'during the run' : 'after the run'}: ${what}` };
      }
    }
    if (first || when === 'after') await publish(first ? first.reason : 'after-assertions judged', { assertions: record.assertions.length });
    return first;
  }
}

function round(n: number): number {
  return Math.round(n * 10000) / 10000;
}

function reasonOf(s: AbortSignal): string {
  return s.reason instanceof Error ? s.reason.message : String(s.reason ?? 'aborted');
}

/** Fault in place from the run's Running entry until its Reverting entry; true when it changed. */
function faultWindow(sr: StepRun, r: RunRecord): boolean {
  const from = r.timeline.find((t) => t.state === 'Running')?.at;
  if (!from) return false;
  const to = r.timeline.find((t) => t.state === 'Reverting' && t.at >= from)?.at;
  const before = JSON.stringify(sr.faultWindow);
  sr.faultWindow = to ? { from, to } : { from };
  return JSON.stringify(sr.faultWindow) !== before;
}

export type { WorkflowPhase };
