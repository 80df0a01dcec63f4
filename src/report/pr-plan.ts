// The pull-request path: validate the changed experiments at the PR head, plan them against the
// live cluster, and tell people where they look — a `faultline/plan` commit status and one
// sticky comment that later pushes edit in place.
import type { LoadResult, LoadedExperiment, Problem } from '../experiments/model.js';
import type { BlastRadius, GuardVerdict, TargetRef } from '../runs/types.js';
import type { SourceFile } from '../source/types.js';
import { silentLogger, type Logger } from '../log.js';
import { PLAN_MARKER, type CommitStatus, type GitHost, type UpsertResult } from '../hosts/types.js';
import { HOSTS, hostModule, type HostRegistry } from '../hosts/index.js';
import { recordReportFailure } from './failures.js';
import type { PrDiff } from './pr-source.js';
import type { WorkflowPlan, StepPlan } from '../safety/workflow-plan.js';
import type { LoadedWorkflow } from '../workflows/model.js';
import { resolveWorkflows } from '../workflows/load.js';

/**
 * One planned experiment. Mirrors src/safety's plan row; kept structural so either shape fits
 * (`targets` may be the resolved list or just its count).
 */
export interface PlanRowLike {
  name: string;
  file: string;
  fault: string;
  targets: TargetRef[] | number;
  blastRadius: BlastRadius[];
  guards: GuardVerdict[];
  allowed: boolean;
  schedule?: string; // cron text; absent = once per spec revision
  cluster?: string; // spec.target.cluster; absent: the local one
}

export interface PlanCommentInput {
  rows: PlanRowLike[];
  problems: Problem[];
  headSha: string;
  deleted?: string[]; // experiment files removed by the PR
  freeze?: boolean; // `.faultline/freeze` present at the head
  planError?: string; // the cluster could not be asked
  maxLength?: number; // host limit, default GitHub's 65,536
  workflows?: WorkflowPlan[]; // ChaosWorkflows the PR adds or changes, each step planned
}

const DEFAULT_MAX = 65_536;

function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Several clusters: a row for another cluster than the local one names it. */
function clusterNote(cluster: string | undefined): string {
  return cluster ? ` · cluster ${code(cluster)}` : '';
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

function targetsCell(t: PlanRowLike['targets']): string {
  if (typeof t === 'number') return String(t);
  if (t.length === 0) return '0 (none match now)';
  const names = t.slice(0, 3).map((r) => (r.namespace ? `${r.namespace}/${r.name}` : r.name));
  const kind = t[0]!.kind.toLowerCase();
  const more = t.length > 3 ? `, +${t.length - 3} more` : '';
  return `${t.length} ${kind}${t.length === 1 ? '' : 's'}: ${names.map(code).join(', ')}${more}`;
}

function blastCell(b: BlastRadius[]): string {
  if (b.length === 0) return '—';
  return b.map((x) => cell(`${x.workload}: ${x.hit} of ${x.ready} ready (${Math.round(x.percent)}%)`)).join('<br>');
}

function guardsCell(g: GuardVerdict[]): string {
  const failed = g.filter((v) => !v.ok);
  if (failed.length === 0) return g.length === 0 ? '—' : `✅ ${g.length} passed`;
  return failed.map((v) => `❌ ${code(v.guard)}: ${cell(v.reason)}`).join('<br>');
}

function scheduleCell(s: string | undefined): string {
  return s ? code(s) : 'once per spec revision';
}

function rowIcon(r: PlanRowLike): string {
  return r.allowed ? '✅' : '🛑';
}

const FULL_HEAD = '| | Experiment | Fault | Targets now | Blast radius | Guards | Schedule |\n|---|---|---|---|---|---|---|';
const SHORT_HEAD = '| | Experiment | File | Fault | Guards |\n|---|---|---|---|---|';

function fullRow(r: PlanRowLike): string {
  return `| ${rowIcon(r)} | ${code(r.name)}<br><sub>${cell(r.file)}${clusterNote(r.cluster)}</sub> | ${cell(r.fault)} | ${targetsCell(r.targets)} | ${blastCell(r.blastRadius)} | ${guardsCell(r.guards)} | ${scheduleCell(r.schedule)} |`;
}

function shortRow(r: PlanRowLike): string {
  const failed = r.guards.filter((g) => !g.ok).map((g) => code(g.guard));
  return `| ${rowIcon(r)} | ${code(r.name)} | ${cell(r.file)}${clusterNote(r.cluster)} | ${cell(r.fault)} | ${failed.length ? `❌ ${failed.join(', ')}` : '✅'} |`;
}

function problemLine(p: Problem): string {
  const where = `${p.file}:${p.line}:${p.column}`;
  const ptr = p.pointer ? ` ${code(p.pointer)}` : '';
  return `- ${code(where)}${ptr} — ${cell(p.message)}`;
}

function sortRows(rows: PlanRowLike[]): PlanRowLike[] {
  return [...rows].sort((a, b) => Number(a.allowed) - Number(b.allowed) || a.name.localeCompare(b.name));
}

function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

function header(input: PlanCommentInput): string[] {
  const blocked = input.rows.filter((r) => !r.allowed).length;
  const invalidFiles = new Set(input.problems.map((p) => p.file)).size;
  const ok = input.rows.length - blocked;
  const workflows = input.workflows ?? [];
  const refused = workflows.filter((w) => !w.allowed).length;
  const failing = blocked > 0 || refused > 0 || invalidFiles > 0 || input.planError !== undefined;
  const title = failing ? '❌ Faultline plan: changes needed' : '✅ Faultline plan';
  const parts = [`${ok} ready`];
  if (blocked) parts.push(`${blocked} blocked by guards`);
  if (invalidFiles) parts.push(`${invalidFiles} file${invalidFiles === 1 ? '' : 's'} with validation errors (${input.problems.length} problem${input.problems.length === 1 ? '' : 's'})`);
  if (input.deleted?.length) parts.push(`${input.deleted.length} removed`);
  const wf = workflows.length
    ? ` and ${workflows.length} workflow${workflows.length === 1 ? '' : 's'} (${refused ? `${refused} refused` : 'all allowed'})`
    : '';
  const lines = [PLAN_MARKER, `### ${title}`, '', `For ${code(input.headSha.slice(0, 12))}: ${input.rows.length} experiment${input.rows.length === 1 ? '' : 's'}${wf} planned — ${parts.join(', ')}.`];
  if (input.planError) lines.push('', `> [!WARNING]\n> The live cluster could not be asked for targets: ${cell(input.planError)}`);
  if (input.freeze) lines.push('', '> [!NOTE]\n> `.faultline/freeze` is present at this revision: nothing runs while it stays.');
  return lines;
}

function footer(): string[] {
  return ['', '<sub>Targets and guards are evaluated against the live cluster now; they are checked again just before each run. This comment is updated on every push.</sub>'];
}

/** Markdown for the sticky PR comment; never longer than `maxLength`, never cut mid-table. */
export function renderPlanComment(input: PlanCommentInput): string {
  const max = input.maxLength ?? DEFAULT_MAX;
  const rows = sortRows(input.rows);
  const problems = sortProblems(input.problems);
  const deleted = input.deleted ?? [];

  const full = [...header(input)];
  if (rows.length) full.push('', FULL_HEAD, ...rows.map(fullRow));
  for (const w of input.workflows ?? []) full.push('', ...workflowSection(w));
  if (problems.length) full.push('', `#### Validation errors (${problems.length})`, '', ...problems.map(problemLine));
  if (deleted.length) full.push('', '#### Removed', '', ...deleted.map((f) => `- ${code(f)}: its schedule is cancelled and a run in progress is aborted on merge`));
  full.push(...footer());
  const text = full.join('\n');
  if (text.length <= max) return text;
  return summarise(input, rows, problems, deleted, text.length, max);
}

// ---- workflows ----

const STEP_HEAD = '| | Step | Kind | Targets now | Blast radius | Guards |\n|---|---|---|---|---|---|';

function workflowTitle(w: WorkflowPlan): string {
  const verdict = w.allowed ? 'allowed' : `refused: ${w.refusedSteps.map(code).join(', ')}`;
  return `#### ${w.allowed ? '✅' : '🛑'} Workflow ${code(w.name)} <sub>${cell(w.file)}</sub> — ${verdict}`;
}

/** One table per workflow: a row per step (nested steps indented), a parallel group's combined radius and guards on its row. */
function workflowSection(w: WorkflowPlan): string[] {
  const out = [workflowTitle(w), '', `Schedule: ${scheduleCell(w.schedule)}`, '', STEP_HEAD];
  const walk = (steps: StepPlan[], depth: number): void => {
    for (const s of steps) {
      const name = `${'&nbsp;&nbsp;↳ '.repeat(depth)}${code(s.name)}${s.continueOnFailure ? ' <sub>continueOnFailure</sub>' : ''}`;
      const icon = s.allowed ? '✅' : '🛑';
      if (s.row) {
        const kind = `${s.experiment ? `${cell(s.row.fault)} (experiment ${code(s.experiment)})` : cell(s.row.fault)}${clusterNote(s.row.cluster)}`;
        out.push(`| ${icon} | ${name} | ${kind} | ${targetsCell(s.row.targets)} | ${blastCell(s.row.blastRadius)} | ${guardsCell(s.row.guards)} |`);
      } else if (s.steps && s.combined) {
        out.push(`| ${icon} | ${name} | parallel, together | ${s.combined.targets} | ${blastCell(s.combined.blastRadius)} | ${guardsCell(s.combined.guards)} |`);
        walk(s.steps, depth + 1);
      } else if (s.kind === 'experiment') {
        out.push(`| 🛑 | ${name} | experiment ${code(s.experiment ?? '?')} | — | — | ❌ not found |`);
      } else {
        out.push(`| | ${name} | ${cell(s.kind)}${s.duration ? ` ${code(s.duration)}` : ''} | — | — | — |`);
      }
    }
  };
  walk(w.steps, 0);
  return out;
}

// Too long: drop per-row detail, keep counts, failing experiments and problems first, and add
// whole lines only while they fit, so every table stays well-formed.
function summarise(input: PlanCommentInput, rows: PlanRowLike[], problems: Problem[], deleted: string[], fullLength: number, max: number): string {
  const head = [
    ...header(input),
    '',
    `> This plan is ${fullLength.toLocaleString('en-US')} characters, over this host's ${max.toLocaleString('en-US')}-character comment limit, so it is summarised: failing experiments first, per-target detail dropped. \`faultline plan\` prints the full plan.`,
  ];
  const foot = footer();
  const reserve = 400; // room for the "…and N more" lines
  let budget = max - [...head, ...foot].join('\n').length - reserve;
  const take = <T>(items: T[], render: (x: T) => string, overhead: number): T[] => {
    const out: T[] = [];
    let first = true;
    for (const item of items) {
      const cost = render(item).length + 1 + (first ? overhead : 0);
      if (cost > budget) break;
      budget -= cost;
      out.push(item);
      first = false;
    }
    return out;
  };
  const failing = rows.filter((r) => !r.allowed);
  const passing = rows.filter((r) => r.allowed);
  const tableOverhead = SHORT_HEAD.length + 2;
  const shownFailing = take(failing, shortRow, tableOverhead);
  const shownProblems = take(problems, problemLine, 40);
  const shownPassing = take(passing, shortRow, shownFailing.length ? 0 : tableOverhead);

  const out = [...head];
  const tableRows = [...shownFailing, ...shownPassing];
  if (tableRows.length) out.push('', SHORT_HEAD, ...tableRows.map(shortRow));
  const hiddenRows = rows.length - tableRows.length;
  if (hiddenRows > 0) {
    const hiddenFailing = failing.length - shownFailing.length;
    out.push('', `…and ${hiddenRows} more experiment${hiddenRows === 1 ? '' : 's'} not shown (${hiddenFailing} blocked, ${hiddenRows - hiddenFailing} ready).`);
  }
  if (problems.length) {
    out.push('', `#### Validation errors (${problems.length})`, '', ...shownProblems.map(problemLine));
    const hidden = problems.length - shownProblems.length;
    if (hidden > 0) out.push(`- …and ${hidden} more problem${hidden === 1 ? '' : 's'} in ${new Set(problems.slice(shownProblems.length).map((p) => p.file)).size} file(s)`);
  }
  for (const w of input.workflows ?? []) {
    const line = workflowTitle(w);
    if (line.length + 2 > budget) break;
    budget -= line.length + 2;
    out.push('', line);
  }
  if (deleted.length) out.push('', `#### Removed: ${deleted.length} experiment file${deleted.length === 1 ? '' : 's'}`);
  out.push(...foot);
  let text = out.join('\n');
  if (text.length > max) text = [...header(input), ...foot].join('\n'); // pathological: counts only
  return text;
}

// ---- the event ----

/** A pull/merge request event, host-neutral. */
export interface PullRequestEvent {
  number: number;
  action: string;
  headSha: string;
  baseRef?: string; // base sha (GitHub, Gitea) or target branch (GitLab)
  fetchRefs?: string[]; // refs that carry base and head, e.g. ['main', 'refs/pull/2/head']
}

/**
 * From the server's normalised webhook event (src/hosts/webhook.ts PullRequestEvent). The host's
 * module names the ref that carries the head (refs/pull/N/head, refs/merge-requests/N/head).
 */
export function toPlanEvent(
  e: { host: string; number: number; action: string; headSha: string; baseRef: string; baseSha?: string },
  hosts: HostRegistry = HOSTS,
): PullRequestEvent {
  const head = hostModule(e.host, hosts).pullRequestRef(e.number);
  return { number: e.number, action: e.action, headSha: e.headSha, baseRef: e.baseSha ?? e.baseRef, fetchRefs: [head, e.baseRef] };
}

/**
 * A raw delivery (event name as its header gives it, parsed body) through the host's own
 * normaliser, for callers without the server in front (tests, the bench). Undefined unless it is
 * a pull/merge request event.
 */
export function pullRequestEventFrom(host: string, eventName: string, payload: unknown, hosts: HostRegistry = HOSTS): PullRequestEvent | undefined {
  const n = hostModule(host, hosts).webhook.normalise(eventName, 'local', payload);
  return n.kind === 'pull_request' ? toPlanEvent(n.event, hosts) : undefined;
}

// The actions the hosts' normalisers give for new commits (GitHub's words, whatever the host).
const PLAN_ACTIONS = new Set(['opened', 'synchronize', 'reopened']);

export interface PullRequestDeps {
  /** Reads every matching file at a ref (GitSource.readAll). Used when `reader` is absent. */
  source?: { readAll(ref: string): Promise<{ revision: string; files: SourceFile[]; freeze: boolean }> };
  /** Fast path for big repositories: reads only what the PR changed (PrTreeReader). */
  reader?: {
    ensure(shas: string[], refs: string[]): Promise<void>;
    diff(baseRef: string, headSha: string): Promise<PrDiff>;
    /** A blob by id: the unchanged experiment files a changed workflow refers to. */
    readBlob?(oid: string): Promise<Uint8Array>;
  };
  loadExperimentFiles(files: { path: string; content: Uint8Array }[], opts?: { resolveReferences?: boolean }): LoadResult;
  plan(loaded: LoadedExperiment[]): Promise<PlanRowLike[]>;
  /** Each step of each changed workflow planned (src/safety/workflow-plan.ts); absent: workflows are not planned. */
  planWorkflows?(workflows: LoadedWorkflow[], experiments: LoadedExperiment[]): Promise<WorkflowPlan[]>;
  host: GitHost;
  logger?: Logger;
  targetUrl?: string; // link for the status, e.g. the dashboard
  context?: string; // default faultline/plan
}

export interface PullRequestResult {
  skipped?: string;
  state?: CommitStatus['state'];
  description?: string;
  changed: string[];
  deleted: string[];
  rows: PlanRowLike[];
  workflows: WorkflowPlan[];
  problems: Problem[];
  comment?: UpsertResult;
  body?: string;
  errors: string[]; // host calls that failed (logged and counted)
}

export async function handlePullRequest(event: PullRequestEvent, deps: PullRequestDeps): Promise<PullRequestResult> {
  const log = (deps.logger ?? silentLogger).child({ pr: event.number, sha: event.headSha.slice(0, 12) });
  const result: PullRequestResult = { changed: [], deleted: [], rows: [], workflows: [], problems: [], errors: [] };
  if (!PLAN_ACTIONS.has(event.action)) return { ...result, skipped: `action ${event.action || '(none)'} does not change the plan` };
  const context = deps.context ?? 'faultline/plan';
  const { host } = deps;
  const hostCall = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      result.errors.push(`${what}: ${String(err)}`);
      recordReportFailure(host.kind, err, what, log);
      return undefined;
    }
  };
  const status = (state: CommitStatus['state'], description: string) =>
    hostCall(`status ${context}`, () =>
      host.setStatus(event.headSha, { context, state, description, ...(deps.targetUrl ? { targetUrl: deps.targetUrl } : {}) }),
    );

  // Where the time went, in the 'pull request planned' line (the bench reads it).
  const ms: Record<string, number> = {};
  let lapAt = performance.now();
  const lap = (what: string) => {
    const now = performance.now();
    ms[what] = Math.round((now - lapAt) * 10) / 10;
    lapAt = now;
  };
  await status('pending', 'Validating and planning the changed experiments…');
  lap('pendingMs');

  let changed: SourceFile[];
  let loaded: LoadResult;
  let freeze: boolean;
  let known: LoadedExperiment[]; // every experiment a changed workflow may refer to
  try {
    if (deps.reader && event.baseRef) {
      await deps.reader.ensure([event.headSha, ...(/^[0-9a-f]{40}$/.test(event.baseRef) ? [event.baseRef] : [])], event.fetchRefs ?? []);
      lap('fetchMs');
      const d = await deps.reader.diff(event.baseRef, event.headSha);
      lap('diffMs');
      changed = d.changed;
      result.deleted = d.deleted;
      freeze = d.freeze;
      const own = deps.loadExperimentFiles(changed.map((f) => ({ path: f.path, content: f.content })), { resolveReferences: false });
      loaded = { experiments: [...own.experiments], problems: [...own.problems] };
      known = own.experiments;
      if (own.workflows?.length) {
        // Workflows refer to experiments by name, often in files the PR leaves alone: read those.
        const have = new Set(own.experiments.map((e) => e.experiment.metadata.name));
        const oids = new Map(d.unchanged.map((u) => [u.path, u.oid]));
        const files = new Set<string>();
        for (const r of own.workflows.flatMap((w) => w.references)) {
          const file = have.has(r.experiment) ? undefined : d.unchangedNames.get(r.experiment);
          if (file && oids.has(file)) files.add(file);
        }
        if (files.size && deps.reader.readBlob) {
          const read = await Promise.all([...files].map(async (path) => ({ path, content: await deps.reader!.readBlob!(oids.get(path)!) })));
          known = [...known, ...deps.loadExperimentFiles(read, { resolveReferences: false }).experiments];
        }
        const resolved = resolveWorkflows(own.workflows, known);
        loaded.workflows = resolved.workflows;
        loaded.problems.push(...resolved.problems);
      }
      // Names stay unique across the repository: check the changed ones against the rest.
      for (const e of loaded.experiments) {
        const other = d.unchangedNames.get(e.experiment.metadata.name);
        if (other && other !== e.file) {
          loaded.problems.push({
            file: e.file,
            line: e.line,
            column: 1,
            pointer: '/metadata/name',
            message: `name ${e.experiment.metadata.name} is already used by ${other}`,
          });
        }
      }
      const dup = new Set(loaded.problems.filter((p) => p.pointer === '/metadata/name').map((p) => p.file));
      loaded = { ...loaded, experiments: loaded.experiments.filter((e) => !dup.has(e.file)) };
    } else if (deps.source) {
      const head = await deps.source.readAll(event.headSha);
      const base = event.baseRef ? await deps.source.readAll(event.baseRef).catch(() => undefined) : undefined;
      const baseOids = new Map(base?.files.map((f) => [f.path, f.oid]));
      changed = base ? head.files.filter((f) => baseOids.get(f.path) !== f.oid) : head.files;
      const headPaths = new Set(head.files.map((f) => f.path));
      result.deleted = base ? base.files.filter((f) => !headPaths.has(f.path)).map((f) => f.path).sort() : [];
      freeze = head.freeze;
      // Load the whole head so cross-file rules (unique names) hold; report on the changed files.
      loaded = deps.loadExperimentFiles(head.files.map((f) => ({ path: f.path, content: f.content })));
      known = loaded.experiments;
    } else {
      throw new Error('handlePullRequest needs deps.reader or deps.source');
    }
  } catch (err) {
    log.error({ err }, 'could not read the pull request');
    const description = `Could not read ${event.headSha.slice(0, 12)}: ${err instanceof Error ? err.message : String(err)}`;
    await status('error', description);
    return { ...result, state: 'error', description };
  }
  lap('loadMs');
  result.changed = changed.map((f) => f.path).sort();
  const changedSet = new Set(result.changed);
  result.problems = loaded.problems.filter((p) => changedSet.has(p.file));
  const toPlan = loaded.experiments.filter((e) => changedSet.has(e.file));
  const workflowsToPlan = (loaded.workflows ?? []).filter((w) => changedSet.has(w.file));
  let planError: string | undefined;
  try {
    result.rows = toPlan.length ? await deps.plan(toPlan) : [];
    if (workflowsToPlan.length && deps.planWorkflows) result.workflows = await deps.planWorkflows(workflowsToPlan, known);
  } catch (err) {
    planError = err instanceof Error ? err.message : String(err);
    log.error({ err }, 'plan against the cluster failed');
  }
  lap('planMs');

  const invalid = [...new Set(result.problems.map((p) => p.file))];
  const blocked = result.rows.filter((r) => !r.allowed);
  const refused = result.workflows.filter((w) => !w.allowed);
  if (planError) {
    result.state = 'error';
    result.description = `Could not plan against the cluster: ${planError}`;
  } else if (invalid.length || blocked.length || refused.length) {
    const parts: string[] = [];
    if (invalid.length) parts.push(`invalid: ${invalid.join(', ')}`);
    if (blocked.length) {
      parts.push(`blocked: ${blocked.map((r) => `${r.name} (${r.guards.filter((g) => !g.ok).map((g) => g.guard).join(', ')})`).join(', ')}`);
    }
    if (refused.length) parts.push(`workflow refused: ${refused.map((w) => `${w.name} (${w.refusedSteps.join(', ')})`).join(', ')}`);
    result.state = 'failure';
    result.description = parts.join('; ');
  } else {
    result.state = 'success';
    result.description =
      changed.length || result.deleted.length
        ? `${result.rows.length} experiment${result.rows.length === 1 ? '' : 's'}${result.workflows.length ? ` and ${result.workflows.length} workflow${result.workflows.length === 1 ? '' : 's'}` : ''} valid; all guards pass`
        : 'No experiment changes';
  }

  const touched = changed.length > 0 || result.deleted.length > 0;
  result.body = renderPlanComment({
    rows: result.rows,
    problems: result.problems,
    headSha: event.headSha,
    deleted: result.deleted,
    workflows: result.workflows,
    freeze,
    ...(planError ? { planError } : {}),
    maxLength: host.maxCommentLength,
  });
  // A PR that (no longer) touches experiments only edits an existing comment, never adds one.
  result.comment = await hostCall('plan comment', () => host.upsertComment(event.number, PLAN_MARKER, result.body!, { createIfMissing: touched }));
  lap('commentMs');
  await status(result.state, result.description);
  lap('statusMs');
  log.info({ state: result.state, changed: result.changed.length, problems: result.problems.length, blocked: blocked.length, ...ms }, 'pull request planned');
  return result;
}
