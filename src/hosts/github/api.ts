// GitHub through Octokit, issue comments on pull requests and the pull request a commit belongs to.
// Two ways to authenticate: a token (statuses are commit statuses), or as a GitHub App
// installation (statuses are Check Runs, which only Apps may write; see checks.ts).
import { createPrivateKey } from 'node:crypto';
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/rest';
import type { CommitStatus, GitHost, GitHostConfig, HostOptions, RetryOptions, UpsertResult } from '../types.js';
import { cachedUntilFailure, shorten, withRetry, type Headers } from '../retry.js';
import { silentLogger, type Logger } from '../../log.js';
import { CheckRuns } from './checks.js';
import { checkApp, checkComments, checkCreatedComment, checkPullsForCommit, checkUser, type GitHubComment } from './schema.js';

/** GitHub App fields: all three together switch the adapter to App mode. */
export interface GitHubHostConfig extends GitHostConfig {
  appId?: number;
  installationId?: number;
  privateKey?: string; // PEM, PKCS#1 or PKCS#8; read from a file or env, never from the repository
}

interface AppAuth {
  appId: number;
  installationId: number;
  privateKey: string;
}

function appAuth(config: GitHubHostConfig): AppAuth | undefined {
  const { appId, installationId, privateKey } = config;
  if (appId === undefined && installationId === undefined && privateKey === undefined) return undefined;
  const missing = [appId === undefined && 'appId', installationId === undefined && 'installationId', privateKey === undefined && 'privateKey'].filter(Boolean);
  if (missing.length) throw new Error(`github App mode needs appId, installationId and privateKey; missing ${missing.join(', ')}`);
  let pkcs8: string;
  try {
    // Check the key now rather than on the first report, and hand auth-app PKCS#8 whatever was given.
    pkcs8 = createPrivateKey(privateKey!).export({ type: 'pkcs8', format: 'pem' }).toString();
  } catch (err) {
    throw new Error(`github App private key is not a usable PEM key: ${(err as Error).message}`, { cause: err });
  }
  return { appId: appId!, installationId: installationId!, privateKey: pkcs8 };
}

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
  /** Set in App mode: statuses become Check Runs. */
  private readonly checks: CheckRuns | undefined;
  private readonly appId: number | undefined;
  private readonly me = cachedUntilFailure(() => this.whoami());

  constructor(
    config: GitHubHostConfig,
    opts: HostOptions = {},
  ) {
    this.retry = opts.retry ?? {};
    const [owner, repo] = config.repository.split('/');
    if (!owner || !repo) throw new Error(`github repository must be owner/name, got ${JSON.stringify(config.repository)}`);
    this.owner = owner;
    this.repo = repo;
    const app = appAuth(config);
    this.octokit = new Octokit({
      // App mode wins over a token: the installation token is fetched (and renewed) by auth-app.
      ...(app ? { authStrategy: createAppAuth, auth: app } : config.token ? { auth: config.token } : {}),
      baseUrl: config.apiUrl.replace(/\/$/, ''),
      userAgent: 'faultline',
      // Octokit's request log goes to our logger, at debug: failures are reported by the caller.
      log: octokitLog(opts.logger ?? silentLogger),
    });
    const call = <T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> => this.call(fn);
    this.checks = app ? new CheckRuns(this.octokit, owner, repo, app.appId, call) : undefined;
    this.appId = app?.appId;
  }

  /**
   * Only comments this token (or this App) wrote are ours to edit: anyone can paste the marker,
   * and a maintainer's token may edit other people's comments. Who we are is asked once: a token's
   * user (GET /user), or an App's bot user `<slug>[bot]` (GET /app, which auth-app signs with the
   * App's JWT). An App's comments may also carry its id in performed_via_github_app.
   */
  private async isOurs(c: GitHubComment): Promise<boolean> {
    if (this.appId !== undefined && c.performed_via_github_app?.id === this.appId) return true;
    return c.user?.login.toLowerCase() === (await this.me());
  }

  private async whoami(): Promise<string> {
    if (this.appId !== undefined) {
      const { data } = await this.call((signal) => this.octokit.rest.apps.getAuthenticated({ request: { signal } }));
      return `${checkApp(data).slug}[bot]`.toLowerCase();
    }
    const { data } = await this.call((signal) => this.octokit.rest.users.getAuthenticated({ request: { signal } }));
    return checkUser(data).login.toLowerCase();
  }

  /** 'checks' as a GitHub App installation, 'statuses' with a token. */
  get statusMode(): 'checks' | 'statuses' {
    return this.checks ? 'checks' : 'statuses';
  }

  private call<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withRetry(fn, classify, this.retry);
  }

  async setStatus(sha: string, status: CommitStatus): Promise<void> {
    if (this.checks) return this.checks.set(sha, status);
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
    // Page by page rather than octokit.paginate, which reads fields of each answer before any
    // check (an HTML page made it throw a TypeError) and would hold every page at once.
    let mine: GitHubComment | undefined;
    pages: for (let page = 1; page <= 50; page++) {
      const { data } = await this.call((signal) =>
        this.octokit.rest.issues.listComments({ owner: this.owner, repo: this.repo, issue_number: prNumber, per_page: 100, page, request: { signal } }),
      );
      const comments = checkComments(data);
      for (const c of comments) {
        if (c.body?.includes(marker) && (await this.isOurs(c))) {
          mine = c;
          break pages;
        }
      }
      if (comments.length < 100) break;
    }
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
    return { action: 'created', id: String(checkCreatedComment(data).id) };
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
    const pulls = checkPullsForCommit(data);
    return (pulls.find((pr) => pr.merged_at) ?? pulls[0])?.number;
  }
}
