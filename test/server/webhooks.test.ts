import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildServer, readinessFrom, signGitea, signGithub } from '../../src/server/index.js';
import type { PullRequestEvent, PushEvent, ServerDeps } from '../../src/server/index.js';
import { pino } from 'pino';
import { silentLogger } from '../../src/log.js';
import type { ControllerConfig } from '../../src/config/index.js';
import { deleteKeys, fixture, githubExample, newRedis, testConfig } from './helpers.js';

const OLD = 'old-secret-9f3a';
const HELLO_WORLD = 'https://github.com/Codertocat/Hello-World.git'; // the repository of the GitHub examples
const NEW = 'new-secret-71c2';
const redis = newRedis();
const prefixes: string[] = [];

interface Harness {
  app: FastifyInstance;
  config: ControllerConfig;
  pushes: PushEvent[];
  prs: PullRequestEvent[];
  fail: { next: boolean };
}

// The repository's URLs and id are checked in repository.test.ts; these tests compare the rest.
function withoutRefs<T extends { repositoryUrls?: string[]; repositoryId?: string }>(e: T): T {
  const { repositoryUrls: _u, repositoryId: _i, ...rest } = e;
  return rest as T;
}

function harness(env: Record<string, string>, extra: Partial<ServerDeps> = {}): Harness {
  const config = testConfig({ FAULTLINE_WEBHOOK_SECRET: `${OLD},${NEW}`, FAULTLINE_BODY_LIMIT_BYTES: String(64 * 1024), ...env });
  prefixes.push(config.redis.prefix);
  const pushes: PushEvent[] = [];
  const prs: PullRequestEvent[] = [];
  const fail = { next: false };
  const app = buildServer({
    config,
    redis,
    log: silentLogger,
    onPush: async (e) => {
      if (fail.next) {
        fail.next = false;
        throw new Error('queue unavailable');
      }
      pushes.push(withoutRefs(e));
    },
    onPullRequest: async (e) => {
      prs.push(withoutRefs(e));
    },
    readiness: async () => ({ ok: true, checks: { redis: 'ok' } }),
    ...extra,
  });
  return { app, config, pushes, prs, fail };
}

function github(app: FastifyInstance, event: string, payload: unknown, opts: { secret?: string | null; delivery?: string; signature?: string } = {}) {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-github-event': event,
    'x-github-delivery': opts.delivery ?? randomUUID(),
  };
  if (opts.signature) headers['x-hub-signature-256'] = opts.signature;
  else if (opts.secret !== null) headers['x-hub-signature-256'] = signGithub(body, opts.secret ?? OLD);
  return app.inject({ method: 'POST', url: '/webhooks/github', headers, payload: body });
}

const pushExample = githubExample('push', (e) => e.ref === 'refs/heads/master' && e.deleted === false);
const tagExample = githubExample('push', (e) => e.ref === 'refs/tags/simple-tag' && e.deleted === false);
const prOpened = githubExample('pull_request', (e) => e.action === 'opened');

describe('GitHub webhooks (real @octokit/webhooks-examples payloads)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = harness({ FAULTLINE_BRANCH: 'master', FAULTLINE_REPO_URL: HELLO_WORLD });
    await h.app.ready();
  });
  beforeEach(() => {
    h.pushes.length = 0;
    h.prs.length = 0;
  });
  afterAll(async () => {
    await h.app.close();
  });

  it('accepts a signed push to the tracked branch with 202 and hands over one normalised event', async () => {
    const delivery = randomUUID();
    const res = await github(h.app, 'push', pushExample, { delivery });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: true, event: 'push', deliveryId: delivery });
    expect(h.pushes).toHaveLength(1);
    const commit = (pushExample.commits as { id: string }[])[0]!;
    expect(h.pushes[0]).toEqual({
      host: 'github',
      deliveryId: delivery,
      ref: 'refs/heads/master',
      branch: 'master',
      before: pushExample.before,
      after: pushExample.after,
      deleted: false,
      repository: 'Codertocat/Hello-World',
      commits: [{ id: commit.id, message: 'Initial commit', added: ['README.md'], modified: [], removed: [] }],
    });
    expect(await redis.ttl(`${h.config.redis.prefix}:webhook:delivery:github:${delivery}`)).toBeGreaterThan(23 * 3600);
  });

  it('hands the event over once however many times the same delivery is replayed (50 at once)', async () => {
    const delivery = randomUUID();
    const results = await Promise.all(Array.from({ length: 50 }, () => github(h.app, 'push', pushExample, { delivery })));
    expect(results.every((r) => r.statusCode === 202)).toBe(true);
    expect(results.filter((r) => r.json<{ duplicate?: boolean }>().duplicate === true)).toHaveLength(49);
    expect(h.pushes).toHaveLength(1);
    expect(h.pushes[0]!.deliveryId).toBe(delivery);
  });

  it('answers 401 to a forged signature and enqueues nothing', async () => {
    const delivery = randomUUID();
    const res = await github(h.app, 'push', pushExample, { delivery, secret: 'not-the-secret' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: { code: 'unauthorized' } });
    // Signed for a different body (a tampered payload with a copied signature).
    const tampered = await github(h.app, 'push', { ...pushExample, after: 'f'.repeat(40) }, { signature: signGithub(JSON.stringify(pushExample), OLD) });
    expect(tampered.statusCode).toBe(401);
    const badHex = await github(h.app, 'push', pushExample, { signature: 'sha256=zz' });
    expect(badHex.statusCode).toBe(401);
    expect(h.pushes).toHaveLength(0);
    expect(await redis.exists(`${h.config.redis.prefix}:webhook:delivery:github:${delivery}`)).toBe(0);
  });

  it('answers 401 when the signature header is missing', async () => {
    const res = await github(h.app, 'push', pushExample, { secret: null });
    expect(res.statusCode).toBe(401);
    expect(h.pushes).toHaveLength(0);
  });

  it('accepts the second (rotated) secret as well as the first', async () => {
    expect((await github(h.app, 'push', pushExample, { secret: NEW })).statusCode).toBe(202);
    expect((await github(h.app, 'push', pushExample, { secret: OLD })).statusCode).toBe(202);
    expect(h.pushes).toHaveLength(2);
  });

  it('refuses a body over the limit with 413 before doing anything else', async () => {
    const big = JSON.stringify({ ...pushExample, padding: 'x'.repeat(70 * 1024) });
    const res = await github(h.app, 'push', big);
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: { code: 'payload_too_large' } });
    expect(h.pushes).toHaveLength(0);
  });

  it('accepts but ignores pushes to other branches and tags', async () => {
    const other = await github(h.app, 'push', { ...pushExample, ref: 'refs/heads/feature-x' });
    expect(other.statusCode).toBe(202);
    expect(other.json()).toEqual({ ignored: 'branch' });
    const tag = await github(h.app, 'push', tagExample);
    expect(tag.statusCode).toBe(202);
    expect(tag.json()).toEqual({ ignored: 'branch' });
    expect(h.pushes).toHaveLength(0);
  });

  it('normalises a pull_request event and hands it to the plan path', async () => {
    const delivery = randomUUID();
    const res = await github(h.app, 'pull_request', prOpened, { delivery });
    expect(res.statusCode).toBe(202);
    expect(h.prs).toEqual([
      {
        host: 'github',
        deliveryId: delivery,
        action: 'opened',
        number: 2,
        headSha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
        headRef: 'changes',
        baseRef: 'master',
        baseSha: 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e',
        merged: false,
        repository: 'Codertocat/Hello-World',
        url: 'https://github.com/Codertocat/Hello-World/pull/2',
      },
    ]);
  });

  it('answers ping with 200 and ignores other events with 202', async () => {
    const ping = await github(h.app, 'ping', githubExample('ping'));
    expect(ping.statusCode).toBe(200);
    const star = await github(h.app, 'star', { action: 'created' });
    expect(star.statusCode).toBe(202);
    expect(star.json()).toEqual({ ignored: 'event' });
    expect(h.pushes.length + h.prs.length).toBe(0);
  });

  it('forgets a delivery whose hand-over failed, so the host retry is accepted', async () => {
    const delivery = randomUUID();
    h.fail.next = true;
    const first = await github(h.app, 'push', pushExample, { delivery });
    expect(first.statusCode).toBe(500);
    expect(h.pushes).toHaveLength(0);
    const retry = await github(h.app, 'push', pushExample, { delivery });
    expect(retry.statusCode).toBe(202);
    expect(retry.json()).toMatchObject({ accepted: true });
    expect(h.pushes).toHaveLength(1);
  });

  it('answers 503 and forgets the delivery when the hand-over hangs', async () => {
    const stuck = harness({ FAULTLINE_BRANCH: 'master', FAULTLINE_REPO_URL: HELLO_WORLD }, { handoffTimeoutMs: 200, onPush: () => new Promise<void>(() => undefined) });
    const delivery = randomUUID();
    const res = await github(stuck.app, 'push', pushExample, { delivery });
    expect(res.statusCode).toBe(503);
    expect(await redis.exists(`${stuck.config.redis.prefix}:webhook:delivery:github:${delivery}`)).toBe(0);
    await stuck.app.close();
  });

  it('accepts the form-encoded content type GitHub can be configured to send', async () => {
    const body = new URLSearchParams({ payload: JSON.stringify(pushExample) }).toString();
    const res = await h.app.inject({
      method: 'POST',
      url: '/webhooks/github',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-github-event': 'push',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': signGithub(body, NEW),
      },
      payload: body,
    });
    expect(res.statusCode).toBe(202);
    expect(h.pushes).toHaveLength(1);
  });

  it('answers 400 to a signed body that is not JSON', async () => {
    const res = await github(h.app, 'push', 'not json{');
    expect(res.statusCode).toBe(400);
    expect(h.pushes).toHaveLength(0);
  });
});

describe('GitLab and Gitea/Forgejo webhooks', () => {
  let h: Harness;
  // Each fixture comes from a different repository: each test tracks the one its fixture names.
  const use = async (repository: string) => {
    await h?.app.close();
    h = harness({ FAULTLINE_BRANCH: 'main', FAULTLINE_REPO_URL: `https://git.example.com/${repository}.git` });
    await h.app.ready();
  };
  afterAll(async () => {
    await h?.app.close();
  });

  const gitlab = (event: string, body: Buffer, token: string | undefined, uuid = randomUUID()) =>
    h.app.inject({
      method: 'POST',
      url: '/webhooks/gitlab',
      headers: { 'content-type': 'application/json', 'x-gitlab-event': event, 'x-gitlab-event-uuid': uuid, ...(token ? { 'x-gitlab-token': token } : {}) },
      payload: body,
    });

  it('GitLab: accepts X-Gitlab-Token (either secret), de-duplicates by X-Gitlab-Event-UUID, refuses a wrong token', async () => {
    await use('mike/diaspora');
    const body = fixture('gitlab-push.json');
    const uuid = randomUUID();
    expect((await gitlab('Push Hook', body, NEW, uuid)).statusCode).toBe(202);
    const replay = await gitlab('Push Hook', body, OLD, uuid);
    expect(replay.json()).toMatchObject({ duplicate: true });
    expect((await gitlab('Push Hook', body, 'wrong')).statusCode).toBe(401);
    expect((await gitlab('Push Hook', body, undefined)).statusCode).toBe(401);
    expect(h.pushes).toHaveLength(1);
    expect(h.pushes[0]).toMatchObject({
      host: 'gitlab',
      deliveryId: uuid,
      branch: 'main',
      after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      repository: 'mike/diaspora',
    });
    expect(h.pushes[0]!.commits).toHaveLength(2);
  });

  it('GitLab: a Merge Request Hook update with new commits becomes synchronize', async () => {
    await use('gitlabhq/gitlab-test');
    const res = await gitlab('Merge Request Hook', fixture('gitlab-merge-request.json'), OLD);
    expect(res.statusCode).toBe(202);
    expect(h.prs).toHaveLength(1);
    expect(h.prs[0]).toMatchObject({
      host: 'gitlab',
      action: 'synchronize',
      number: 1,
      headSha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      headRef: 'ms-viewport',
      baseRef: 'main',
      merged: false,
      repository: 'gitlabhq/gitlab-test',
      url: 'http://example.com/diaspora/diaspora/merge_requests/1',
    });
  });

  it('GitLab: a delivery without an event UUID is de-duplicated by its content', async () => {
    await use('mike/diaspora');
    const body = fixture('gitlab-push.json');
    const send = () =>
      h.app.inject({ method: 'POST', url: '/webhooks/gitlab', headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': OLD }, payload: body });
    expect((await send()).json()).toMatchObject({ accepted: true });
    expect((await send()).json()).toMatchObject({ duplicate: true });
    expect(h.pushes).toHaveLength(1);
  });

  it('Gitea: verifies X-Gitea-Signature over the raw body', async () => {
    await use('gitea/webhooks');
    const body = fixture('gitea-push.json');
    const delivery = randomUUID();
    const send = (sig: string | undefined) =>
      h.app.inject({
        method: 'POST',
        url: '/webhooks/gitea',
        headers: { 'content-type': 'application/json', 'x-gitea-event': 'push', 'x-gitea-delivery': delivery, ...(sig ? { 'x-gitea-signature': sig } : {}) },
        payload: body,
      });
    expect((await send(signGitea(body, 'forged'))).statusCode).toBe(401);
    expect((await send(undefined)).statusCode).toBe(401);
    expect((await send(signGitea(body, OLD))).statusCode).toBe(202);
    expect(h.pushes).toEqual([
      {
        host: 'gitea',
        deliveryId: delivery,
        ref: 'refs/heads/main',
        branch: 'main',
        before: '28e1879d029cb852e4844d9c718537df08844e03',
        after: 'bffeb74224043ba2feb48d137756c8a9331c449a',
        deleted: false,
        repository: 'gitea/webhooks',
        commits: [{ id: 'bffeb74224043ba2feb48d137756c8a9331c449a', message: 'Webhooks Yay!', added: ['experiments/checkout-pod-kill.yaml'], modified: [], removed: [] }],
      },
    ]);
  });

  it('Forgejo: X-Forgejo-* headers alone are accepted; synchronized becomes synchronize', async () => {
    await use('gitea/webhooks');
    const body = fixture('gitea-pull-request.json');
    const delivery = randomUUID();
    const send = () =>
      h.app.inject({
        method: 'POST',
        url: '/webhooks/gitea',
        headers: { 'content-type': 'application/json', 'x-forgejo-event': 'pull_request', 'x-forgejo-delivery': delivery, 'x-forgejo-signature': signGitea(body, NEW) },
        payload: body,
      });
    expect((await send()).statusCode).toBe(202);
    expect((await send()).json()).toMatchObject({ duplicate: true });
    expect(h.prs).toEqual([
      {
        host: 'gitea',
        deliveryId: delivery,
        action: 'synchronize',
        number: 12,
        headSha: '5c1f4f1b8a1a1b4e8f7f1e2e0d4e2c6f0d2a9b31',
        headRef: 'add-checkout-kill',
        baseRef: 'main',
        baseSha: '28e1879d029cb852e4844d9c718537df08844e03',
        merged: false,
        repository: 'gitea/webhooks',
        url: 'http://localhost:3000/gitea/webhooks/pulls/12',
      },
    ]);
  });
});

describe('logging', () => {
  it('writes one line per delivery with host, event, delivery id and result', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    const h = harness({ FAULTLINE_BRANCH: 'master', FAULTLINE_REPO_URL: HELLO_WORLD }, { log });
    const delivery = randomUUID();
    await github(h.app, 'push', pushExample, { delivery });
    await github(h.app, 'push', pushExample, { delivery });
    await github(h.app, 'push', pushExample, { secret: 'forged', delivery: 'forged-1' });
    await h.app.inject({ method: 'GET', url: '/healthz' });
    const deliveries = lines.filter((l) => l.msg === 'webhook delivery');
    expect(lines).toHaveLength(3); // nothing else: no per-request lines
    expect(deliveries.map((l) => [l.host, l.event, l.deliveryId, l.result])).toEqual([
      ['github', 'push', delivery, 'accepted'],
      ['github', 'push', delivery, 'duplicate'],
      ['github', 'push', 'forged-1', 'unauthorized'],
    ]);
    await h.app.close();
  });
});

describe('without a webhook secret', () => {
  it('refuses every delivery', async () => {
    const h = harness({ FAULTLINE_BRANCH: 'master', FAULTLINE_WEBHOOK_SECRET: '' });
    expect(h.config.server.webhookSecrets).toEqual([]);
    const res = await github(h.app, 'push', pushExample);
    expect(res.statusCode).toBe(401);
    expect(h.pushes).toHaveLength(0);
    await h.app.close();
  });
});

describe('health and readiness', () => {
  it('healthz answers; readyz is 200 while every check passes and 503 naming the failing one', async () => {
    let gitUp = true;
    const readiness = readinessFrom({
      redis: () => redis.ping(),
      git: async () => {
        if (!gitUp) throw new Error('connect ECONNREFUSED 127.0.0.1:1');
      },
    });
    const h = harness({}, { readiness });
    expect((await h.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ ok: true });
    const ready = await h.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ ok: true, checks: { redis: 'ok', git: 'ok' } });
    gitUp = false;
    const notReady = await h.app.inject({ method: 'GET', url: '/readyz' });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json()).toEqual({ ok: false, checks: { redis: 'ok', git: 'connect ECONNREFUSED 127.0.0.1:1' } });
    await h.app.close();
  });

  it('readyz is 503 when Redis does not answer', async () => {
    const dead = newRedis();
    dead.disconnect();
    const h = harness({}, { readiness: readinessFrom({ redis: () => dead.ping() }, 1000) });
    const res = await h.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json<{ checks: { redis: string } }>().checks.redis).not.toBe('ok');
    await h.app.close();
  });
});

describe('plugins and a real socket', () => {
  it('serves webhooks and plugin routes over a listening socket', async () => {
    const h = harness(
      { FAULTLINE_BRANCH: 'master', FAULTLINE_REPO_URL: HELLO_WORLD },
      {
        plugins: [
          async (app) => {
            app.get('/api/hello', async () => ({ hello: 'plugin' }));
          },
        ],
      },
    );
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const addr = h.app.server.address();
      if (!addr || typeof addr === 'string') throw new Error('no address');
      const base = `http://127.0.0.1:${addr.port}`;
      const body = JSON.stringify(pushExample);
      const delivery = randomUUID();
      const send = (sig: string) =>
        fetch(`${base}/webhooks/github`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': delivery, 'x-hub-signature-256': sig },
          body,
        });
      const forged = await send(signGithub(body, 'nope'));
      expect(forged.status).toBe(401);
      const ok = await send(signGithub(body, NEW));
      expect(ok.status).toBe(202);
      expect(await ok.json()).toEqual({ accepted: true, event: 'push', deliveryId: delivery });
      const again = await send(signGithub(body, OLD));
      expect(await again.json()).toEqual({ duplicate: true, deliveryId: delivery });
      expect(h.pushes).toHaveLength(1);
      const big = await fetch(`${base}/webhooks/github`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': 'sha256=00' },
        body: 'x'.repeat(100 * 1024),
      });
      expect(big.status).toBe(413);
      expect(await (await fetch(`${base}/api/hello`)).json()).toEqual({ hello: 'plugin' });
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    } finally {
      await h.app.close();
    }
  });
});

afterAll(async () => {
  for (const p of prefixes) await deleteKeys(redis, p);
  redis.disconnect();
});
