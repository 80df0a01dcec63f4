// A RunExecutor that injects nothing: it walks the run through its states, records each step in
// a RunStore, and ends Succeeded (or Aborted when the signal fires). It stands in for the real
// fault path until that lands, on the very same queue and worker path, and it drives the tests.
import type { ReasonCode, RunExecutor, RunJobData, RunListener, RunRecord, RunStore } from '../runs/types.js';
import { newRunRecord } from '../runs/lifecycle.js';
import { REASONS } from '../runs/reasons.js';
import { startRun, transition, type Run } from '../runs/state.js';
import { silentLogger, type Logger } from '../log.js';

export interface RecordingExecutorOptions {
  store: RunStore;
  /** How long the run "holds" between Running and Reverting; default 0. */
  holdMs?: number | ((job: RunJobData) => number);
  listeners?: RunListener[];
  log?: Logger;
  now?: () => Date;
}

export class RecordingExecutor implements RunExecutor {
  /** Run ids in the order execute() was entered; tests use it to count executions. */
  readonly started: string[] = [];

  constructor(private readonly opts: RecordingExecutorOptions) {}

  async execute(job: RunJobData, signal: AbortSignal): Promise<RunRecord> {
    this.started.push(job.runId);
    const at = () => this.opts.now?.() ?? new Date();
    const log = (this.opts.log ?? silentLogger).child({ experiment: job.experiment, runId: job.runId });
    // The runs stage's own constructor and state machine: the same records a real run writes.
    const record = newRunRecord(job, job.spec.spec.fault.type, at());
    const publish = async () => {
      await this.opts.store.save(record);
      for (const l of this.opts.listeners ?? []) await l.onRunUpdate(record, job);
      const last = record.timeline[record.timeline.length - 1]!;
      log.info({ state: last.state }, last.message);
    };

    const pending = startRun(record, `queued by ${job.trigger} at revision ${job.revision.slice(0, 12)}`, at());
    await publish();
    const validating = transition(pending, 'Validating', 'recording executor: no guards evaluated', at());
    await publish();
    if (signal.aborted) return this.finishAborted(validating, publish, signal, at);
    record.startedAt = at().toISOString();
    const injecting = transition(validating, 'Injecting', `recording executor: ${record.faultType} not injected (no cluster driver)`, at());
    await publish();
    const running = transition(injecting, 'Running', 'holding for the recorded duration', at());
    await publish();
    const hold = typeof this.opts.holdMs === 'function' ? this.opts.holdMs(job) : (this.opts.holdMs ?? 0);
    await waitOrAbort(hold, signal);
    if (signal.aborted) return this.finishAborted(running, publish, signal, at);
    const reverting = transition(running, 'Reverting', 'nothing to revert', at());
    await publish();
    const ending = REASONS.durationOver();
    record.outcome = ending.outcome;
    record.reasonCode = ending.code;
    record.endedAt = at().toISOString();
    transition(reverting, 'Succeeded', 'run recorded', at());
    record.timeline[record.timeline.length - 1]!.code = ending.code;
    await publish();
    return record;
  }

  private async finishAborted(run: Run<'Validating' | 'Running'>, publish: () => Promise<void>, signal: AbortSignal, at: () => Date): Promise<RunRecord> {
    const why = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted');
    const ending = REASONS.aborted(why, (signal.reason as { code?: ReasonCode } | undefined)?.code);
    const reverting = transition(run, 'Reverting', ending.reason, at());
    await publish();
    const record = reverting.record;
    record.outcome = ending.outcome;
    record.reason = why;
    record.reasonCode = ending.code;
    record.endedAt = record.timeline[record.timeline.length - 1]!.at;
    transition(reverting, 'Aborted', ending.reason, at());
    record.timeline[record.timeline.length - 1]!.code = ending.code;
    await publish();
    return record;
  }
}

function waitOrAbort(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
