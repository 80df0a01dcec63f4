// Slack: Block Kit messages for run started / succeeded / failed / aborted / blocked by a guard.
// With a bot token: one message per run (chat.postMessage), edited in place as the run moves
// (chat.update), and the final summary as a single thread reply. With only an incoming webhook:
// one message when the run ends. Never blocks a run: onRunUpdate only enqueues. The run's end (the
// final edit, the summary, the webhook message) is one delivery per run, durable when the
// controller gives a DurableDeliveries; edits while the run moves are best effort, in process.
import type { Redis } from 'ioredis';
import type { RunJobData, RunListener, RunRecord } from '../runs/types.js';
import { silentLogger, type Logger } from '../log.js';
import { HttpError, classifyHttpError, withRetry } from '../hosts/retry.js';
import type { RetryOptions } from '../hosts/types.js';
import { MemoryDeliveries, NotifyQueue, type Deliveries } from './queue.js';

export interface SlackMessageRef {
  channel: string; // channel id as Slack returned it
  ts: string;
  summarised?: boolean; // the final summary is in the thread
}

/** Where the message of each run is remembered so later updates edit it (memory or Redis). */
export interface SlackMessageStore {
  get(runId: string): Promise<SlackMessageRef | undefined>;
  set(runId: string, ref: SlackMessageRef): Promise<void>;
}

export function memoryMessageStore(limit = 10_000): SlackMessageStore {
  const map = new Map<string, SlackMessageRef>();
  return {
    async get(runId) {
      return map.get(runId);
    },
    async set(runId, ref) {
      map.set(runId, ref);
      if (map.size > limit) map.delete(map.keys().next().value as string);
    },
  };
}

/** Shared across replicas: a run worked on another replica still edits the same message. */
export function redisMessageStore(redis: Redis, prefix: string, ttlSeconds = 7 * 24 * 3600): SlackMessageStore {
  const key = (runId: string) => `${prefix}:slack:msg:${runId}`;
  return {
    async get(runId) {
      const raw = await redis.get(key(runId));
      return raw ? (JSON.parse(raw) as SlackMessageRef) : undefined;
    },
    async set(runId, ref) {
      await redis.set(key(runId), JSON.stringify(ref), 'EX', ttlSeconds);
    },
  };
}

export interface SlackOptions {
  botToken?: string;
  webhookUrl?: string;
  defaultChannel?: string;
  apiUrl?: string; // default https://slack.com/api
  dashboardUrl?: string; // links "open run" to `${dashboardUrl}/runs/<id>`
  minIntervalMs?: number; // per channel, default 1000 (Slack allows ~1 message/s/channel)
  retry?: RetryOptions; // default 3 attempts, 10 s timeout per call
  store?: SlackMessageStore;
  queue?: NotifyQueue; // progress edits
  deliveries?: Deliveries; // the run's end; default in-process (lost on restart)
  logger?: Logger;
}

interface FinalDelivery {
  record: RunRecord;
  channel?: string;
}

export type RunEvent = 'started' | 'progress' | 'succeeded' | 'failed' | 'aborted' | 'blocked';

const TERMINAL = new Set(['Succeeded', 'Failed', 'Aborted']);

/** What a run record means to a person. Blocked = ended by a guard before injecting anything. */
export function runEvent(record: RunRecord): RunEvent {
  if (TERMINAL.has(record.state)) {
    const guardFailed = record.guards.some((g) => !g.ok);
    if (guardFailed && record.outcome !== 'succeeded' && record.targets.length === 0) return 'blocked';
    return record.outcome ?? (record.state.toLowerCase() as RunEvent);
  }
  return record.state === 'Pending' || record.state === 'Validating' ? 'started' : 'progress';
}

const ICON: Record<RunEvent, string> = {
  started: ':hourglass_flowing_sand:',
  progress: ':zap:',
  succeeded: ':white_check_mark:',
  failed: ':x:',
  aborted: ':octagonal_sign:',
  blocked: ':no_entry:',
};

function headline(record: RunRecord): string {
  const ev = runEvent(record);
  const what: Record<RunEvent, string> = {
    started: 'started',
    progress: record.state.toLowerCase(),
    succeeded: 'succeeded',
    failed: 'failed',
    aborted: 'aborted',
    blocked: 'blocked by a guard',
  };
  return `${ICON[ev]} ${record.experiment}: ${what[ev]}`;
}

function mrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export type Block = Record<string, unknown>;

export function runBlocks(record: RunRecord, dashboardUrl?: string): { text: string; blocks: Block[] } {
  const text = headline(record);
  const hit = record.blastRadius.map((b) => `${b.workload} ${b.hit}/${b.ready} (${Math.round(b.percent)}%)`).join(', ') || '—';
  const fields = [
    `*Fault*\n${record.faultType}`,
    `*State*\n${record.state}`,
    `*Targets*\n${record.targets.length}`,
    `*Blast radius*\n${mrkdwn(hit)}`,
    `*Revision*\n\`${record.revision.slice(0, 12)}\``,
    `*Trigger*\n${record.trigger}`,
  ];
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: text.replace(/:[a-z_]+: /, '').slice(0, 150), emoji: true } },
    { type: 'section', fields: fields.map((f) => ({ type: 'mrkdwn', text: f })) },
  ];
  const failedGuards = record.guards.filter((g) => !g.ok);
  if (record.reason || failedGuards.length) {
    const lines = [...failedGuards.map((g) => `:no_entry: *${g.guard}*: ${mrkdwn(g.reason)}`), ...(record.reason ? [`*Reason:* ${mrkdwn(record.reason)}`] : [])];
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, 2900) } });
  }
  const ctx = [`run \`${record.id}\``, `file \`${mrkdwn(record.file)}\``];
  if (dashboardUrl) ctx.push(`<${dashboardUrl.replace(/\/$/, '')}/runs/${encodeURIComponent(record.id)}|open run>`);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: ctx.join(' · ') }] });
  return { text, blocks };
}

/** The final summary, as a thread reply: probes, recovery, timing. */
export function summaryBlocks(record: RunRecord): { text: string; blocks: Block[] } {
  const probes = record.probes.map((p) => `${p.ok ? ':large_green_circle:' : ':red_circle:'} ${mrkdwn(p.name)} (${p.phase}): ${p.checks - p.failures}/${p.checks} ok${p.lastError ? ` — ${mrkdwn(p.lastError)}` : ''}`);
  const secs = record.startedAt && record.endedAt ? Math.round((Date.parse(record.endedAt) - Date.parse(record.startedAt)) / 1000) : undefined;
  const lines = [
    `*Outcome:* ${record.outcome ?? record.state}${secs !== undefined ? ` after ${secs}s` : ''}`,
    ...(record.recoveryMs !== undefined ? [`*Recovery:* ${(record.recoveryMs / 1000).toFixed(1)}s back to ready`] : []),
    ...(record.targets.length ? [`*Targets hit:* ${record.targets.slice(0, 10).map((t) => `\`${t.namespace ? `${t.namespace}/` : ''}${t.name}\``).join(', ')}${record.targets.length > 10 ? ` +${record.targets.length - 10}` : ''}`] : []),
    ...(probes.length ? ['*Probes:*', ...probes] : []),
  ];
  const text = lines.join('\n').slice(0, 2900);
  return { text: `${record.experiment} ${record.outcome ?? record.state}: summary`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

interface RunState {
  latest: RunRecord;
  channel: string;
  dirty: boolean;
  lastSent?: string; // the state last shown in Slack
}

export class SlackNotifier implements RunListener {
  private readonly api: string;
  private readonly store: SlackMessageStore;
  readonly queue: NotifyQueue;
  readonly deliveries: Deliveries;
  private readonly runs = new Map<string, RunState>();
  private readonly nextSlot = new Map<string, number>();
  private readonly finished = new Set<string>();
  private readonly log: Logger;
  private readonly retry: RetryOptions;

  constructor(private readonly opts: SlackOptions) {
    if (!opts.botToken && !opts.webhookUrl) throw new Error('slack needs a bot token or an incoming-webhook URL');
    this.api = (opts.apiUrl ?? 'https://slack.com/api').replace(/\/$/, '');
    this.store = opts.store ?? memoryMessageStore();
    this.log = (opts.logger ?? silentLogger).child({ component: 'slack' });
    this.queue = opts.queue ?? new NotifyQueue({ logger: this.log });
    this.deliveries = opts.deliveries ?? new MemoryDeliveries({ logger: this.log });
    this.retry = { attempts: 3, timeoutMs: 10_000, baseDelayMs: 1000, maxDelayMs: 30_000, ...opts.retry };
    if (opts.botToken) this.deliveries.register('slack.final', 'slack', (data) => this.deliverFinal(data as FinalDelivery));
    else this.deliveries.register('slack.webhook', 'slack', (data) => this.postWebhook(data as FinalDelivery));
  }

  /** Enqueues and returns at once: Slack being slow or down never holds a run. */
  onRunUpdate(record: RunRecord, job: RunJobData): void {
    const channel = job.spec?.spec?.notify?.slack?.channel ?? this.opts.defaultChannel;
    const terminal = TERMINAL.has(record.state);
    if (!this.opts.botToken) {
      // Incoming webhook: one message, at the end.
      if (terminal) this.deliveries.send('slack.webhook', record.id, { record, channel } satisfies FinalDelivery, `webhook message for run ${record.id}`);
      return;
    }
    if (!channel) return; // nowhere to post
    if (this.finished.has(record.id)) return;
    if (terminal) {
      this.remember(record.id);
      this.runs.delete(record.id);
      this.deliveries.send('slack.final', record.id, { record, channel } satisfies FinalDelivery, `slack message for run ${record.id}`);
      return;
    }
    const state = this.runs.get(record.id);
    if (state) {
      state.latest = record;
      if (state.dirty) return; // a send is queued; it will pick up this newest record
      if (state.lastSent === record.state) return; // nothing new to show
      state.dirty = true;
    } else {
      this.runs.set(record.id, { latest: record, channel, dirty: true });
    }
    this.queue.push(`slack:${record.id}`, 'slack', `slack message for run ${record.id}`, () => this.flushRun(record.id));
  }

  private remember(runId: string): void {
    this.finished.add(runId);
    if (this.finished.size > 10_000) this.finished.delete(this.finished.values().next().value as string);
  }

  // Progress: edit the run's message to its newest state (best effort).
  private async flushRun(runId: string): Promise<void> {
    const state = this.runs.get(runId);
    if (!state) return;
    while (state.dirty && !this.finished.has(runId)) {
      state.dirty = false;
      const record = state.latest;
      if (state.lastSent === record.state) continue;
      await this.show(runId, record, state.channel);
      state.lastSent = record.state;
    }
  }

  // The run's end: the message shows the outcome and the thread gets one summary. Safe to
  // repeat (a retry or a redelivery after a restart): the summary is marked in the store.
  private async deliverFinal({ record, channel }: FinalDelivery): Promise<void> {
    await this.queue.after(`slack:${record.id}`); // a progress post in flight lands first
    const ref = await this.show(record.id, record, channel ?? this.opts.defaultChannel ?? '');
    if (ref.summarised) return;
    await this.call('chat.postMessage', ref.channel, { channel: ref.channel, thread_ts: ref.ts, ...summaryBlocks(record) });
    await this.store.set(record.id, { ...ref, summarised: true });
  }

  private async show(runId: string, record: RunRecord, channel: string): Promise<SlackMessageRef> {
    const msg = runBlocks(record, this.opts.dashboardUrl);
    const ref = await this.store.get(runId);
    if (ref) {
      await this.call('chat.update', ref.channel, { channel: ref.channel, ts: ref.ts, ...msg });
      return ref;
    }
    const res = await this.call('chat.postMessage', channel, { channel, ...msg, unfurl_links: false });
    const made = { channel: res.channel ?? channel, ts: res.ts! };
    await this.store.set(runId, made);
    return made;
  }

  private async postWebhook({ record, channel }: FinalDelivery): Promise<void> {
    const msg = runBlocks(record, this.opts.dashboardUrl);
    const summary = summaryBlocks(record);
    await this.rateLimit(channel ?? 'webhook');
    await withRetry(
      async (signal) => {
        const res = await fetch(this.opts.webhookUrl!, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: msg.text, blocks: [...msg.blocks, ...summary.blocks] }),
          signal,
        });
        const body = await res.text();
        if (!res.ok) throw new HttpError(res.status, Object.fromEntries(res.headers.entries()), `slack webhook: ${res.status} ${body.slice(0, 100)}`);
      },
      classifyHttpError,
      this.retry,
    );
  }

  private async call(method: string, channel: string, body: Record<string, unknown>): Promise<{ ts?: string; channel?: string }> {
    await this.rateLimit(channel);
    return withRetry(
      async (signal) => {
        const res = await fetch(`${this.api}/${method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${this.opts.botToken}` },
          body: JSON.stringify(body),
          signal,
        });
        const headers = Object.fromEntries(res.headers.entries());
        const text = await res.text();
        if (!res.ok) throw new HttpError(res.status, headers, `slack ${method}: ${res.status} ${text.slice(0, 100)}`);
        const data = JSON.parse(text) as { ok: boolean; error?: string; ts?: string; channel?: string };
        if (!data.ok) {
          // `ratelimited` may come as a 200 with ok:false; anything else (channel_not_found,
          // invalid_auth) will not get better by retrying.
          throw new HttpError(data.error === 'ratelimited' ? 429 : 400, headers, `slack ${method}: ${data.error ?? 'not ok'}`);
        }
        return data;
      },
      classifyHttpError,
      this.retry,
    );
  }

  // At most one message per channel per minIntervalMs.
  private async rateLimit(channel: string): Promise<void> {
    const gap = this.opts.minIntervalMs ?? 1000;
    const now = Date.now();
    const at = Math.max(now, this.nextSlot.get(channel) ?? 0);
    this.nextSlot.set(channel, at + gap);
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
  }

  /** For shutdown and tests: resolves when every queued message was sent or given up (durable retries stay queued). */
  async idle(): Promise<void> {
    await this.queue.idle();
    await this.deliveries.idle();
  }
}
