// Host API answers of the wrong shape, from stand-in hosts over real HTTP: each gives one clear
// error naming host, endpoint and field, is not retried, and leads to no action on a comment
// Faultline cannot prove is its own.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createGitHost, PLAN_MARKER } from '../../src/hosts/index.js';
import { HostResponseError } from '../../src/hosts/response.js';
import { requestJson } from '../../src/hosts/retry.js';
import { handlePullRequest } from '../../src/report/pr-plan.js';
import { loadExperimentFiles } from '../../src/experiments/index.js';
import { startHostServer, type HostServer, type Recorded, type Reply } from '../report/host-server.js';

const SHA = 'a'.repeat(40);
const fast = { retry: { attempts: 3, baseDelayMs: 1, timeoutMs: 5000 } };
const servers: HostServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function stand(handler: (req: Recorded) => Reply | undefined): Promise<HostServer> {
  const s = await startHostServer((req) => handler(req) ?? { status: 201, body: { id: 1 } });
  servers.push(s);
  return s;
}
const writes = (s: HostServer) => s.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`);

async function rejected(p: Promise<unknown>): Promise<HostResponseError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(HostResponseError);
  return err as HostResponseError;
}

describe('GitHub (Octokit) answers checked by schema', () => {
  const comments = (list: unknown) => (req: Recorded): Reply | undefined => {
    if (req.path === '/user') return { status: 200, body: { login: 'faultline-bot', id: 1 } };
    if (req.method === 'GET' && req.path === '/repos/o/r/issues/1/comments') return { status: 200, body: list };
    return undefined;
  };

  it('a comment whose user is not an object: one error naming the field, nothing edited or created', async () => {
    const s = await stand(comments([{ id: 5, body: `${PLAN_MARKER} x`, user: 'faultline-bot' }]));
    const host = createGitHost({ type: 'github', apiUrl: s.url, token: 't', repository: 'o/r' }, fast);
    const err = await rejected(host.upsertComment(1, PLAN_MARKER, `${PLAN_MARKER} new`));
    expect(err.message).toBe('github GET /repos/{owner}/{repo}/issues/{issue_number}/comments: unexpected answer: field /0/user must be object');
    expect([err.host, err.field]).toEqual(['github', '/0/user']);
    expect(writes(s)).toEqual([]);
  });

  it('a comment id that is a string, or a body that is an object, is refused the same way', async () => {
    for (const [item, field] of [
      [{ id: '5/../../hooks', body: PLAN_MARKER, user: { login: 'faultline-bot' } }, '/0/id'],
      [{ id: 5, body: { text: PLAN_MARKER }, user: { login: 'faultline-bot' } }, '/0/body'],
      [{ id: 5, body: PLAN_MARKER }, '/0/user'],
    ] as const) {
      const s = await stand(comments([item]));
      const host = createGitHost({ type: 'github', apiUrl: s.url, token: 't', repository: 'o/r' }, fast);
      expect((await rejected(host.upsertComment(1, PLAN_MARKER, 'new'))).field).toBe(field);
      expect(writes(s)).toEqual([]);
    }
  });

  it("someone else's comment carrying the marker is never edited; ours is created", async () => {
    const s = await stand(comments([{ id: 5, body: `${PLAN_MARKER} pasted by mallory`, user: { login: 'mallory' } }]));
    const host = createGitHost({ type: 'github', apiUrl: s.url, token: 't', repository: 'o/r' }, fast);
    expect((await host.upsertComment(1, PLAN_MARKER, `${PLAN_MARKER} plan`)).action).toBe('created');
    expect(writes(s)).toEqual(['POST /repos/o/r/issues/1/comments']);
  });

  it('an HTML page instead of JSON (a proxy login page): refused by shape, asked once', async () => {
    const s = await stand((req) => (req.method === 'GET' ? { status: 200, raw: '<html>sign in</html>', headers: { 'content-type': 'text/html' } } : undefined));
    const host = createGitHost({ type: 'github', apiUrl: s.url, token: 't', repository: 'o/r' }, fast);
    expect((await rejected(host.upsertComment(1, PLAN_MARKER, 'x'))).message).toMatch(/^github GET \/repos\/\{owner\}\/\{repo\}\/issues\/\{issue_number\}\/comments: unexpected answer: /);
    expect((await rejected(host.findPullRequestForCommit(SHA))).message).toMatch(/^github GET \/repos\/\{owner\}\/\{repo\}\/commits\/\{commit_sha\}\/pulls: unexpected answer: body must be array/);
    expect(s.requests.map((r) => r.method)).toEqual(['GET', 'GET']);
  });

  it('a pull request for a commit without a number, and a created comment without an id', async () => {
    const s = await stand((req) => {
      if (req.path.endsWith('/pulls')) return { status: 200, body: [{ number: 'seven', merged_at: null }] };
      if (req.method === 'POST') return { status: 201, body: { id: null } };
      if (req.path === '/user') return { status: 200, body: { login: 'faultline-bot' } };
      return { status: 200, body: [] };
    });
    const host = createGitHost({ type: 'github', apiUrl: s.url, token: 't', repository: 'o/r' }, fast);
    expect((await rejected(host.findPullRequestForCommit(SHA))).message).toBe(
      'github GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls: unexpected answer: field /0/number must be integer',
    );
    expect((await rejected(host.upsertComment(1, PLAN_MARKER, 'x'))).field).toBe('/id');
  });
});

describe('GitLab and Gitea answers checked by schema', () => {
  it('GitLab: a note without an author, a non-JSON body (asked once, not retried), a merge request iid of the wrong type', async () => {
    let notes: Reply = { status: 200, body: [{ id: 3, body: `${PLAN_MARKER} x`, system: false }] };
    const s = await stand((req) => {
      if (req.path === '/user') return { status: 200, body: { id: 42 } };
      if (req.path.endsWith('/notes') && req.method === 'GET') return notes;
      if (req.path.endsWith('/merge_requests')) return { status: 200, body: [{ iid: '4', state: 'merged' }] };
      return undefined;
    });
    const host = createGitHost({ type: 'gitlab', apiUrl: s.url, token: 't', repository: 'g/p' }, fast);
    expect((await rejected(host.upsertComment(5, PLAN_MARKER, 'x'))).message).toBe(
      'gitlab GET /projects/{id}/merge_requests/{iid}/notes: unexpected answer: field /0/author is missing',
    );
    notes = { status: 200, raw: '<html>sign in</html>', headers: { 'content-type': 'text/html' } };
    const before = s.requests.length;
    expect((await rejected(host.upsertComment(5, PLAN_MARKER, 'x'))).message).toMatch(/^gitlab GET \/projects\/\{id\}\/merge_requests\/\{iid\}\/notes: unexpected answer: body is not JSON/);
    expect(s.requests.length - before).toBe(1);
    expect((await rejected(host.findPullRequestForCommit(SHA))).field).toBe('/0/iid');
    expect(writes(s)).toEqual([]);
  });

  it('Gitea: a user that is a number, a pull request for a commit that is a list', async () => {
    const s = await stand((req) => {
      if (req.path === '/user') return { status: 200, body: { id: 7 } };
      if (req.path.endsWith('/comments') && req.method === 'GET') return { status: 200, body: [{ id: 1, body: PLAN_MARKER, user: 7 }] };
      if (req.path.endsWith('/pull')) return { status: 200, body: [{ number: 1 }] };
      return undefined;
    });
    const host = createGitHost({ type: 'gitea', apiUrl: s.url, token: 't', repository: 'o/r' }, fast);
    expect((await rejected(host.upsertComment(3, PLAN_MARKER, 'x'))).field).toBe('/0/user');
    expect((await rejected(host.findPullRequestForCommit(SHA))).message).toBe('gitea GET /repos/{owner}/{repo}/commits/{sha}/pull: unexpected answer: body must be object');
    expect(writes(s)).toEqual([]);
  });
});

describe('size', () => {
  it('an answer past the byte cap is refused without reading the rest, not retried', async () => {
    const s = await stand(() => ({ status: 200, raw: JSON.stringify(Array.from({ length: 5000 }, (_, i) => ({ id: i + 1, body: 'x'.repeat(100) }))) }));
    const err = await rejected(requestJson(`${s.url}/notes`, { method: 'GET', headers: {}, host: 'gitlab', endpoint: 'GET /notes', maxBytes: 64 * 1024 }, fast.retry));
    expect(err.message).toBe('gitlab GET /notes: unexpected answer: body is larger than 65536 bytes');
    expect(s.requests).toHaveLength(1);
  });
});

describe('through the pull-request path', () => {
  it('a hostile comment list is one logged error (host, endpoint, field); the plan still ends with its status', async () => {
    const s = await stand((req) => {
      if (req.path === '/user') return { status: 200, body: { login: 'faultline-bot' } };
      if (req.method === 'GET') return { status: 200, body: { not: 'a list' } };
      return undefined;
    });
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(JSON.parse(String(c)) as Record<string, unknown>), cb()) }));
    const host = createGitHost({ type: 'github', apiUrl: s.url, token: 't', repository: 'o/r' }, fast);
    const source = { readAll: async () => ({ revision: SHA, files: [], freeze: false }) };
    const r = await handlePullRequest({ number: 1, action: 'opened', headSha: SHA }, { source, loadExperimentFiles: (f) => loadExperimentFiles(f), plan: async () => [], host, logger: log });
    expect(r.state).toBe('success');
    expect(r.errors).toHaveLength(1);
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toBe('report failed: plan comment');
    expect((errors[0]!.err as { message: string }).message).toMatch(/^github GET \/repos\/\{owner\}\/\{repo\}\/issues\/\{issue_number\}\/comments: unexpected answer: (field|body) /);
    expect(writes(s).filter((w) => w.includes('comments'))).toEqual([]);
    expect(writes(s)).toEqual([`POST /repos/o/r/statuses/${SHA}`, `POST /repos/o/r/statuses/${SHA}`]);
  });
});
