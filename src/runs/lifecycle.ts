// The run's one owner outside the executor: the RunRecord constructor and the only way to end a
// run the executor could not finish itself (its controller died, it was never started). Every
// ending carries a reason code next to its message and goes through the state machine: the run
// moves through Reverting to its terminal state, and a run already terminal is never rewritten
// (a re-delivery after the revert loop ended it is a no-op).
import type { Logger } from '../log.js';
import type { Ending } from './reasons.js';
import { isTerminal, resumeRun, startRun, toReverting, transition } from './state.js';
import type { RunJobData, RunListener, RunRecord, RunStore } from './types.js';

/** The one RunRecord constructor: a fresh Pending record for a job. */
export function newRunRecord(job: Pick<RunJobData, 'runId' | 'experiment' | 'file' | 'specHash' | 'revision' | 'trigger'> & { spec?: RunJobData['spec'] }, faultType: RunRecord['faultType'] | undefined, at = new Date()): RunRecord {
  return {
    id: job.runId, experiment: job.experiment, file: job.file, specHash: job.specHash, revision: job.revision,
    faultType: faultType ?? job.spec!.spec.fault.type, trigger: job.trigger, state: 'Pending', createdAt: at.toISOString(),
    targets: [], blastRadius: [], guards: [], probes: [], timeline: [],
  };
}

const TERMINAL = { failed: 'Failed', aborted: 'Aborted', succeeded: 'Succeeded' } as const;

/**
 * Ends a run outside the executor: the stored record (or a new one for the job) moves through
 * Reverting to the ending's state. Returns undefined when the run had already ended or nothing
 * is known about it.
 */
export async function endRunOutside(store: RunStore | undefined, job: RunJobData | undefined, runId: string, ending: Ending, at = new Date()): Promise<RunRecord | undefined> {
  const previous = await store?.get(runId);
  if (previous && isTerminal(previous.state)) return undefined;
  if (!previous && !job) return undefined; // nothing known about the run: nothing to end
  const record: RunRecord = previous ? { ...previous, timeline: [...previous.timeline] } : newRunRecord(job!, undefined, at);
  const message = ending.reason ?? ending.code;
  const live = previous?.timeline.length ? resumeRun(record) : startRun(record, `queued by ${record.trigger} at revision ${record.revision.slice(0, 12)}`, at);
  const reverting = toReverting(live, message, at);
  transition(reverting, TERMINAL[ending.outcome], message, at);
  record.outcome = ending.outcome;
  if (ending.reason) record.reason = ending.reason;
  record.reasonCode = ending.code;
  record.endedAt = at.toISOString();
  record.timeline[record.timeline.length - 1]!.code = ending.code;
  await store?.save(record);
  return record;
}

/** Where the runs stage reports records: the store and the listeners (status branch, notifications, metrics). */
export interface RunReporting {
  store?: RunStore;
  listeners?: RunListener[];
  log: Logger;
}

/** Tells every listener about a record; a failing listener is logged, never thrown. */
export async function tellListeners(listeners: RunListener[] | undefined, record: RunRecord, job: RunJobData, log: Logger): Promise<void> {
  for (const l of listeners ?? []) {
    try {
      await l.onRunUpdate(record, job);
    } catch (err) {
      log.error({ err: (err as Error).message, runId: record.id, experiment: record.experiment }, 'run listener failed');
    }
  }
}

/**
 * Ends a run the executor did not finish (orphaned by a dead controller, re-delivered, never
 * started): through the state machine, saved, and told to the listeners once. Returns the
 * ended record, or undefined when it had already ended.
 */
export async function endRun(to: RunReporting, job: RunJobData | undefined, runId: string, ending: Ending, at = new Date()): Promise<RunRecord | undefined> {
  const record = await endRunOutside(to.store, job, runId, ending, at);
  if (!record) return undefined;
  const forListeners = job ?? ({ runId, experiment: record.experiment, file: record.file, specHash: record.specHash, revision: record.revision, occurrence: 'once', trigger: record.trigger } as RunJobData);
  await tellListeners(to.listeners, record, forListeners, to.log);
  to.log.info({ runId, experiment: record.experiment, state: record.state, code: ending.code }, `run ${record.state}: ${record.reason ?? ending.code}`);
  return record;
}
