import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHost } from '../../src/hosts/index.js';
import { PLAN_MARKER } from '../../src/hosts/types.js';
import { requestedDelayMs } from '../../src/hosts/retry.js';
import { startFakeGitHub, validateRequest, type FakeGitHub } from './fake-github.js';
import { startHostServer, type HostServer, type Reply } from './host-server.js';

const SHA = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821';
const fast = { retry: { baseDelayMs: 5, maxDelayMs: 50, attempts: 4 } };

describe('GitHub adapter (Octokit) against the OpenAPI description', () => {
  let gh: FakeGitHub;
  beforeAll(async () => {
    gh = await startFakeGitHub();
  });
  afterAll(() => gh.close());

  it('the validator itself rejects a request GitHub would refuse', () => {
    const bad = validateRequest({ method: 'POST', path: `/repos/o/r/statuses/${SHA}`, query: new URLSearchParams(), headers: {}, body: { state: 'green' } });
    expect(bad.errors.join()).toMatch(/must be equal to one of the allowed values/);
    expect(validateRequest({ method: 'POST', path: '/repos/o/r/nope', query: new URLSearchParams(), headers: {}, body: {} }).errors).toHaveLength(1);
  });

  it('statuses, sticky comments and the PR of a commit all conform', async () => {
    const host = createGitHost({ type: 'github', apiUrl: gh.url, token: 'ghp_test', repository: 'Codertocat/Hello-World' }, fast);
    expect(host.maxCommentLength).toBe(65_536);
    await host.setStatus(SHA, { context: 'faultline/plan', state: 'failure', description: 'x'.repeat(300), targetUrl: 'http://faultline.local/plan' });
    expect(gh.statuses[0]).toMatchObject({ sha: SHA, state: 'failure', context: 'faultline/plan' });
    expect([...gh.statuses[0]!.description]).toHaveLength(140);
    expect(gh.requests[0]!.headers.authorization).toBe('token ghp_test');

    const first = await host.upsertComment(7, PLAN_MARKER, `${PLAN_MARKER}\nplan v1`);
    const second = await host.upsertComment(7, PLAN_MARKER, `${PLAN_MARKER}\nplan v2`);
    const third = await host.upsertComment(7, PLAN_MARKER, `${PLAN_MARKER}\nplan v2`);
    expect([first.action, second.action, third.action]).toEqual(['created', 'updated', 'unchanged']);
    expect(second.id).toBe(first.id);
    expect(gh.comments.get(7)).toEqual([{ id: Number(first.id), body: `${PLAN_MARKER}\nplan v2` }]);
    expect(await host.upsertComment(8, PLAN_MARKER, 'x', { createIfMissing: false })).toEqual({ action: 'skipped' });

    gh.pullsForCommit.set(SHA, 42);
    expect(await host.findPullRequestForCommit(SHA)).toBe(42);
    expect(await host.findPullRequestForCommit('b'.repeat(40))).toBeUndefined();
    await host.comment(42, 'run succeeded');
    expect(gh.errors).toEqual([]);
    expect(gh.operations).toEqual(
      expect.arrayContaining(['repos/create-commit-status', 'issues/list-comments', 'issues/create-comment', 'issues/update-comment', 'repos/list-pull-requests-associated-with-commit']),
    );
  });

  it('retries 5xx and rate-limited 403, and gives up at once on 404', async () => {
    const host = createGitHost({ type: 'github', apiUrl: gh.url, token: 't', repository: 'o/r' }, fast);
    const before = gh.requests.length;
    gh.failNext.push({ status: 502, body: { message: 'bad gateway' } });
    gh.failNext.push({
      status: 403,
      body: { message: 'API rate limit exceeded' },
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000)) },
    });
    await host.setStatus(SHA, { context: 'faultline/run', state: 'success', description: 'ok' });
    expect(gh.requests.length - before).toBe(3);

    const n = gh.requests.length;
    gh.failNext.push({ status: 404, body: { message: 'Not Found' } });
    await expect(host.setStatus(SHA, { context: 'faultline/run', state: 'success', description: 'ok' })).rejects.toMatchObject({ status: 404 });
    expect(gh.requests.length - n).toBe(1);

    const m = gh.requests.length;
    gh.failNext.push(...Array.from({ length: 10 }, (): Reply => ({ status: 500, body: { message: 'boom' } })));
    await expect(host.comment(1, 'x')).rejects.toMatchObject({ status: 500 });
    expect(gh.requests.length - m).toBe(4); // bounded
    gh.failNext.length = 0;
  });

  it('reads Retry-After and x-ratelimit-reset', () => {
    expect(requestedDelayMs({ 'retry-after': '2' })).toBe(2000);
    expect(requestedDelayMs({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '100' }, 95_000)).toBe(5000);
    expect(requestedDelayMs({ 'x-ratelimit-remaining': '12', 'x-ratelimit-reset': '100' }, 95_000)).toBeUndefined();
  });
});

// GitLab and Gitea publish no API description on npm; these check paths, verbs and bodies
// against their REST documentation (GitLab v4 commits/notes/MRs, Gitea /api/v1 swagger).
describe('GitLab adapter', () => {
  let srv: HostServer;
  // As GitLab answers: every note has its author. Note 3 is someone else's, quoting our marker.
  const notes: { id: number; body: string; system: boolean; author: { id: number; username: string } }[] = [
    { id: 1, body: 'approved this merge request', system: true, author: { id: 9, username: 'reviewer' } },
    { id: 3, body: `${PLAN_MARKER} copied by someone else`, system: false, author: { id: 9, username: 'reviewer' } },
  ];
  beforeAll(async () => {
    srv = await startHostServer((req) => {
      if (req.method === 'GET' && req.path === '/api/v4/user') return { status: 200, body: { id: 42, username: 'faultline-bot' } };
      const p = req.path.replace('/api/v4/projects/group%2Fsub%2Fshop', '');
      if (req.method === 'POST' && p.startsWith('/statuses/')) return { status: 201, body: { id: 1, ...(req.body as object) } };
      if (req.method === 'GET' && p === '/merge_requests/5/notes') return { status: 200, body: notes };
      if (req.method === 'POST' && p === '/merge_requests/5/notes') {
        const n = { id: 10 + notes.length, body: (req.body as { body: string }).body, system: false, author: { id: 42, username: 'faultline-bot' } };
        notes.push(n);
        return { status: 201, body: n };
      }
      if (req.method === 'PUT' && p.startsWith('/merge_requests/5/notes/')) {
        const n = notes.find((x) => x.id === Number(p.split('/').pop()))!;
        n.body = (req.body as { body: string }).body;
        return { status: 200, body: n };
      }
      if (req.method === 'GET' && p === `/repository/commits/${SHA}/merge_requests`) return { status: 200, body: [{ iid: 4, state: 'closed' }, { iid: 5, state: 'merged' }] };
      if (req.method === 'GET' && p.endsWith('/merge_requests')) return { status: 200, body: [] };
      return { status: 404, body: { message: '404 Not found' } };
    });
  });
  afterAll(() => srv.close());

  it('maps states, edits its own note (not another author\'s with the marker), finds the merged MR', async () => {
    const host = createGitHost({ type: 'gitlab', apiUrl: `${srv.url}/api/v4`, token: 'glpat', repository: 'group/sub/shop' }, fast);
    await host.setStatus(SHA, { context: 'faultline/plan', state: 'failure', description: 'bad', targetUrl: 'http://x' });
    expect(srv.requests[0]).toMatchObject({ method: 'POST', path: `/api/v4/projects/group%2Fsub%2Fshop/statuses/${SHA}`, body: { state: 'failed', name: 'faultline/plan', description: 'bad', target_url: 'http://x' } });
    expect(srv.requests[0]!.headers['private-token']).toBe('glpat');
    expect((await host.upsertComment(5, PLAN_MARKER, `${PLAN_MARKER} a`)).action).toBe('created');
    expect((await host.upsertComment(5, PLAN_MARKER, `${PLAN_MARKER} b`)).action).toBe('updated');
    expect(notes.filter((n) => !n.system)).toEqual([
      { id: 3, body: `${PLAN_MARKER} copied by someone else`, system: false, author: { id: 9, username: 'reviewer' } },
      { id: 12, body: `${PLAN_MARKER} b`, system: false, author: { id: 42, username: 'faultline-bot' } },
    ]);
    expect(srv.requests.filter((r) => r.method === 'PUT').map((r) => r.path)).toEqual(['/api/v4/projects/group%2Fsub%2Fshop/merge_requests/5/notes/12']);
    expect(srv.requests.filter((r) => r.path === '/api/v4/user')).toHaveLength(1); // asked once
    expect(await host.findPullRequestForCommit(SHA)).toBe(5);
    expect(await host.findPullRequestForCommit('c'.repeat(40))).toBeUndefined();
  });
});

describe('Gitea/Forgejo adapter', () => {
  let srv: HostServer;
  // As Gitea answers: every comment has its user. Comment 50 is someone else's, quoting our marker.
  const comments: { id: number; body: string; user: { id: number; login: string } }[] = [{ id: 50, body: `${PLAN_MARKER} pasted`, user: { id: 8, login: 'someone' } }];
  beforeAll(async () => {
    srv = await startHostServer((req) => {
      if (req.method === 'GET' && req.path === '/api/v1/user') return { status: 200, body: { id: 7, login: 'faultline-bot' } };
      const p = req.path.replace('/api/v1/repos/owner/shop', '');
      if (req.method === 'POST' && p.startsWith('/statuses/')) return { status: 201, body: { id: 1, ...(req.body as object) } };
      if (req.method === 'GET' && p === '/issues/3/comments') return { status: 200, body: comments };
      if (req.method === 'POST' && p === '/issues/3/comments') {
        const c = { id: 99 + comments.length, body: (req.body as { body: string }).body, user: { id: 7, login: 'faultline-bot' } };
        comments.push(c);
        return { status: 201, body: c };
      }
      if (req.method === 'PATCH' && p.startsWith('/issues/comments/')) {
        const c = comments.find((x) => x.id === Number(p.split('/').pop()))!;
        c.body = (req.body as { body: string }).body;
        return { status: 200, body: c };
      }
      if (req.method === 'GET' && p === `/commits/${SHA}/pull`) return { status: 200, body: { number: 3 } };
      return { status: 404, body: { message: 'not found' } };
    });
  });
  afterAll(() => srv.close());

  it('statuses, sticky comment via PATCH, PR of a commit (404 = none)', async () => {
    const host = createGitHost({ type: 'gitea', apiUrl: `${srv.url}/api/v1`, token: 'gt', repository: 'owner/shop' }, fast);
    await host.setStatus(SHA, { context: 'faultline/run', state: 'error', description: 'aborted' });
    expect(srv.requests[0]).toMatchObject({ method: 'POST', path: `/api/v1/repos/owner/shop/statuses/${SHA}`, body: { state: 'error', context: 'faultline/run' } });
    expect(srv.requests[0]!.headers.authorization).toBe('token gt');
    await host.upsertComment(3, PLAN_MARKER, `${PLAN_MARKER} 1`);
    await host.upsertComment(3, PLAN_MARKER, `${PLAN_MARKER} 2`);
    expect(comments).toEqual([
      { id: 50, body: `${PLAN_MARKER} pasted`, user: { id: 8, login: 'someone' } },
      { id: 100, body: `${PLAN_MARKER} 2`, user: { id: 7, login: 'faultline-bot' } },
    ]);
    expect(srv.requests.filter((r) => r.method === 'PATCH').map((r) => r.path)).toEqual(['/api/v1/repos/owner/shop/issues/comments/100']);
    expect(srv.requests.some((r) => r.method === 'PATCH' && r.path === '/api/v1/repos/owner/shop/issues/comments/100')).toBe(true);
    expect(await host.findPullRequestForCommit(SHA)).toBe(3);
    expect(await host.findPullRequestForCommit('d'.repeat(40))).toBeUndefined();
  });
});
