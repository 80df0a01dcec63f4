// GitLab REST v4: commit statuses, merge-request notes, and the merge requests of a commit.
import type { CommitState, CommitStatus, GitHost, GitHostConfig, HostOptions, RetryOptions, UpsertResult } from '../types.js';
import { requestJson, shorten } from '../retry.js';

export const GITLAB_MAX_COMMENT = 1_000_000; // notes are limited to 1,000,000 characters

const STATES: Record<CommitState, string> = { pending: 'pending', success: 'success', failure: 'failed', error: 'failed' };

interface Note {
  id: number;
  body: string;
  system?: boolean;
}

export class GitLabHost implements GitHost {
  readonly kind = 'gitlab' as const;
  private readonly retry: RetryOptions;
  readonly maxCommentLength = GITLAB_MAX_COMMENT;
  private readonly base: string;
  private readonly headers: Record<string, string>;

  constructor(
    config: GitHostConfig,
    opts: HostOptions = {},
  ) {
    this.retry = opts.retry ?? {};
    // The project is addressed by its URL-encoded path (group/sub/name) or its numeric id.
    this.base = `${config.apiUrl.replace(/\/$/, '')}/projects/${encodeURIComponent(config.repository)}`;
    this.headers = config.token ? { 'private-token': config.token } : {};
  }

  private req<T>(method: string, path: string, body?: unknown) {
    return requestJson<T>(`${this.base}${path}`, { method, headers: this.headers, body }, this.retry);
  }

  async setStatus(sha: string, status: CommitStatus): Promise<void> {
    await this.req('POST', `/statuses/${encodeURIComponent(sha)}`, {
      state: STATES[status.state],
      name: status.context,
      description: shorten(status.description, 255),
      ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
    });
  }

  async upsertComment(mr: number, marker: string, body: string, opts: { createIfMissing?: boolean } = {}): Promise<UpsertResult> {
    for (let page = 1; page <= 50; page++) {
      const { data, headers } = await this.req<Note[]>('GET', `/merge_requests/${mr}/notes?per_page=100&page=${page}&sort=asc`);
      const mine = data.find((n) => !n.system && n.body.includes(marker));
      if (mine) {
        if (mine.body === body) return { action: 'unchanged', id: String(mine.id) };
        await this.req('PUT', `/merge_requests/${mr}/notes/${mine.id}`, { body });
        return { action: 'updated', id: String(mine.id) };
      }
      if (!headers['x-next-page'] || data.length < 100) break;
    }
    if (opts.createIfMissing === false) return { action: 'skipped' };
    const { data } = await this.req<Note>('POST', `/merge_requests/${mr}/notes`, { body });
    return { action: 'created', id: String(data.id) };
  }

  async comment(mr: number, body: string): Promise<void> {
    await this.req('POST', `/merge_requests/${mr}/notes`, { body });
  }

  async findPullRequestForCommit(sha: string): Promise<number | undefined> {
    const { data } = await this.req<{ iid: number; state: string }[]>('GET', `/repository/commits/${encodeURIComponent(sha)}/merge_requests`);
    return (data.find((m) => m.state === 'merged') ?? data[0])?.iid;
  }
}
