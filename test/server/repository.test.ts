// Webhooks for the configured repository only, measured on real deliveries: GitLab, Gitea and
// Forgejo payloads from ../shared/corpus/webhooks and GitHub's from @octokit/webhooks-examples.
// Each delivery is sent twice: to a server tracking its repository (it is handled as its kind
// says) and to one tracking another repository (202 "ignored: repository", a log line, nothing
// handed over). Then a push and a pull request from another repository against a real controller.
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { buildServer, signGitea, signGithub, type PullRequestEvent, type PushEvent } from '../../src/server/index.js';
import { repositoryKey, repositoryMatcher } from '../../src/server/repository.js';
import { HOSTS } from '../../src/hosts/index.js';
import { readCatalog } from '../../src/controller/catalog.js';
import { postWebhook, pushPayload, reconciled, startIn, startWorld, SECRET } from '../controller/harness.js';
import { deleteKeys, newRedis, testConfig } from './helpers.js';

const CORPUS = [process.env.FAULTLINE_CORPUS, new URL('../../../shared/corpus/', import.meta.url).pathname, '/work/shared/corpus/'].find((p): p is string => !!p && existsSync(p));
if (!CORPUS) process.stderr.write('webhook corpus tests skipped: no ../shared/corpus and no FAULTLINE_CORPUS\n');

const redis = newRedis();
// One prefix family for every server of this file, removed with one scan.
const family = `fltest-repo-${randomUUID().slice(0, 8)}`;
let servers = 0;
afterAll(async () => {
  await deleteKeys(redis, `${family}*`);
  redis.disconnect();
}, 120_000);

type Host = 'github' | 'gitlab' | 'gitea';
interface Delivery {
  name: string;
  host: Host;
  event: string;
  body: string;
  repoUrl: string; // the clone URL the payload names
  branch: string; // the branch the payload is about
}

function server(env: Record<string, string>) {
  const config = testConfig({ FAULTLINE_WEBHOOK_SECRET: SECRET, FAULTLINE_REDIS_PREFIX: `${family}-${servers++}`, ...env });
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), cb()) });
  const handed: (PushEvent | PullRequestEvent)[] = [];
  const app = buildServer({
    config,
    redis,
    log: pino({ level: 'info' }, sink),
    onPush: async (e) => void handed.push(e),
    onPullRequest: async (e) => void handed.push(e),
    readiness: async () => ({ ok: true, checks: {} }),
  });
  return { app, lines, handed };
}

async function send(app: ReturnType<typeof server>['app'], d: Delivery) {
  const id = randomUUID();
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (d.host === 'github') Object.assign(headers, { 'x-github-event': d.event, 'x-github-delivery': id, 'x-hub-signature-256': signGithub(d.body, SECRET) });
  if (d.host === 'gitlab') Object.assign(headers, { 'x-gitlab-event': d.event, 'x-gitlab-event-uuid': id, 'x-gitlab-token': SECRET });
  if (d.host === 'gitea') Object.assign(headers, { 'x-gitea-event': d.event, 'x-gitea-delivery': id, 'x-gitea-signature': signGitea(d.body, SECRET) });
  const res = await app.inject({ method: 'POST', url: `/webhooks/${d.host}`, headers, payload: d.body });
  return { status: res.statusCode, json: res.json() as Record<string, unknown>, id };
}

const GITLAB_EVENTS: Record<string, string> = { push: 'Push Hook', tag_push: 'Tag Push Hook', merge_request: 'Merge Request Hook' };
function giteaEvent(file: string, p: Record<string, unknown>): string {
  if (p.pull_request) return 'pull_request';
  if (/branch_create|tag_create/.test(file)) return 'create';
  if (/branch_delete/.test(file)) return 'delete';
  return 'push';
}

function corpusDeliveries(): Delivery[] {
  if (!CORPUS) return [];
  const dir = join(CORPUS, 'webhooks');
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((file) => {
    const body = readFileSync(join(dir, file), 'utf8');
    const p = JSON.parse(body) as Record<string, Record<string, unknown> & { [k: string]: unknown }>;
    const gitlab = file.startsWith('gl-');
    const repo = (gitlab ? p.project : p.repository) as Record<string, unknown>;
    const ref = typeof p.ref === 'string' ? p.ref : '';
    const attrs = p.object_attributes as Record<string, unknown> | undefined;
    const pr = p.pull_request as Record<string, Record<string, unknown>> | undefined;
    const branch = ref.startsWith('refs/heads/') ? ref.slice(11) : String(attrs?.target_branch ?? pr?.base?.ref ?? 'main');
    return {
      name: file,
      host: gitlab ? 'gitlab' : 'gitea',
      event: gitlab ? GITLAB_EVENTS[String(p.object_kind)]! : giteaEvent(file, p),
      body,
      repoUrl: String(gitlab ? repo.git_http_url : repo.clone_url),
      branch,
    } satisfies Delivery;
  });
}

interface Definition {
  name: string;
  examples: Record<string, unknown>[];
}
function githubDeliveries(): Delivery[] {
  const defs = createRequire(import.meta.url)('@octokit/webhooks-examples') as Definition[];
  return defs
    .filter((d) => d.name === 'push' || d.name === 'pull_request')
    .flatMap((d) =>
      d.examples.map((p, i) => {
        const repo = p.repository as Record<string, unknown>;
        const ref = typeof p.ref === 'string' ? p.ref : '';
        const pr = p.pull_request as Record<string, Record<string, unknown>> | undefined;
        return {
          name: `github ${d.name} #${i} ${String(p.action ?? ref)}`,
          host: 'github' as const,
          event: d.name,
          body: JSON.stringify(p),
          repoUrl: String(repo.clone_url),
          branch: ref.startsWith('refs/heads/') ? ref.slice(11) : String(pr?.base?.ref ?? 'main'),
        };
      }),
    );
}

const deliveries = [...corpusDeliveries(), ...githubDeliveries()];

describe('real deliveries: ours are handled, other repositories are ignored with a log line', () => {
  it.each(deliveries.map((d) => [d.name, d] as const))('%s', async (_name, d) => {
    const ours = server({ FAULTLINE_REPO_URL: d.repoUrl, FAULTLINE_BRANCH: d.branch });
    const a = await send(ours.app, d);
    expect(a.status, JSON.stringify(a.json)).toBeLessThan(300);
    expect(a.json.ignored).not.toBe('repository');
    const result = a.json.accepted ? 'accepted' : a.json.ignored ? `ignored: ${String(a.json.ignored)}` : JSON.stringify(a.json);
    // Every delivery that is not handed over says why, in the answer and in one log line.
    const line = ours.lines.find((l) => l.msg === 'webhook delivery' && l.deliveryId === a.id);
    expect(line).toBeDefined();
    if (a.json.ignored) expect(line).toMatchObject({ result: 'ignored', reason: a.json.ignored });
    expect(ours.handed.length).toBe(a.json.accepted ? 1 : 0);
    if (a.json.ignored === 'branch deleted') expect(ours.lines.some((l) => l.level === 40 && /tracked branch was deleted/.test(String(l.msg)))).toBe(true);

    const other = server({ FAULTLINE_REPO_URL: 'https://git.example.com/acme/chaos-experiments.git', FAULTLINE_BRANCH: d.branch });
    const b = await send(other.app, d);
    expect(b.status).toBeLessThan(300);
    expect(other.handed).toEqual([]);
    if (a.json.accepted || a.json.ignored === 'branch deleted' || a.json.ignored === 'action') {
      expect(b).toMatchObject({ status: 202, json: { ignored: 'repository' } });
      expect(other.lines.find((l) => l.deliveryId === b.id)).toMatchObject({ result: 'ignored', reason: 'repository' });
    }
    await ours.app.close();
    await other.app.close();
    process.stdout.write(`${d.name}: ${result}\n`);
  });

  it('the corpus was there and covered pushes, tracked-branch deletion and pull requests of every host', () => {
    if (!CORPUS) return;
    const names = deliveries.map((d) => d.name);
    expect(names.filter((n) => /^(gl|gt|fj)-/.test(n))).toHaveLength(19);
  });
});

describe('what counts as the configured repository', () => {
  it('full name, GitLab project path or id, or any of the clone URLs (https, ssh, scp form)', () => {
    const m = repositoryMatcher({ repo: { url: 'https://token@GitHub.com/Acme/Chaos.git/' } as never, gitHost: undefined }, HOSTS.github);
    expect(m({ repository: 'acme/chaos' })).toBe(true);
    expect(m({ repository: 'x/y', repositoryUrls: ['git@github.com:acme/chaos.git'] })).toBe(true);
    expect(m({ repository: 'x/y', repositoryUrls: ['ssh://git@github.com/acme/chaos'] })).toBe(true);
    expect(m({ repository: 'acme/chaos-other' })).toBe(false);
    expect(m({ repository: 'evil/acme/chaos', repositoryUrls: ['https://github.com/evil/acme/chaos.git'] })).toBe(false);
    const byId = repositoryMatcher({ repo: { url: 'https://git.internal/x.git' } as never, gitHost: { type: 'gitlab', apiUrl: 'x', repository: '4861503' } }, HOSTS.gitlab);
    expect(byId({ repository: 'gitlab-org/hello-world', repositoryId: '4861503' })).toBe(true);
    expect(byId({ repository: 'gitlab-org/hello-world', repositoryId: '1' })).toBe(false);
    // The configured name is the GitLab host's; a delivery through another host's endpoint does not match by it.
    const otherHost = repositoryMatcher({ repo: { url: 'https://git.internal/x.git' } as never, gitHost: { type: 'gitlab', apiUrl: 'x', repository: '4861503' } }, HOSTS.gitea);
    expect(otherHost({ repository: 'gitlab-org/hello-world', repositoryId: '4861503' })).toBe(false);
    expect(repositoryKey('git@gitlab.com:group/sub/project.git')).toBe('gitlab.com/group/sub/project');
  });
});

describe('a real controller', () => {
  it('a push and a pull request from another repository change nothing', async () => {
    const world = await startWorld();
    const controller = await startIn(world);
    const plans = new Queue('plans', { connection: world.redis, prefix: world.prefix });
    try {
      const seed = await world.work.git('rev-parse', 'HEAD');
      await reconciled(world, seed);
      // A new commit on our branch exists, but the delivery names another repository.
      await world.work.write('experiments/checkout.yaml', (await import('../controller/harness.js')).podKill('checkout-kill', { app: 'checkout' }));
      const head = await world.work.commitAndPush('add an experiment');
      const push = await postWebhook(controller.url!, pushPayload({ after: head, before: seed, repository: 'someone/else' }));
      expect(push).toMatchObject({ status: 202, json: { ignored: 'repository' } });
      const pr = JSON.parse(pushPayload({ after: head })) as Record<string, unknown>;
      const prBody = JSON.stringify({
        action: 'opened',
        number: 7,
        pull_request: { number: 7, head: { sha: head, ref: 'feature' }, base: { sha: seed, ref: 'main' }, merged: false, html_url: 'https://github.com/someone/else/pull/7' },
        repository: { ...(pr.repository as object), full_name: 'someone/else', clone_url: 'https://github.com/someone/else.git' },
      });
      const prRes = await postWebhook(controller.url!, prBody, { event: 'pull_request' });
      expect(prRes).toMatchObject({ status: 202, json: { ignored: 'repository' } });
      await new Promise((r) => setTimeout(r, 1000));
      expect((await readCatalog(world.redis, world.prefix))?.revision).toBe(seed); // no reconcile of the new head
      expect(await plans.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed')).toEqual({ waiting: 0, active: 0, completed: 0, failed: 0, delayed: 0 });
      // The same push naming our repository is taken.
      expect((await postWebhook(controller.url!, pushPayload({ after: head, before: seed }))).json).toMatchObject({ accepted: true });
      await reconciled(world, head);
    } finally {
      await plans.close();
      await controller.close();
      await world.close();
    }
  }, 60_000);
});
