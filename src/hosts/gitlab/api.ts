// GitLab REST v4: commit statuses, merge-request notes, and the merge requests of a commit.
import type { CommitState, CommitStatus, GitHost, GitHostConfig, HostOptions, RetryOptions, UpsertResult } from '../types.js';
import { cachedUntilFailure, requestJson, shorten } from '../retry.js';
import { checkCreatedNote, checkMergeRequests, checkNotes, checkUser } from './schema.js';

export const GITLAB_MAX_COMMENT = 1_000_000; // notes are limited to 1,000,000 characters

const STATES: Record<CommitState, string> = { pending: 'pending', success: 'success', failure: 'failed', error: 'failed' };

export class GitLabHost implements GitHost {
  readonly kind = 'gitlab' as const;
  private readonly retry: RetryOptions;
  readonly maxCommentLength = GITLAB_MAX_COMMENT;
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly apiUrl: string;

  constructor(
    config: GitHostConfig,
    opts: HostOptions = {},
  ) {
    this.retry = opts.retry ?? {};
    // The project is addressed by its URL-encoded path (group/sub/name) or its numeric id.
    this.base = `${config.apiUrl.replace(/\/$/, '')}/projects/${encodeURIComponent(config.repository)}`;
    this.headers = config.token ? { 'private-token': config.token } : {};
    this.apiUrl = config.apiUrl.replace(/\/$/, '');
  }

  private req(method: string, path: string, endpoint: string, body?: unknown) {
    return requestJson(`${this.base}${path}`, { method, headers: this.headers, body, host: 'gitlab', endpoint: `${method} /projects/{id}${endpoint}` }, this.retry);
  }

  /** The token's own user id: only notes it wrote are ours to edit (anyone can paste the marker). */
  private readonly whoami = cachedUntilFailure(() =>
    requestJson(`${this.apiUrl}/user`, { method: 'GET', headers: this.headers, host: 'gitlab', endpoint: 'GET /user' }, this.retry).then(({ data }) => checkUser(data).id),
  );

  async setStatus(sha: string, status: CommitStatus): Promise<void> {
    await this.req('POST', `/statuses/${encodeURIComponent(sha)}`, '/statuses/{sha}', {
      state: STATES[status.state],
      name: status.context,
      description: shorten(status.description, 255),
      ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
    });
  }

  async upsertComment(mr: number, marker: string, body: string, opts: { createIfMissing?: boolean } = {}): Promise<UpsertResult> {
    const me = await this.whoami();
    for (let page = 1; page <= 50; page++) {
      const res = await this.req('GET', `/merge_requests/${mr}/notes?per_page=100&page=${page}&sort=asc`, '/merge_requests/{iid}/notes');
      const data = checkNotes(res.data);
      const mine = data.find((n) => !n.system && n.author.id === me && n.body.includes(marker));
      if (mine) {
        if (mine.body === body) return { action: 'unchanged', id: String(mine.id) };
        await this.req('PUT', `/merge_requests/${mr}/notes/${mine.id}`, '/merge_requests/{iid}/notes/{note_id}', { body });
        return { action: 'updated', id: String(mine.id) };
      }
      if (!res.headers['x-next-page'] || data.length < 100) break;
    }
    if (opts.createIfMissing === false) return { action: 'skipped' };
    const { data } = await this.req('POST', `/merge_requests/${mr}/notes`, '/merge_requests/{iid}/notes', { body });
    return { action: 'created', id: String(checkCreatedNote(data).id) };
  }

  async comment(mr: number, body: string): Promise<void> {
    await this.req('POST', `/merge_requests/${mr}/notes`, '/merge_requests/{iid}/notes', { body });
  }

  async findPullRequestForCommit(sha: string): Promise<number | undefined> {
    const { data } = await this.req('GET', `/repository/commits/${encodeURIComponent(sha)}/merge_requests`, '/repository/commits/{sha}/merge_requests');
    const mrs = checkMergeRequests(data);
    return (mrs.find((m) => m.state === 'merged') ?? mrs[0])?.iid;
  }
}
