// A RunExecutor that injects nothing: it walks the run through its states, records each step in
// a RunStore, and ends Succeeded (or Aborted when the signal fires). It stands in for the real
// fault path until that lands, on the very same queue and worker path, and it drives the tests.
import type { RunExecutor, RunJobData, RunListener, RunRecord, RunState, RunStore } from '../runs/types.js';
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
    const now = () => (this.opts.now?.() ?? new Date()).toISOString();
    const log = (this.opts.log ?? silentLogger).child({ experiment: job.experiment, runId: job.runId });
    const record: RunRecord = {
      id: job.runId,
      experiment: job.experiment,
      file: job.file,
      specHash: job.specHash,
      revision: job.revision,
      faultType: job.spec.spec.fault.type,
      trigger: job.trigger,
      state: 'Pending',
      createdAt: now(),
      targets: [],
      blastRadius: [],
      guards: [],
      probes: [],
      timeline: [],
    };
    const step = async (state: RunState, message: string) => {
      record.state = state;
      record.timeline.push({ at: now(), state, message });
      await this.opts.store.save(record);
      for (const l of this.opts.listeners ?? []) await l.onRunUpdate(record, job);
      log.info({ state }, message);
    };

    await step('Pending', `queued by ${job.trigger} at revision ${job.revision.slice(0, 12)}`);
    await step('Validating', 'recording executor: no guards evaluated');
    if (signal.aborted) return this.finishAborted(record, step, signal);
    record.startedAt = now();
    await step('Injecting', `recording executor: ${record.faultType} not injected (no cluster driver)`);
    await step('Running', 'holding for the recorded duration');
    const hold = typeof this.opts.holdMs === 'function' ? this.opts.holdMs(job) : (this.opts.holdMs ?? 0);
    await waitOrAbort(hold, signal);
    if (signal.aborted) return this.finishAborted(record, step, signal);
    await step('Reverting', 'nothing to revert');
    record.outcome = 'succeeded';
    record.endedAt = now();
    await step('Succeeded', 'run recorded');
    return record;
  }

  private async finishAborted(
    record: RunRecord,
    step: (state: RunState, message: string) => Promise<void>,
    signal: AbortSignal,
  ): Promise<RunRecord> {
    const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted');
    await step('Reverting', `aborted: ${reason}`);
    record.outcome = 'aborted';
    record.reason = reason;
    record.endedAt = record.timeline[record.timeline.length - 1]!.at;
    await step('Aborted', `aborted: ${reason}`);
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
