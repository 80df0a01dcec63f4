// GitHub App mode: the adapter authenticates as an App installation (JWT → installation token)
// and reports with Check Runs, created once per sha+context and updated in place. A local server
// stands in for api.github.com; every request is checked against @octokit/openapi.
import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createGitHost, type GitHubHost } from '../../src/hosts/index.js';
import { startHostServer, type HostServer, type Recorded } from './host-server.js';
import { exampleResponse, findOperation, validateRequest } from './fake-github.js';
import { PLAN_MARKER } from '../../src/hosts/index.js';

type Json = Record<string, unknown>;
const APP_ID = 424242;
const INSTALLATION_ID = 777;
const INSTALLATION_TOKEN = 'ghs_faultlineTestInstallationToken000';
const SHA = 'a'.repeat(40);
const retry = { attempts: 2, baseDelayMs: 5, timeoutMs: 10_000 };

interface FakeRun {
  id: number;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string | null;
  output: { title: string; summary: string };
  details_url?: string;
}

interface FakeAppGitHub extends HostServer {
  errors: string[];
  operations: string[];
  /** The Authorization header of each request, by operationId, in order. */
  auth: { operationId: string; authorization: string }[];
  jwtClaims: Json[];
  runs: FakeRun[];
  statuses: Json[];
  comments: Json[];
}

function decodeJwt(jwt: string, publicKey: KeyObject): { claims: Json; valid: boolean } {
  const [header, payload, signature] = jwt.split('.');
  const valid = verify('sha256', Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature ?? '', 'base64url'));
  return { claims: JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Json, valid };
}

async function startFakeAppGitHub(publicKey: KeyObject): Promise<FakeAppGitHub> {
  const errors: string[] = [];
  const operations: string[] = [];
  const auth: FakeAppGitHub['auth'] = [];
  const jwtClaims: Json[] = [];
  const runs: FakeRun[] = [];
  const statuses: Json[] = [];
  const comments: Json[] = [];
  let nextId = 5000;
  const server = await startHostServer((req: Recorded) => {
    const { operation, errors: errs } = validateRequest(req);
    errors.push(...errs);
    if (!operation) return { status: 404, body: { message: 'Not Found' } };
    const id = operation.operationId;
    operations.push(id);
    const authorization = String(req.headers.authorization ?? '');
    auth.push({ operationId: id, authorization });
    const parts = req.path.split('/');
    const body = (req.body ?? {}) as Json;

    if (id === 'apps/create-installation-access-token') {
      const jwt = /^bearer (.+)$/i.exec(authorization)?.[1];
      if (!jwt) return { status: 401, body: { message: 'A JSON web token could not be decoded' } };
      const { claims, valid } = decodeJwt(jwt, publicKey);
      if (!valid || String(claims.iss) !== String(APP_ID) || Number(parts[3]) !== INSTALLATION_ID) {
        return { status: 401, body: { message: 'bad JWT or installation' } };
      }
      jwtClaims.push(claims);
      const expires = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      return { status: 201, body: { ...exampleResponse(operation, 201), token: INSTALLATION_TOKEN, expires_at: expires } };
    }
    if (id === 'apps/get-authenticated') {
      const jwt = /^bearer (.+)$/i.exec(authorization)?.[1];
      if (!jwt || !decodeJwt(jwt, publicKey).valid) return { status: 401, body: { message: 'A JSON web token could not be decoded' } };
      return { status: 200, body: { ...exampleResponse(operation, 200), id: APP_ID, slug: 'faultline-test' } };
    }
    // Everything else only with a credential this server handed out (or, in token mode, the PAT).
    if (!/^token (ghs_faultlineTestInstallationToken000|ghp_plainToken)$/i.test(authorization)) {
      return { status: 401, body: { message: 'Bad credentials' } };
    }
    const view = (run: FakeRun): Json => ({ ...(exampleResponse(operation, operation.method === 'POST' ? 201 : 200) as Json), ...run, app: { id: APP_ID } });
    switch (id) {
      case 'checks/create': {
        const run: FakeRun = {
          id: nextId++,
          name: String(body.name),
          head_sha: String(body.head_sha),
          status: String(body.status ?? 'queued'),
          conclusion: (body.conclusion as string | undefined) ?? null,
          output: body.output as FakeRun['output'],
          ...(body.details_url ? { details_url: String(body.details_url) } : {}),
        };
        runs.push(run);
        return { status: 201, body: view(run) };
      }
      case 'checks/update': {
        const run = runs.find((r) => r.id === Number(parts[5]));
        if (!run) return { status: 404, body: { message: 'Not Found' } };
        if (body.status) run.status = String(body.status);
        if (body.conclusion) run.conclusion = String(body.conclusion);
        if (body.output) run.output = body.output as FakeRun['output'];
        return { status: 200, body: view(run) };
      }
      case 'checks/list-for-ref': {
        const name = req.query.get('check_name');
        const app = req.query.get('app_id');
        const list = runs.filter((r) => r.head_sha === parts[5] && (!name || r.name === name) && (!app || Number(app) === APP_ID));
        const example = (exampleResponse(operation, 200).check_runs as Json[])[0];
        return { status: 200, body: { total_count: list.length, check_runs: list.map((r) => ({ ...example, ...r, app: { id: APP_ID } })) } };
      }
      case 'repos/create-commit-status': {
        statuses.push({ sha: parts[5], ...body });
        return { status: 201, body: { ...exampleResponse(operation, 201), state: body.state, context: body.context } };
      }
      case 'issues/create-comment': {
        const c = { ...exampleResponse(operation, 201), id: nextId++, body: body.body, user: { login: 'faultline-test[bot]', type: 'Bot' }, issue: Number(parts[5]) };
        comments.push(c);
        return { status: 201, body: c };
      }
      case 'issues/list-comments':
        return { status: 200, body: comments.filter((c) => c.issue === Number(parts[5])) };
      case 'issues/update-comment': {
        const c = comments.find((x) => x.id === Number(parts[6]));
        if (!c) return { status: 404, body: { message: 'Not Found' } };
        c.body = body.body;
        return { status: 200, body: c };
      }
      default:
        return { status: 501, body: { message: `fake does not implement ${id}` } };
    }
  });
  return Object.assign(server, { errors, operations, auth, jwtClaims, runs, statuses, comments });
}

const appConfig = (url: string, privateKey: string) => ({
type: 'github' as const,
apiUrl: url,
repository: 'octo-org/chaos',
appId: APP_ID,
installationId: INSTALLATION_ID,
privateKey,
});

describe('GitHub App mode: sticky comments', () => {
  it("edits only the App's own comment (its bot user from GET /app), never one pasted by a person", async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const gh = await startFakeAppGitHub(publicKey);
    try {
      const ex = exampleResponse(findOperation('POST', '/repos/o/r/issues/3/comments')!, 201);
      gh.comments.push({ ...ex, id: 1, issue: 3, body: `${PLAN_MARKER} pasted`, user: { login: 'octocat', type: 'User' } });
      const host = createGitHost(appConfig(gh.url, pem), { retry });
      expect((await host.upsertComment(3, PLAN_MARKER, `${PLAN_MARKER} one`)).action).toBe('created');
      expect((await host.upsertComment(3, PLAN_MARKER, `${PLAN_MARKER} two`)).action).toBe('updated');
      expect(gh.comments.map((c) => [c.id, c.body])).toEqual([
        [1, `${PLAN_MARKER} pasted`],
        [5000, `${PLAN_MARKER} two`],
      ]);
      expect(gh.operations.filter((o) => o === 'apps/get-authenticated')).toHaveLength(1);
      expect(gh.errors).toEqual([]);
    } finally {
      await gh.close();
    }
  });
});

describe('GitHub App mode: Check Runs', () => {
  let pkcs1: string;
  let pkcs8: string;
  let publicKey: KeyObject;
  let gh: FakeAppGitHub | undefined;

  beforeAll(() => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    pkcs1 = pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    pkcs8 = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    publicKey = pair.publicKey;
  });
  afterEach(async () => {
    await gh?.close();
    gh = undefined;
  });

  it('exchanges a JWT for an installation token, creates one check run and updates it in place', async () => {
    gh = await startFakeAppGitHub(publicKey);
    const host = createGitHost(appConfig(gh.url, pkcs1), { retry });
    expect((host as GitHubHost).statusMode).toBe('checks');

    await host.setStatus(SHA, { context: 'faultline/plan', state: 'pending', description: 'Planning 2 experiments' });
    expect(gh.operations).toEqual(['apps/create-installation-access-token', 'checks/list-for-ref', 'checks/create']);
    expect(gh.runs).toHaveLength(1);
    expect(gh.runs[0]).toMatchObject({ name: 'faultline/plan', head_sha: SHA, status: 'in_progress', conclusion: null });
    const created = gh.requests.find((r) => r.method === 'POST' && r.path.endsWith('/check-runs'))!.body as Json;
    expect(created.started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(created.output).toEqual({ title: 'Planning 2 experiments', summary: 'Planning 2 experiments' });

    // The JWT was signed with the App key, issued by the App, short-lived.
    expect(gh.jwtClaims).toHaveLength(1);
    const claims = gh.jwtClaims[0]!;
    expect(Number(claims.exp) - Number(claims.iat)).toBeLessThanOrEqual(600);
    // Only the exchange used the JWT; everything after it the installation token.
    expect(gh.auth[0]!.authorization).toMatch(/^bearer /i);
    for (const a of gh.auth.slice(1)) expect(a.authorization).toBe(`token ${INSTALLATION_TOKEN}`);

    const runId = gh.runs[0]!.id;
    await host.setStatus(SHA, {
      context: 'faultline/plan',
      state: 'failure',
      description: '1 invalid experiment: experiments/bad.yaml',
      targetUrl: 'https://faultline.example.com/plans/1',
    });
    expect(gh.operations.slice(3)).toEqual(['checks/update']); // remembered id, token cached, no second create
    const patch = gh.requests.at(-1)!;
    expect(patch.method).toBe('PATCH');
    expect(patch.path).toBe(`/repos/octo-org/chaos/check-runs/${runId}`);
    expect(patch.body).toMatchObject({ status: 'completed', conclusion: 'failure', details_url: 'https://faultline.example.com/plans/1' });
    expect((patch.body as Json).completed_at).toMatch(/Z$/);
    expect(gh.runs).toHaveLength(1);
    expect(gh.runs[0]).toMatchObject({ id: runId, status: 'completed', conclusion: 'failure' });
    expect(gh.runs[0]!.output.summary).toContain('https://faultline.example.com/plans/1');

    // Another context on the same sha is its own run.
    await host.setStatus(SHA, { context: 'faultline/run', state: 'success', description: 'pod-kill checkout: passed' });
    expect(gh.runs.map((r) => [r.name, r.status, r.conclusion])).toEqual([
      ['faultline/plan', 'completed', 'failure'],
      ['faultline/run', 'completed', 'success'],
    ]);
    expect(gh.operations.filter((o) => o === 'apps/create-installation-access-token')).toHaveLength(1);
    expect(gh.errors).toEqual([]);
  });

  it('after a restart finds the existing run with list-for-ref and updates it', async () => {
    gh = await startFakeAppGitHub(publicKey);
    const first = createGitHost(appConfig(gh.url, pkcs8), { retry });
    await first.setStatus(SHA, { context: 'faultline/plan', state: 'pending', description: 'Planning' });
    const runId = gh.runs[0]!.id;

    const restarted = createGitHost(appConfig(gh.url, pkcs8), { retry });
    const before = gh.requests.length;
    await restarted.setStatus(SHA, { context: 'faultline/plan', state: 'error', description: 'cluster unreachable' });
    const after = gh.requests.slice(before);
    expect(after.map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST /app/installations/${INSTALLATION_ID}/access_tokens`,
      `GET /repos/octo-org/chaos/commits/${SHA}/check-runs`,
      `PATCH /repos/octo-org/chaos/check-runs/${runId}`,
    ]);
    const list = after[1]!;
    expect(list.query.get('check_name')).toBe('faultline/plan');
    expect(list.query.get('app_id')).toBe(String(APP_ID));
    expect(gh.runs).toHaveLength(1);
    expect(gh.runs[0]).toMatchObject({ id: runId, status: 'completed', conclusion: 'neutral' }); // error → neutral

    // A new evaluation of the same sha (pending after a conclusion) starts a new run, as a re-run does.
    await restarted.setStatus(SHA, { context: 'faultline/plan', state: 'pending', description: 'Planning again' });
    expect(gh.runs).toHaveLength(2);
    expect(gh.runs[1]).toMatchObject({ status: 'in_progress' });
    await restarted.setStatus(SHA, { context: 'faultline/plan', state: 'success', description: 'All good' });
    expect(gh.runs).toHaveLength(2);
    expect(gh.runs[1]).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect(gh.runs[0]).toMatchObject({ conclusion: 'neutral' });
    expect(gh.errors).toEqual([]);
  });

  it('states sent back to back for one sha+context never create two runs', async () => {
    gh = await startFakeAppGitHub(publicKey);
    const host = createGitHost(appConfig(gh.url, pkcs1), { retry });
    await Promise.all([
      host.setStatus(SHA, { context: 'faultline/plan', state: 'pending', description: 'Planning' }),
      host.setStatus(SHA, { context: 'faultline/plan', state: 'failure', description: 'Guard maxTargets blocked checkout' }),
    ]);
    expect(gh.operations.filter((o) => o === 'checks/create')).toHaveLength(1);
    expect(gh.runs).toHaveLength(1);
    expect(gh.runs[0]).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(gh.errors).toEqual([]);
  });

  it('keeps the summary within 65535 characters and comments as issue comments', async () => {
    gh = await startFakeAppGitHub(publicKey);
    const host = createGitHost(appConfig(gh.url, pkcs8), { retry });
    const long = '🙂'.repeat(70_000); // astral characters: a naive cut would split a pair
    await host.setStatus(SHA, { context: 'faultline/run', state: 'failure', description: long });
    const output = gh.runs[0]!.output;
    expect([...output.summary].length).toBeLessThanOrEqual(65_535);
    expect(output.summary.length).toBeLessThanOrEqual(65_535 * 2);
    expect(output.summary).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/); // no lone high surrogate at the cut
    expect([...output.title].length).toBeLessThanOrEqual(255);

    await host.comment(12, 'Run finished: passed');
    expect(gh.comments.map((c) => ({ issue: c.issue, body: c.body }))).toEqual([{ issue: 12, body: 'Run finished: passed' }]);
    expect(gh.operations).not.toContain('repos/create-commit-status');
    expect(gh.errors).toEqual([]);
  });

  it('with a token (no App) still sends commit statuses', async () => {
    gh = await startFakeAppGitHub(publicKey);
    const host = createGitHost({ type: 'github', apiUrl: gh.url, repository: 'octo-org/chaos', token: 'ghp_plainToken' }, { retry });
    expect((host as GitHubHost).statusMode).toBe('statuses');
    await host.setStatus(SHA, { context: 'faultline/plan', state: 'pending', description: 'Planning' });
    await host.setStatus(SHA, { context: 'faultline/plan', state: 'success', description: 'All good' });
    expect(gh.operations).toEqual(['repos/create-commit-status', 'repos/create-commit-status']);
    expect(gh.statuses.map((s) => s.state)).toEqual(['pending', 'success']);
    expect(gh.auth.every((a) => a.authorization === 'token ghp_plainToken')).toBe(true);
    expect(gh.runs).toEqual([]);
    expect(gh.errors).toEqual([]);
  });

  it('refuses an incomplete App config or an unusable key, without echoing the key', () => {
    const base = { type: 'github' as const, apiUrl: 'http://127.0.0.1:1', repository: 'o/r' };
    expect(() => createGitHost({ ...base, appId: APP_ID, privateKey: pkcs8 } as Parameters<typeof createGitHost>[0])).toThrow(/missing installationId/);
    const secretish = '-----BEGIN PRIVATE KEY-----\nnot-really-a-key-SECRET\n-----END PRIVATE KEY-----';
    let message = '';
    try {
      createGitHost({ ...base, appId: APP_ID, installationId: INSTALLATION_ID, privateKey: secretish } as Parameters<typeof createGitHost>[0]);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/private key is not a usable PEM key/);
    expect(message).not.toContain('SECRET');
  });
});

describe('GitHub App settings in the controller config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-ghapp-'));
  const keyFile = join(dir, 'app.pem');
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  writeFileSync(keyFile, pem);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const yaml = (gitHost: string): string => {
    const path = join(dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, `repo: { url: "https://x.example.com/r.git" }\ngitHost: ${gitHost}\n`);
    return path;
  };

  it('reads appId, installationId and the key from privateKeyFile; the adapter runs in Check Runs mode', () => {
    const path = yaml(`{ type: github, apiUrl: "https://api.github.com", repository: o/r, appId: ${APP_ID}, installationId: ${INSTALLATION_ID}, privateKeyFile: "${keyFile}" }`);
    const c = loadConfig({ file: path, env: {} });
    expect(c.gitHost).toEqual({ type: 'github', apiUrl: 'https://api.github.com', repository: 'o/r', appId: APP_ID, installationId: INSTALLATION_ID, privateKey: pem.trim() });
    expect((createGitHost(c.gitHost!) as GitHubHost).statusMode).toBe('checks');
  });

  it('takes the same settings from FAULTLINE_GITHUB_* variables', () => {
    const c = loadConfig({
      env: {
        FAULTLINE_REPO_URL: 'https://x.example.com/r.git',
        FAULTLINE_GIT_HOST: 'github',
        FAULTLINE_GIT_HOST_API_URL: 'https://api.github.com',
        FAULTLINE_GIT_HOST_REPOSITORY: 'o/r',
        FAULTLINE_GITHUB_APP_ID: String(APP_ID),
        FAULTLINE_GITHUB_INSTALLATION_ID: String(INSTALLATION_ID),
        FAULTLINE_GITHUB_PRIVATE_KEY_FILE: keyFile,
      },
    });
    expect(c.gitHost).toMatchObject({ appId: APP_ID, installationId: INSTALLATION_ID, privateKey: pem.trim() });
  });

  it('refuses half an App, an App on another host type, and a key written into the file', () => {
    expect(() => loadConfig({ file: yaml(`{ type: github, apiUrl: "https://api.github.com", repository: o/r, appId: ${APP_ID}, privateKeyFile: "${keyFile}" }`), env: {} })).toThrow(
      /needs appId, installationId and privateKeyFile together; missing installationId/,
    );
    expect(() =>
      loadConfig({ file: yaml(`{ type: gitlab, apiUrl: "https://gitlab.example.com/api/v4", repository: o/r, appId: 1, installationId: 2, privateKeyFile: "${keyFile}" }`), env: {} }),
    ).toThrow(/for GitHub Apps, but gitHost.type is gitlab/);
    expect(() => loadConfig({ file: yaml(`{ type: github, apiUrl: "https://api.github.com", repository: o/r, privateKey: "-----BEGIN" }`), env: {} })).toThrow(
      /secrets are not read from the config file: use FAULTLINE_GITHUB_PRIVATE_KEY_FILE or gitHost.privateKeyFile/,
    );
    expect(() => loadConfig({ file: yaml(`{ type: github, apiUrl: "https://api.github.com", repository: o/r, appId: "12" }`), env: {} })).toThrow(/appId/);
  });
});
