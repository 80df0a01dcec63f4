// The run's one owner outside the executor: the RunRecord constructor and the only way to end a
// run the executor could not finish itself (its controller died, it was never started). Every
// ending carries a reason code next to its message and goes through the state machine's rules:
// a run already terminal is never rewritten (a re-delivery after the revert loop ended it is a no-op).
import { isTerminal } from './state.js';
import type { ReasonCode, RunJobData, RunRecord, RunStore, TerminalRunState } from './types.js';

/** The one RunRecord constructor: a fresh Pending record for a job. */
export function newRunRecord(job: Pick<RunJobData, 'runId' | 'experiment' | 'file' | 'specHash' | 'revision' | 'trigger'> & { spec?: RunJobData['spec'] }, faultType: RunRecord['faultType'] | undefined, at = new Date()): RunRecord {
  return {
    id: job.runId, experiment: job.experiment, file: job.file, specHash: job.specHash, revision: job.revision,
    faultType: faultType ?? job.spec!.spec.fault.type, trigger: job.trigger, state: 'Pending', createdAt: at.toISOString(),
    targets: [], blastRadius: [], guards: [], probes: [], timeline: [],
  };
}

const OUTCOME = { Failed: 'failed', Aborted: 'aborted', Succeeded: 'succeeded' } as const;

/**
 * Ends a run outside the executor: the stored record (or a new one for the job) moves to
 * `state` with `reason` and `code`. Returns undefined when the run had already ended.
 */
export async function endRunOutside(store: RunStore | undefined, job: RunJobData | undefined, runId: string, state: TerminalRunState, code: ReasonCode, reason: string, at = new Date()): Promise<RunRecord | undefined> {
  const previous = await store?.get(runId);
  if (previous && isTerminal(previous.state)) return undefined;
  if (!previous && !job) return undefined; // nothing known about the run: nothing to end
  const record: RunRecord = previous ? { ...previous, timeline: [...previous.timeline] } : newRunRecord(job!, undefined, at);
  const now = at.toISOString();
  record.state = state;
  record.outcome = OUTCOME[state];
  record.reason = reason;
  record.reasonCode = code;
  record.endedAt = now;
  record.timeline.push({ at: now, state, message: reason, code });
  await store?.save(record);
  return record;
}
