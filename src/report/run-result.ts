// After a run ends: a commit status on the revision that introduced the spec, and a comment on
// the pull request that brought that revision in. The comment is sticky per experiment (hidden
// marker), so a scheduled experiment edits its comment instead of adding one per run.
import type { Redis } from 'ioredis';
import type { RunJobData, RunListener, RunRecord } from '../runs/types.js';
import { silentLogger, type Logger } from '../log.js';
import type { CommitState, GitHost } from '../hosts/types.js';
import { MemoryDeliveries, type Deliveries } from './queue.js';

export interface RunResultReporterOptions {
  host: GitHost;
  dashboardUrl?: string;
  /** Status context; default `faultline/run/<experiment>` so one revision with several experiments keeps them apart. */
  statusContext?: (record: RunRecord) => string;
  deliveries?: Deliveries; // default: in-process (lost on restart)
  /** Which run each experiment's sticky comment shows; default in memory (the controller shares one in Redis). */
  newest?: NewestRunStore;
  logger?: Logger;
}

/**
 * The newest run per experiment that may write the sticky comment. Durable deliveries retry
 * out of order (a failed older one can come after a newer one): an older run never overwrites.
 */
export interface NewestRunStore {
  /** True when `stamp` is not older than the newest stamp seen for `experiment` (and it is now the newest). */
  claim(experiment: string, stamp: string): Promise<boolean>;
}

export function memoryNewestStore(): NewestRunStore {
  const map = new Map<string, string>();
  return {
    async claim(experiment, stamp) {
      const cur = map.get(experiment);
      if (cur !== undefined && cur > stamp) return false;
      map.set(experiment, stamp);
      return true;
    },
  };
}

const CLAIM = `local cur = redis.call('GET', KEYS[1])
if cur and cur > ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1`;

/** Shared by the replicas: whichever delivers, the comment ends on the newest run. */
export function redisNewestStore(redis: Redis, prefix: string, ttlSeconds = 30 * 24 * 3600): NewestRunStore {
  return {
    async claim(experiment, stamp) {
      return (await redis.eval(CLAIM, 1, `${prefix}:comment:newest:${experiment}`, stamp, String(ttlSeconds))) === 1;
    },
  };
}

/** Orders runs: when they ended (ISO time), then the run id. */
export const runStamp = (record: RunRecord) => `${record.endedAt ?? record.createdAt}|${record.id}`;

interface ResultDelivery {
  record: RunRecord;
  context: string;
}

const TERMINAL = new Set(['Succeeded', 'Failed', 'Aborted']);
const STATE: Record<NonNullable<RunRecord['outcome']>, CommitState> = { succeeded: 'success', failed: 'failure', aborted: 'error' };

export function runMarker(experiment: string): string {
  return `<!-- faultline:run:${experiment} -->`;
}

export function runDescription(record: RunRecord): string {
  const outcome = record.outcome ?? record.state.toLowerCase();
  const reason = record.reason ? `: ${record.reason}` : '';
  return `${record.experiment} ${outcome}${reason}`;
}

export function renderRunComment(record: RunRecord, dashboardUrl?: string): string {
  const icon = record.outcome === 'succeeded' ? '✅' : record.outcome === 'failed' ? '❌' : '🛑';
  const lines = [
    runMarker(record.experiment),
    `### ${icon} Faultline run of \`${record.experiment}\`: ${record.outcome ?? record.state}`,
    '',
    `| Run | Fault | Started | Ended | Targets hit | Blast radius | Recovery |`,
    `|---|---|---|---|---|---|---|`,
    `| \`${record.id}\` | ${record.faultType} | ${record.startedAt ?? '—'} | ${record.endedAt ?? '—'} | ${record.targets.length} | ${
      record.blastRadius.map((b) => `${b.workload} ${b.hit}/${b.ready} (${Math.round(b.percent)}%)`).join('<br>') || '—'
    } | ${record.recoveryMs !== undefined ? `${(record.recoveryMs / 1000).toFixed(1)}s` : '—'} |`,
  ];
  if (record.reason) lines.push('', `**Reason:** ${record.reason.replace(/[<>]/g, '')}`);
  const failedGuards = record.guards.filter((g) => !g.ok);
  if (failedGuards.length) lines.push('', ...failedGuards.map((g) => `- guard \`${g.guard}\`: ${g.reason}`));
  if (record.probes.length) {
    lines.push('', '| Probe | Phase | OK | Checks | Failures |', '|---|---|---|---|---|');
    for (const p of record.probes) lines.push(`| ${p.name} | ${p.phase} | ${p.ok ? '✅' : '❌'} | ${p.checks} | ${p.failures} |`);
  }
  if (dashboardUrl) lines.push('', `[Open the run](${dashboardUrl.replace(/\/$/, '')}/runs/${encodeURIComponent(record.id)})`);
  lines.push('', `<sub>Spec \`${record.specHash.slice(0, 12)}\` at \`${record.revision.slice(0, 12)}\`, ${record.trigger} run. This comment shows the latest run of this experiment.</sub>`);
  return lines.join('\n');
}

export class RunResultReporter implements RunListener {
  readonly deliveries: Deliveries;
  private readonly prOf = new Map<string, number | null>(); // revision → PR (null: none)
  private readonly newest: NewestRunStore;
  private readonly log: Logger;

  constructor(private readonly opts: RunResultReporterOptions) {
    this.log = (opts.logger ?? silentLogger).child({ component: 'run-result', host: opts.host.kind });
    this.deliveries = opts.deliveries ?? new MemoryDeliveries({ logger: this.log });
    this.newest = opts.newest ?? memoryNewestStore();
    this.deliveries.register('status', opts.host.kind, (data) => this.deliverStatus(data as ResultDelivery));
    this.deliveries.register('comment', opts.host.kind, (data) => this.deliverComment(data as ResultDelivery));
  }

  /** Enqueues and returns at once; each run gets one status and one comment delivery. */
  onRunUpdate(record: RunRecord, _job?: RunJobData): void {
    if (!TERMINAL.has(record.state)) return;
    const context = this.opts.statusContext?.(record) ?? `faultline/run/${record.experiment}`;
    const data: ResultDelivery = { record, context };
    this.deliveries.send('status', record.id, data, `run status for ${record.id}`);
    // In process, comments for one experiment go in order, so the sticky comment ends on the newest run.
    this.deliveries.send('comment', record.id, data, `run comment for ${record.id}`, `comment:${record.experiment}`);
  }

  private deliverStatus({ record, context }: ResultDelivery): Promise<void> {
    return this.opts.host.setStatus(record.revision, {
      context,
      state: STATE[record.outcome ?? 'aborted'],
      description: runDescription(record),
      ...(this.opts.dashboardUrl ? { targetUrl: `${this.opts.dashboardUrl.replace(/\/$/, '')}/runs/${encodeURIComponent(record.id)}` } : {}),
    });
  }

  private async deliverComment({ record }: ResultDelivery): Promise<void> {
    const { host } = this.opts;
    let pr = this.prOf.get(record.revision);
    if (pr === undefined) {
      pr = (await host.findPullRequestForCommit(record.revision)) ?? null;
      this.prOf.set(record.revision, pr);
      if (this.prOf.size > 1000) this.prOf.delete(this.prOf.keys().next().value as string);
    }
    if (pr === null) {
      this.log.debug({ revision: record.revision }, 'no pull request for this revision; status only');
      return;
    }
    if (!(await this.newest.claim(record.experiment, runStamp(record)))) {
      this.log.info({ runId: record.id, experiment: record.experiment }, 'a newer run of this experiment has the comment; not overwriting it');
      return;
    }
    await host.upsertComment(pr, runMarker(record.experiment), renderRunComment(record, this.opts.dashboardUrl));
  }

  idle(): Promise<void> {
    return this.deliveries.idle();
  }
}
