// Gitea and Forgejo (same API, /api/v1): commit statuses, issue comments on pull requests, and
// the pull request of a commit.
import type { CommitStatus, GitHost, GitHostConfig, HostOptions, RetryOptions, UpsertResult } from '../types.js';
import { cachedUntilFailure, HttpError, requestJson, shorten } from '../retry.js';
import { checkComments, checkCreatedComment, checkPullForCommit, checkUser } from './schema.js';

export const GITEA_MAX_COMMENT = 65_536; // Gitea has no documented cap; stay as GitHub

export class GiteaHost implements GitHost {
  readonly kind = 'gitea' as const;
  private readonly retry: RetryOptions;
  readonly maxCommentLength = GITEA_MAX_COMMENT;
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly apiUrl: string;

  constructor(
    config: GitHostConfig,
    opts: HostOptions = {},
  ) {
    this.retry = opts.retry ?? {};
    const [owner, repo] = config.repository.split('/');
    if (!owner || !repo) throw new Error(`gitea repository must be owner/name, got ${JSON.stringify(config.repository)}`);
    this.base = `${config.apiUrl.replace(/\/$/, '')}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
    this.headers = config.token ? { authorization: `token ${config.token}` } : {};
    this.apiUrl = config.apiUrl.replace(/\/$/, '');
  }

  private req(method: string, path: string, endpoint: string, body?: unknown) {
    return requestJson(`${this.base}${path}`, { method, headers: this.headers, body, host: 'gitea', endpoint: `${method} /repos/{owner}/{repo}${endpoint}` }, this.retry);
  }

  /** The token's own user id: only comments it wrote are ours to edit (anyone can paste the marker). */
  private readonly whoami = cachedUntilFailure(() =>
    requestJson(`${this.apiUrl}/user`, { method: 'GET', headers: this.headers, host: 'gitea', endpoint: 'GET /user' }, this.retry).then(({ data }) => checkUser(data).id),
  );

  async setStatus(sha: string, status: CommitStatus): Promise<void> {
    await this.req('POST', `/statuses/${encodeURIComponent(sha)}`, '/statuses/{sha}', {
      state: status.state,
      context: status.context,
      description: shorten(status.description, 255),
      ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
    });
  }

  async upsertComment(pr: number, marker: string, body: string, opts: { createIfMissing?: boolean } = {}): Promise<UpsertResult> {
    const me = await this.whoami();
    for (let page = 1; page <= 50; page++) {
      const res = await this.req('GET', `/issues/${pr}/comments?page=${page}&limit=50`, '/issues/{index}/comments');
      const data = checkComments(res.data);
      const mine = data.find((c) => c.user?.id === me && c.body.includes(marker));
      if (mine) {
        if (mine.body === body) return { action: 'unchanged', id: String(mine.id) };
        await this.req('PATCH', `/issues/comments/${mine.id}`, '/issues/comments/{id}', { body });
        return { action: 'updated', id: String(mine.id) };
      }
      if (data.length < 50) break;
    }
    if (opts.createIfMissing === false) return { action: 'skipped' };
    const { data } = await this.req('POST', `/issues/${pr}/comments`, '/issues/{index}/comments', { body });
    return { action: 'created', id: String(checkCreatedComment(data).id) };
  }

  async comment(pr: number, body: string): Promise<void> {
    await this.req('POST', `/issues/${pr}/comments`, '/issues/{index}/comments', { body });
  }

  async findPullRequestForCommit(sha: string): Promise<number | undefined> {
    try {
      const { data } = await this.req('GET', `/commits/${encodeURIComponent(sha)}/pull`, '/commits/{sha}/pull');
      return checkPullForCommit(data).number;
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) return undefined;
      throw err;
    }
  }
}
