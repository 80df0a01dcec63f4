// GitHub through Octokit: commit statuses (token auth), issue comments on pull requests, and the
// pull request a commit belongs to. Check Runs need a GitHub App installation token and are a
// follow-up; commit statuses show in the same checks box on the pull request.
import { Octokit } from '@octokit/rest';
import type { CommitStatus, GitHost, GitHostConfig, HostOptions, RetryOptions, UpsertResult } from '../types.js';
import { shorten, withRetry, type Headers } from '../retry.js';
import { silentLogger, type Logger } from '../../../log.js';

function octokitLog(log: Logger) {
  const at = (level: 'debug' | 'info' | 'warn') => (message: string, extra?: object) => log[level]({ ...extra, component: 'github' }, message);
  return { debug: at('debug'), info: at('debug'), warn: at('warn'), error: at('debug') };
}

export const GITHUB_MAX_COMMENT = 65_536;

function classify(err: unknown): { status: number | undefined; headers: Headers } {
  const e = err as { status?: number; response?: { headers?: Headers } };
  // Octokit uses status 500 for network failures it wraps; both are retryable.
  return { status: typeof e.status === 'number' ? e.status : undefined, headers: e.response?.headers ?? {} };
}

export class GitHubHost implements GitHost {
  readonly kind = 'github' as const;
  private readonly retry: RetryOptions;
  readonly maxCommentLength = GITHUB_MAX_COMMENT;
  private readonly octokit: Octokit;
  private readonly owner: string;
  private readonly repo: string;

  constructor(
    config: GitHostConfig,
    opts: HostOptions = {},
  ) {
    this.retry = opts.retry ?? {};
    const [owner, repo] = config.repository.split('/');
    if (!owner || !repo) throw new Error(`github repository must be owner/name, got ${JSON.stringify(config.repository)}`);
    this.owner = owner;
    this.repo = repo;
    this.octokit = new Octokit({
      ...(config.token ? { auth: config.token } : {}),
      baseUrl: config.apiUrl.replace(/\/$/, ''),
      userAgent: 'faultline',
      // Octokit's request log goes to our logger, at debug: failures are reported by the caller.
      log: octokitLog(opts.logger ?? silentLogger),
    });
  }

  private call<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withRetry(fn, classify, this.retry);
  }

  async setStatus(sha: string, status: CommitStatus): Promise<void> {
    await this.call((signal) =>
      this.octokit.rest.repos.createCommitStatus({
        owner: this.owner,
        repo: this.repo,
        sha,
        state: status.state,
        context: status.context,
        description: shorten(status.description, 140),
        ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
        request: { signal },
      }),
    );
  }

  async upsertComment(prNumber: number, marker: string, body: string, opts: { createIfMissing?: boolean } = {}): Promise<UpsertResult> {
    const comments = await this.call((signal) =>
      this.octokit.paginate(this.octokit.rest.issues.listComments, {
        owner: this.owner,
        repo: this.repo,
        issue_number: prNumber,
        per_page: 100,
        request: { signal },
      }),
    );
    const mine = comments.find((c) => c.body?.includes(marker));
    if (mine) {
      if (mine.body === body) return { action: 'unchanged', id: String(mine.id) };
      await this.call((signal) =>
        this.octokit.rest.issues.updateComment({ owner: this.owner, repo: this.repo, comment_id: mine.id, body, request: { signal } }),
      );
      return { action: 'updated', id: String(mine.id) };
    }
    if (opts.createIfMissing === false) return { action: 'skipped' };
    const { data } = await this.call((signal) =>
      this.octokit.rest.issues.createComment({ owner: this.owner, repo: this.repo, issue_number: prNumber, body, request: { signal } }),
    );
    return { action: 'created', id: String(data.id) };
  }

  async comment(prNumber: number, body: string): Promise<void> {
    await this.call((signal) =>
      this.octokit.rest.issues.createComment({ owner: this.owner, repo: this.repo, issue_number: prNumber, body, request: { signal } }),
    );
  }

  async findPullRequestForCommit(sha: string): Promise<number | undefined> {
    const { data } = await this.call((signal) =>
      this.octokit.rest.repos.listPullRequestsAssociatedWithCommit({ owner: this.owner, repo: this.repo, commit_sha: sha, request: { signal } }),
    );
    const merged = data.find((pr) => pr.merged_at);
    return (merged ?? data[0])?.number;
  }
}
