// Gitea and Forgejo (same API, /api/v1): commit statuses, issue comments on pull requests, and
// the pull request of a commit.
import type { CommitStatus, GitHost, GitHostConfig, HostOptions, RetryOptions, UpsertResult } from '../types.js';
import { HttpError, requestJson, shorten } from '../retry.js';

export const GITEA_MAX_COMMENT = 65_536; // Gitea has no documented cap; stay as GitHub

interface Comment {
  id: number;
  body: string;
}

export class GiteaHost implements GitHost {
  readonly kind = 'gitea' as const;
  private readonly retry: RetryOptions;
  readonly maxCommentLength = GITEA_MAX_COMMENT;
  private readonly base: string;
  private readonly headers: Record<string, string>;

  constructor(
    config: GitHostConfig,
    opts: HostOptions = {},
  ) {
    this.retry = opts.retry ?? {};
    const [owner, repo] = config.repository.split('/');
    if (!owner || !repo) throw new Error(`gitea repository must be owner/name, got ${JSON.stringify(config.repository)}`);
    this.base = `${config.apiUrl.replace(/\/$/, '')}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
    this.headers = config.token ? { authorization: `token ${config.token}` } : {};
  }

  private req<T>(method: string, path: string, body?: unknown) {
    return requestJson<T>(`${this.base}${path}`, { method, headers: this.headers, body }, this.retry);
  }

  async setStatus(sha: string, status: CommitStatus): Promise<void> {
    await this.req('POST', `/statuses/${encodeURIComponent(sha)}`, {
      state: status.state,
      context: status.context,
      description: shorten(status.description, 255),
      ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
    });
  }

  async upsertComment(pr: number, marker: string, body: string, opts: { createIfMissing?: boolean } = {}): Promise<UpsertResult> {
    for (let page = 1; page <= 50; page++) {
      const { data } = await this.req<Comment[]>('GET', `/issues/${pr}/comments?page=${page}&limit=50`);
      const mine = data.find((c) => c.body.includes(marker));
      if (mine) {
        if (mine.body === body) return { action: 'unchanged', id: String(mine.id) };
        await this.req('PATCH', `/issues/comments/${mine.id}`, { body });
        return { action: 'updated', id: String(mine.id) };
      }
      if (data.length < 50) break;
    }
    if (opts.createIfMissing === false) return { action: 'skipped' };
    const { data } = await this.req<Comment>('POST', `/issues/${pr}/comments`, { body });
    return { action: 'created', id: String(data.id) };
  }

  async comment(pr: number, body: string): Promise<void> {
    await this.req('POST', `/issues/${pr}/comments`, { body });
  }

  async findPullRequestForCommit(sha: string): Promise<number | undefined> {
    try {
      const { data } = await this.req<{ number: number }>('GET', `/commits/${encodeURIComponent(sha)}/pull`);
      return data?.number;
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) return undefined;
      throw err;
    }
  }
}
