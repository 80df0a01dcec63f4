// Check Runs for GitHub App mode: one check run per commit and context (the run's name), created on
// the first state and updated in place on later ones. Ids are kept in memory; after a restart (or
// once evicted) the run is found again with checks.listForRef filtered by name and our App id.
import type { Octokit } from '@octokit/rest';
import type { CommitState, CommitStatus } from '../types.js';
import { shorten } from '../retry.js';
import { checkCheckRuns, checkCreatedCheckRun } from './schema.js';

export const CHECK_OUTPUT_MAX = 65_535; // GitHub's limit for output.summary and output.text
const TITLE_MAX = 255;
// Enough for every open pull request's plan and recent run results; older ones are looked up again.
const MAX_REMEMBERED = 2_000;

type Conclusion = 'success' | 'failure' | 'neutral';

interface KnownRun {
  id: number;
  completed: boolean;
}

export interface CheckRunBody {
  status: 'in_progress' | 'completed';
  conclusion?: Conclusion;
  started_at?: string;
  completed_at?: string;
  details_url?: string;
  output: { title: string; summary: string };
}

/**
 * pending is a run in progress; the others complete it. An `error` (Faultline could not decide,
 * e.g. the cluster was unreachable) is neutral, not a red mark on the change.
 */
export function conclusionFor(state: CommitState): Conclusion | undefined {
  switch (state) {
    case 'pending':
      return undefined;
    case 'success':
      return 'success';
    case 'failure':
      return 'failure';
    case 'error':
      return 'neutral';
  }
}

/** Cut text to `max` characters (code points, so no split surrogate pair), keeping newlines. */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  const chars = [...text];
  if (chars.length <= max) return text;
  return `${chars.slice(0, max - 1).join('')}…`;
}

// GitHub documents YYYY-MM-DDTHH:MM:SSZ.
function timestamp(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function checkRunBody(status: CommitStatus, now = new Date()): CheckRunBody {
  const conclusion = conclusionFor(status.state);
  const title = shorten(status.description, TITLE_MAX) || `${status.context}: ${status.state}`;
  const summary = status.targetUrl ? `${status.description}\n\nDetails: ${status.targetUrl}` : status.description;
  return {
    ...(conclusion ? { status: 'completed' as const, conclusion, completed_at: timestamp(now) } : { status: 'in_progress' as const, started_at: timestamp(now) }),
    ...(status.targetUrl ? { details_url: status.targetUrl } : {}),
    output: { title, summary: capText(summary || title, CHECK_OUTPUT_MAX) },
  };
}

type Call = <T>(fn: (signal: AbortSignal) => Promise<T>) => Promise<T>;

export class CheckRuns {
  private readonly known = new Map<string, KnownRun>();
  // One state change at a time per sha+context, so a quick pending → failure never creates two runs.
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly octokit: Octokit,
    private readonly owner: string,
    private readonly repo: string,
    private readonly appId: number,
    private readonly call: Call,
  ) {}

  set(sha: string, status: CommitStatus): Promise<void> {
    const key = `${sha}\n${status.context}`;
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.apply(sha, key, status));
    const tail = next.catch(() => undefined);
    this.chains.set(key, tail);
    void tail.then(() => {
      if (this.chains.get(key) === tail) this.chains.delete(key);
    });
    return next;
  }

  private async apply(sha: string, key: string, status: CommitStatus): Promise<void> {
    const body = checkRunBody(status);
    const run = this.known.get(key) ?? (await this.find(sha, status.context));
    // A new evaluation (pending after a conclusion) is a new run, as a re-run is on GitHub; every
    // other state updates the run we have.
    if (run && !(run.completed && body.status === 'in_progress')) {
      try {
        await this.call((signal) =>
          this.octokit.rest.checks.update({ owner: this.owner, repo: this.repo, check_run_id: run.id, ...body, request: { signal } }),
        );
        this.remember(key, { id: run.id, completed: body.status === 'completed' });
        return;
      } catch (err) {
        // Deleted with its check suite, or remembered wrongly: start a fresh one.
        if ((err as { status?: number }).status !== 404) throw err;
        this.known.delete(key);
      }
    }
    const { data } = await this.call((signal) =>
      this.octokit.rest.checks.create({ owner: this.owner, repo: this.repo, name: status.context, head_sha: sha, ...body, request: { signal } }),
    );
    this.remember(key, { id: checkCreatedCheckRun(data).id, completed: body.status === 'completed' });
  }

  private async find(sha: string, name: string): Promise<KnownRun | undefined> {
    const { data } = await this.call((signal) =>
      this.octokit.rest.checks.listForRef({
        owner: this.owner,
        repo: this.repo,
        ref: sha,
        check_name: name,
        filter: 'latest',
        app_id: this.appId,
        per_page: 100,
        request: { signal },
      }),
    );
    const ours = checkCheckRuns(data).check_runs.filter((r) => r.name === name && r.head_sha === sha && (r.app?.id === undefined || r.app.id === this.appId));
    const latest = ours.sort((a, b) => b.id - a.id)[0];
    return latest ? { id: latest.id, completed: latest.status === 'completed' } : undefined;
  }

  private remember(key: string, run: KnownRun): void {
    this.known.delete(key);
    this.known.set(key, run);
    if (this.known.size > MAX_REMEMBERED) this.known.delete(this.known.keys().next().value!);
  }
}
