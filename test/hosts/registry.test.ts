// Adding a Git host is one folder and one registry line: a host that exists only in this test
// (./fake-host/) is registered in one line and goes the whole way a real one does — a signed
// webhook over the server, its normaliser, its pull-request ref fetched from a real git server,
// the plan against the simulated cluster, and the status and comment through its API over HTTP.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTS, HOST_KINDS, createGitHost, type HostRegistry } from '../../src/hosts/index.js';
import { buildServer } from '../../src/server/index.js';
import { handlePullRequest, toPlanEvent, type PullRequestResult } from '../../src/report/pr-plan.js';
import { PrTreeReader } from '../../src/report/pr-source.js';
import { loadExperimentFiles } from '../../src/experiments/index.js';
import { planExperiment } from '../../src/safety/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { createTargetResolver } from '../../src/cluster/index.js';
import type { TargetResolver } from '../../src/cluster/types.js';
import { silentLogger } from '../../src/log.js';
import { startGitServer, type GitServer } from '../helpers/git-server.js';
import { startHostServer, type HostServer } from '../report/host-server.js';
import { deleteKeys, newRedis, testConfig } from '../server/helpers.js';
import { fake, signFake } from './fake-host/index.js';
import { config as safety } from '../safety/guard-fixtures.js'; // the guard tests' safety config

const hosts: HostRegistry = { ...HOSTS, fake }; // the one line that adds the host

const SECRET = 'fake-secret';
const EXPERIMENT = `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata:
  name: checkout-pod-kill
spec:
  fault:
    type: pod-kill
    params: { gracePeriodSeconds: 0 }
  target:
    namespace: shop
    selector: { matchLabels: { app: checkout } }
    mode: { type: one }
  duration: 1m
`;

const redis = newRedis();
let git: GitServer;
let sim: Simulator;
let resolver: TargetResolver;
let api: HostServer;
const comments: { id: number; body: string; author: string }[] = [];
const dirs: string[] = [];
const prefixes: string[] = [];

beforeAll(async () => {
  git = await startGitServer();
  sim = await startSimulator();
  resolver = createTargetResolver(sim.kubeConfig());
  await resolver.ready();
  api = await startHostServer((req) => {
    if (req.method === 'POST' && req.path.startsWith('/status/')) return { status: 201, body: {} };
    if (req.method === 'GET' && req.path === '/changes/5/comments') return { status: 200, body: comments };
    if (req.method === 'POST' && req.path === '/changes/5/comments') {
      comments.push({ id: comments.length + 1, body: (req.body as { body: string }).body, author: 'faultline' });
      return { status: 201, body: { id: comments.length } };
    }
    return { status: 404, body: {} };
  });
});
afterAll(async () => {
  for (const p of prefixes) await deleteKeys(redis, p);
  redis.disconnect();
  resolver.close();
  await sim.close();
  await api.close();
  await git.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('a host added in one registry line', () => {
  it('the built-in registry is the kind list, and each module answers to its own kind', () => {
    expect([...HOST_KINDS]).toEqual(Object.keys(HOSTS));
    for (const kind of HOST_KINDS) expect(HOSTS[kind].kind).toBe(kind);
    expect(HOSTS.github.pullRequestRef(7)).toBe('refs/pull/7/head');
    expect(HOSTS.gitea.pullRequestRef(7)).toBe('refs/pull/7/head');
    expect(HOSTS.gitlab.pullRequestRef(7)).toBe('refs/merge-requests/7/head');
    expect(() => createGitHost({ type: 'fake', apiUrl: 'http://x', repository: 'a/b' })).toThrow(/unknown git host type "fake"/);
  });

  it('webhook -> its normaliser -> its PR ref fetched -> plan -> status and comment through its API', async () => {
    const url = await git.createRepo('fake-chaos');
    const work = await git.workClone('fake-chaos');
    dirs.push(work.dir);
    const base = await work.commitAndPush('empty main');
    await work.write('experiments/checkout.yaml', EXPERIMENT);
    await work.git('add', '-A');
    await work.git('commit', '-q', '-m', 'add an experiment');
    const head = await work.git('rev-parse', 'HEAD');
    // Only the host's own ref carries the head: no branch points at it.
    await work.git('push', '-q', 'origin', `${head}:refs/changes/5/head`);

    const config = testConfig({ FAULTLINE_WEBHOOK_SECRET: SECRET, FAULTLINE_REPO_URL: url });
    prefixes.push(config.redis.prefix);
    const readerDir = await mkdtemp(join(tmpdir(), 'fl-fake-'));
    dirs.push(readerDir);
    const reader = new PrTreeReader({ url, dir: readerDir });
    const host = createGitHost({ type: 'fake', apiUrl: api.url, repository: 'acme/chaos' }, {}, hosts);
    const planned: Promise<PullRequestResult>[] = [];
    const app = buildServer({
      config,
      redis,
      log: silentLogger,
      hosts,
      onPush: async () => undefined,
      onPullRequest: async (e) => {
        planned.push(
          handlePullRequest(toPlanEvent(e, hosts), {
            reader,
            loadExperimentFiles: (files) => loadExperimentFiles(files),
            plan: async (loaded) => loaded.map((l) => planExperiment(l, resolver, { config: safety })),
            host,
          }),
        );
      },
      readiness: async () => ({ ok: true, checks: {} }),
    });
    const payload = (repo: string) =>
      JSON.stringify({
        action: 'opened',
        number: 5,
        pull_request: { number: 5, html_url: 'http://fake/changes/5', head: { sha: head, ref: 'topic' }, base: { sha: base, ref: 'main' } },
        repository: { full_name: repo, clone_url: repo === 'acme/chaos' ? url : 'http://elsewhere/x.git' },
      });
    const post = (body: string, signature: string) =>
      app.inject({
        method: 'POST',
        url: '/webhooks/fake',
        headers: { 'content-type': 'application/json', 'x-fake-event': 'change', 'x-fake-delivery': randomUUID(), 'x-fake-signature': signature },
        payload: body,
      });

    const body = payload('acme/chaos');
    expect((await post(body, signFake(body, 'wrong'))).statusCode).toBe(401);
    const other = payload('someone/else');
    expect((await post(other, signFake(other, SECRET))).json()).toEqual({ ignored: 'repository' });
    const res = await post(body, signFake(body, SECRET));
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ accepted: true, event: 'pull_request' });
    expect(planned).toHaveLength(1);

    const result = await planned[0]!;
    expect(result.errors).toEqual([]);
    expect(result.changed).toEqual(['experiments/checkout.yaml']);
    expect(result.state).toBe('success');
    expect(api.requests.filter((r) => r.path === `/status/${head}`).map((r) => (r.body as { state: string }).state)).toEqual(['pending', 'success']);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain('`checkout-pod-kill`');
    await app.close();
  });
});
