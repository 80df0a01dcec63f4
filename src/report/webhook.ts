// A generic JSON webhook: POST the run summary when a run ends. Queued, retried, never blocking.
import type { RunJobData, RunListener, RunRecord } from '../runs/types.js';
import { silentLogger, type Logger } from '../log.js';
import { HttpError, classifyHttpError, withRetry } from '../hosts/retry.js';
import type { RetryOptions } from '../hosts/types.js';
import { NotifyQueue } from './queue.js';
import { runSummary, type RunSummary } from './git-status.js';
import { DEFAULT_EGRESS, EgressPolicy, EgressRefused, guardedFetch } from '../egress/index.js';

export interface WebhookPayload {
  event: 'run.finished';
  experiment: string;
  file: string;
  faultType: RunRecord['faultType'];
  run: RunSummary;
}

export interface WebhookNotifierOptions {
  url?: string; // default target; an experiment's notify.webhook.url wins when allowed
  useExperimentUrls?: boolean; // default true
  headers?: Record<string, string>;
  /** How experiments' own URLs are fetched: the controller's egress-guarded fetch (default: one with the default policy). */
  experimentFetch?: typeof fetch;
  retry?: RetryOptions;
  queue?: NotifyQueue;
  logger?: Logger;
}

const TERMINAL = new Set(['Succeeded', 'Failed', 'Aborted']);

let guarded: typeof fetch | undefined;
function defaultGuarded(): typeof fetch {
  guarded ??= guardedFetch(new EgressPolicy(DEFAULT_EGRESS)) as typeof fetch;
  return guarded;
}

export class WebhookNotifier implements RunListener {
  readonly queue: NotifyQueue;
  private readonly sent = new Set<string>();
  private readonly log: Logger;

  constructor(private readonly opts: WebhookNotifierOptions) {
    this.log = (opts.logger ?? silentLogger).child({ component: 'webhook' });
    this.queue = opts.queue ?? new NotifyQueue({ logger: this.log });
  }

  onRunUpdate(record: RunRecord, job: RunJobData): void {
    if (!TERMINAL.has(record.state) || this.sent.has(record.id)) return;
    const own = this.opts.useExperimentUrls === false ? undefined : job.spec?.spec?.notify?.webhook?.url;
    const url = own ?? this.opts.url;
    if (!url) return;
    // A URL from a file goes through the egress policy; the configured one is trusted.
    const send = own ? (this.opts.experimentFetch ?? defaultGuarded()) : fetch;
    this.sent.add(record.id);
    if (this.sent.size > 10_000) this.sent.delete(this.sent.values().next().value as string);
    const payload: WebhookPayload = { event: 'run.finished', experiment: record.experiment, file: record.file, faultType: record.faultType, run: runSummary(record) };
    this.queue.push(`webhook:${record.id}`, 'webhook', `webhook for run ${record.id}`, () =>
      withRetry(
        async (signal) => {
          const res = await send(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'user-agent': 'faultline', ...this.opts.headers },
            body: JSON.stringify(payload),
            signal,
          });
          await res.arrayBuffer();
          if (!res.ok) throw new HttpError(res.status, Object.fromEntries(res.headers.entries()), `webhook ${res.status}`);
        },
        (err) => (err instanceof EgressRefused ? { status: 400, headers: {} } : classifyHttpError(err)), // a refusal is final
        { attempts: 3, timeoutMs: 10_000, ...this.opts.retry },
      ),
    );
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }
}
