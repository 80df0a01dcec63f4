// A generic JSON webhook: POST the run summary when a run ends. One delivery per run (durable when
// the controller gives a DurableDeliveries), retried, never blocking.
import type { RunJobData, RunListener, RunRecord } from '../runs/types.js';
import { silentLogger, type Logger } from '../log.js';
import { HttpError, classifyHttpError, withRetry } from '../hosts/retry.js';
import type { RetryOptions } from '../hosts/types.js';
import { MemoryDeliveries, type Deliveries } from './queue.js';
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
  deliveries?: Deliveries; // default: in-process (lost on restart)
  logger?: Logger;
}

interface WebhookDelivery {
  url: string;
  payload: WebhookPayload;
}

const TERMINAL = new Set(['Succeeded', 'Failed', 'Aborted']);

let guarded: typeof fetch | undefined;
function defaultGuarded(): typeof fetch {
  guarded ??= guardedFetch(new EgressPolicy(DEFAULT_EGRESS)) as typeof fetch;
  return guarded;
}

export class WebhookNotifier implements RunListener {
  readonly deliveries: Deliveries;
  private readonly log: Logger;

  constructor(private readonly opts: WebhookNotifierOptions) {
    this.log = (opts.logger ?? silentLogger).child({ component: 'webhook' });
    this.deliveries = opts.deliveries ?? new MemoryDeliveries({ logger: this.log });
    this.deliveries.register('webhook', 'webhook', (data) => this.deliver(data as WebhookDelivery));
  }

  onRunUpdate(record: RunRecord, job: RunJobData): void {
    if (!TERMINAL.has(record.state)) return;
    const own = this.opts.useExperimentUrls === false ? undefined : job.spec?.spec?.notify?.webhook?.url;
    const url = own ?? this.opts.url;
    if (!url) return;
    const payload: WebhookPayload = { event: 'run.finished', experiment: record.experiment, file: record.file, faultType: record.faultType, run: runSummary(record) };
    this.deliveries.send('webhook', record.id, { url, payload } satisfies WebhookDelivery, `webhook for run ${record.id}`);
  }

  private deliver({ url, payload }: WebhookDelivery): Promise<void> {
    // Only the configured URL is trusted; any other (an experiment's own, or whatever a job in
    // Redis says) goes through the egress policy.
    const send = url === this.opts.url ? fetch : (this.opts.experimentFetch ?? defaultGuarded());
    return withRetry(
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
    );
  }

  idle(): Promise<void> {
    return this.deliveries.idle();
  }
}
