// After a workflow run ends: a sticky comment (one per workflow, hidden marker) on the pull
// request that brought its revision in, with each step's outcome, the assertions, the score and
// links to the run's timeline and the trend pictures on the status branch.
import type { GitHost } from '../hosts/types.js';
import { silentLogger, type Logger } from '../log.js';
import type { WorkflowRunRecord } from '../workflows/run-types.js';
import { workflowStatusPath, workflowTimelinePath } from './git-status.js';
import { MemoryDeliveries, type Deliveries } from './queue.js';
import { memoryNewestStore, type NewestRunStore } from './run-result.js';

const TERMINAL = new Set(['Succeeded', 'Failed', 'Aborted']);

export function workflowMarker(workflow: string): string {
  return `<!-- faultline:workflow:${workflow} -->`;
}

/** Web address of a file on a branch, for the hosts whose layout is known; undefined otherwise. */
export function branchFileUrl(repoUrl: string, hostKind: string, branch: string, path: string): string | undefined {
  const m = /^(https?:\/\/[^/]+\/.+?)(?:\.git)?\/?$/.exec(repoUrl);
  if (!m) return undefined;
  const base = m[1]!.replace(/\/\/[^@/]+@/, '//'); // never a credential in a link
  const ref = `${branch.split('/').map(encodeURIComponent).join('/')}/${path}`;
  if (hostKind === 'github') return `${base}/blob/${ref}`;
  if (hostKind === 'gitlab') return `${base}/-/blob/${ref}`;
  if (hostKind === 'gitea') return `${base}/src/branch/${ref}`;
  return undefined;
}

const clean = (s: string) => s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface WorkflowCommentLinks {
  timeline?: string;
  trend?: string;
  record?: string;
}

export function renderWorkflowComment(r: WorkflowRunRecord, links: WorkflowCommentLinks = {}): string {
  const icon = r.phase === 'Succeeded' ? '✅' : r.phase === 'Failed' ? '❌' : '🛑';
  const lines = [
    workflowMarker(r.workflow),
    `### ${icon} Faultline workflow \`${r.workflow}\`: ${r.phase}${r.score ? ` · resilience score ${r.score.value}` : ''}`,
    '',
    `Run \`${r.id}\`: ${r.startedAt ?? '—'} → ${r.endedAt ?? '—'}, ${Math.min(r.currentStep, r.totalSteps)}/${r.totalSteps} steps done (${Math.round(r.progress * 100)}%).`,
  ];
  if (r.reason) lines.push('', `**Reason:** ${clean(r.reason)}`);
  lines.push('', '| Step | Kind | Phase | Started | Ended | Note |', '|---|---|---|---|---|---|');
  for (const s of r.steps) {
    const depth = s.path.split('/').length - 2;
    const note = [s.continueOnFailure ? 'continueOnFailure' : '', s.reason ? clean(s.reason) : ''].filter(Boolean).join('; ');
    lines.push(`| ${'&nbsp;&nbsp;↳ '.repeat(depth)}\`${s.name}\` | ${s.kind} | ${s.phase} | ${s.startedAt ?? '—'} | ${s.endedAt ?? '—'} | ${note || '—'} |`);
  }
  if (r.assertions.length) {
    const byName = new Map<string, { ok: number; all: number; last: (typeof r.assertions)[number] }>();
    for (const a of r.assertions) {
      const e = byName.get(a.name) ?? { ok: 0, all: 0, last: a };
      e.all++;
      if (a.ok) e.ok++;
      e.last = a;
      byName.set(a.name, e);
    }
    lines.push('', '| Assertion | Passed | Last value |', '|---|---|---|');
    for (const [name, e] of byName) lines.push(`| \`${name}\` | ${e.ok}/${e.all} | ${e.last.value ?? 'n/a'} ${e.last.operator} ${e.last.threshold} |`);
  }
  if (r.score) lines.push('', `Score ${r.score.value} = ${r.score.parts.map((p) => `${p.name} ${p.value} × ${p.weight}`).join(' + ')} (weights normalised; README "Resilience score").`);
  const shown = [links.timeline ? `[timeline of this run](${links.timeline})` : '', links.trend ? `[score and recovery trend](${links.trend})` : '', links.record ? `[run records](${links.record})` : ''].filter(Boolean);
  if (shown.length) lines.push('', `Pictures on the status branch: ${shown.join(' · ')}`);
  lines.push('', `<sub>Spec \`${r.specHash.slice(0, 12)}\` at \`${r.revision.slice(0, 12)}\`, ${r.trigger} run. This comment shows the latest run of this workflow.</sub>`);
  return lines.join('\n');
}

export interface WorkflowResultReporterOptions {
  host: GitHost;
  repoUrl: string;
  statusBranch: string;
  statusFolder?: string;
  deliveries?: Deliveries; // default in-process
  newest?: NewestRunStore; // which run a workflow's sticky comment shows
  logger?: Logger;
}

/** WorkflowListener: finished runs get their sticky comment on the pull request of their revision. */
export class WorkflowResultReporter {
  private readonly deliveries: Deliveries;
  private readonly newest: NewestRunStore;
  private readonly log: Logger;

  constructor(private readonly opts: WorkflowResultReporterOptions) {
    this.log = (opts.logger ?? silentLogger).child({ component: 'workflow-result', host: opts.host.kind });
    this.deliveries = opts.deliveries ?? new MemoryDeliveries({ logger: this.log });
    this.newest = opts.newest ?? memoryNewestStore();
    this.deliveries.register('workflow-comment', opts.host.kind, (data) => this.deliver(data as WorkflowRunRecord));
  }

  onWorkflowUpdate(record: WorkflowRunRecord): void {
    if (!TERMINAL.has(record.phase)) return;
    this.deliveries.send('workflow-comment', record.id, record, `workflow comment for ${record.id}`, `workflow-comment:${record.workflow}`);
  }

  private async deliver(r: WorkflowRunRecord): Promise<void> {
    const { host } = this.opts;
    const pr = await host.findPullRequestForCommit(r.revision);
    if (pr === undefined) {
      this.log.debug({ workflow: r.workflow, runId: r.id, revision: r.revision }, 'no pull request for this revision; no workflow comment');
      return;
    }
    if (!(await this.newest.claim(`workflow:${r.workflow}`, `${r.endedAt ?? r.createdAt}|${r.id}`))) return;
    const url = (path: string) => branchFileUrl(this.opts.repoUrl, host.kind, this.opts.statusBranch, path);
    const record = workflowStatusPath(r.workflow, this.opts.statusFolder);
    const links: WorkflowCommentLinks = {};
    const timeline = url(workflowTimelinePath(r.workflow, r.id, this.opts.statusFolder));
    const trend = url(record.replace(/\.yaml$/, '.trend.svg'));
    const file = url(record);
    if (timeline) links.timeline = timeline;
    if (trend) links.trend = trend;
    if (file) links.record = file;
    await host.upsertComment(pr, workflowMarker(r.workflow), renderWorkflowComment(r, links));
  }

  idle(): Promise<void> {
    return this.deliveries.idle();
  }
}
