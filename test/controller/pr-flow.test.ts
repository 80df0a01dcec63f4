// Issue 5's flows through the controller's real entry point: signed GitHub webhooks into
// startController, a real git smart-HTTP server pushed to with the git CLI, real Redis, the
// Kubernetes simulator, a GitHub stand-in that checks every request against GitHub's OpenAPI
// description, and a Slack stand-in.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Queue } from 'bullmq';
import type { ControllerConfig } from '../../src/config/types.js';
import { startController, type Controller } from '../../src/controller/index.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { PLAN_MARKER } from '../../src/hosts/types.js';
import { runMarker } from '../../src/report/run-result.js';
import { statusPath, type ExperimentStatusFile } from '../../src/report/git-status.js';
import { githubExample } from '../server/helpers.js';
import { startFakeGitHub, type FakeGitHub } from '../report/fake-github.js';
import { startHostServer, type HostServer, type Recorded, type Reply } from '../report/host-server.js';
import { podKill, postWebhook, pushPayload, reconciled, runsOf, startWorld, waitFor, type World } from './harness.js';

const REPO = 'acme/chaos';
const PR = 7;
const VALID_NAME = 'pr-checkout-kill';
const VALID_FILE = `experiments/${VALID_NAME}.yaml`;
const INVALID_NAME = 'pr-cart-latency';
const INVALID_FILE = `experiments/${INVALID_NAME}.yaml`;
const VALID = podKill(VALID_NAME, { app: 'checkout', duration: '2s' });
// An unknown fault type: the validation error points at this file and line.
const BROKEN = [
  'apiVersion: faultline.dev/v1alpha1',
  'kind: ChaosExperiment',
  'metadata:',
  `  name: ${INVALID_NAME}`,
  'spec:',
  '  fault:',
  '    type: network-slowness',
  '    params: { latency: 200ms }',
  '  target:',
  '    namespace: shop',
  '    selector: { matchLabels: { app: cart } }',
  '    mode: { type: one }',
  '  duration: 2m',
  '',
].join('\n');
const BROKEN_LINE = BROKEN.split('\n').findIndex((l) => l.includes('network-slowness')) + 1;
const FIXED = BROKEN.replace('network-slowness', 'network-delay');

// ---- stand-ins ----

type SlackMode = 'ok' | 'fail' | 'hang';
interface SlackStandIn extends HostServer {
  mode: SlackMode;
}

async function startSlack(mode: SlackMode = 'ok'): Promise<SlackStandIn> {
  let ts = 100;
  const state = { mode };
  const server = await startHostServer((req): Reply => {
    if (state.mode === 'fail') return { status: 500, body: { ok: false, error: 'internal_error' } };
    if (state.mode === 'hang') return { status: 200, hang: true };
    if (req.headers.authorization !== 'Bearer xoxb-test') return { status: 200, body: { ok: false, error: 'invalid_auth' } };
    if (req.path === '/api/chat.postMessage') return { status: 200, body: { ok: true, channel: 'C0CHAOS', ts: `1700000000.${String(ts++).padStart(6, '0')}` } };
    if (req.path === '/api/chat.update') return { status: 200, body: { ok: true, channel: 'C0CHAOS', ts: (req.body as { ts: string }).ts } };
    return { status: 404, body: { ok: false, error: 'unknown_method' } };
  });
  // A live property (Object.assign would copy a getter's value, not the accessor).
  return Object.defineProperty(server, 'mode', { get: () => state.mode, set: (m: SlackMode) => (state.mode = m), enumerable: true }) as SlackStandIn;
}

interface SlackBody {
  channel: string;
  ts?: string;
  thread_ts?: string;
  text: string;
}
const slackBody = (r: Recorded) => r.body as SlackBody;

// ---- helpers ----

async function start(world: World, o: { github?: FakeGitHub; slack?: HostServer }): Promise<Controller> {
  const config: ControllerConfig = world.config();
  if (o.github) config.gitHost = { type: 'github', apiUrl: o.github.url, token: 't', repository: REPO };
  if (o.slack) config.slack = { botToken: 'xoxb-test', apiUrl: `${o.slack.url}/api`, defaultChannel: '#chaos' };
  return startController({
    config,
    log: process.env.FL_TEST_LOG ? createLogger('test', process.env.FL_TEST_LOG) : silentLogger,
    kubeConfig: world.sim.kubeConfig(),
  });
}

/** A GitHub `pull_request` delivery: the published example for the action, retargeted. */
function pullRequestPayload(o: { action: 'opened' | 'synchronize' | 'reopened' | 'labeled'; head: string; base: string; number?: number }): string {
  const payload = structuredClone(githubExample('pull_request', (e) => e.action === o.action));
  const pr = payload.pull_request as { number: number; head: Record<string, unknown>; base: Record<string, unknown> };
  payload.number = o.number ?? PR;
  pr.number = o.number ?? PR;
  pr.head = { ...pr.head, sha: o.head, ref: 'add-experiments' };
  pr.base = { ...pr.base, sha: o.base, ref: 'main' };
  (payload.repository as Record<string, unknown>).full_name = REPO;
  return JSON.stringify(payload);
}

const commentPath = `/repos/${REPO}/issues/${PR}/comments`;
const postsTo = (gh: FakeGitHub, path: string) => gh.requests.filter((r) => r.method === 'POST' && r.path === path);
const planStatus = (gh: FakeGitHub, sha: string) => gh.statuses.filter((s) => s.sha === sha && s.context === 'faultline/plan');
const finalPlanStatus = (gh: FakeGitHub, sha: string) => planStatus(gh, sha).find((s) => s.state !== 'pending');

/** experiments/<shard>/<name>.yaml on the status branch, read with the git CLI. */
async function statusFile(world: World, name: string): Promise<ExperimentStatusFile | undefined> {
  await world.work.git('fetch', '-q', 'origin', '+refs/heads/faultline/status:refs/remotes/origin/faultline/status');
  const listing = await world.work.git('ls-tree', '-r', '--name-only', 'refs/remotes/origin/faultline/status');
  if (!listing.split('\n').includes(statusPath(name))) return undefined;
  return parse(await world.work.git('show', `refs/remotes/origin/faultline/status:${statusPath(name)}`)) as ExperimentStatusFile;
}

// ---- the pull request, then the merge ----

describe('pull request plan and post-merge results, through webhooks into the controller', () => {
  let world: World;
  let gh: FakeGitHub;
  let slack: SlackStandIn;
  let controller: Controller;
  let base: string;

  beforeAll(async () => {
    world = await startWorld();
    gh = await startFakeGitHub();
    slack = await startSlack();
    base = await world.work.git('rev-parse', 'HEAD');
    controller = await start(world, { github: gh, slack });
    await reconciled(world, base);
  }, 60_000);

  afterAll(async () => {
    await controller?.close();
    await gh?.close();
    await slack?.close();
    await world?.close();
  });

  it('a valid and an invalid experiment: failing plan status and one comment; the fix turns it green and edits that comment', async () => {
    const url = controller.url!;
    // The PR branch, pushed where GitHub publishes every PR head.
    await world.work.git('checkout', '-q', '-b', 'add-experiments');
    await world.work.write(VALID_FILE, VALID);
    await world.work.write(INVALID_FILE, BROKEN);
    await world.work.git('add', '-A');
    await world.work.git('commit', '-q', '-m', 'add two experiments');
    await world.work.git('push', '-q', 'origin', `HEAD:refs/pull/${PR}/head`);
    const head1 = await world.work.git('rev-parse', 'HEAD');

    const opened = await postWebhook(url, pullRequestPayload({ action: 'opened', head: head1, base }), { event: 'pull_request' });
    expect(opened.status).toBe(202);
    expect(opened.json).toMatchObject({ accepted: true, event: 'pull_request' });

    const failed = await waitFor(() => finalPlanStatus(gh, head1), 'the plan status of the first head', 60_000);
    expect(failed.state).toBe('failure');
    expect(failed.description).toContain(INVALID_FILE);
    expect(planStatus(gh, head1).map((s) => s.state)).toEqual(['pending', 'failure']);
    const created = postsTo(gh, commentPath);
    expect(created).toHaveLength(1);
    const comments = gh.comments.get(PR)!;
    expect(comments).toHaveLength(1);
    const first = comments[0]!;
    expect(first.body.startsWith(PLAN_MARKER)).toBe(true);
    expect(first.body).toContain(`\`${VALID_NAME}\``);
    expect(first.body).toContain(VALID_FILE);
    expect(first.body).toContain(`${INVALID_FILE}:${BROKEN_LINE}:`);
    expect(first.body).toContain('changes needed');

    // The fix, pushed to the same PR ref, then `synchronize`.
    await world.work.write(INVALID_FILE, FIXED);
    await world.work.git('commit', '-q', '-am', 'fix the fault type');
    await world.work.git('push', '-q', 'origin', `HEAD:refs/pull/${PR}/head`);
    const head2 = await world.work.git('rev-parse', 'HEAD');
    const sync = await postWebhook(url, pullRequestPayload({ action: 'synchronize', head: head2, base }), { event: 'pull_request' });
    expect(sync.status).toBe(202);

    const green = await waitFor(() => finalPlanStatus(gh, head2), 'the plan status of the fixed head', 60_000);
    expect(green.state).toBe('success');
    expect(postsTo(gh, commentPath)).toHaveLength(1); // no second comment
    const patches = gh.requests.filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => r.path)).toEqual([`/repos/${REPO}/issues/comments/${first.id}`]);
    expect(gh.comments.get(PR)).toHaveLength(1);
    const edited = gh.comments.get(PR)![0]!;
    expect(edited.id).toBe(first.id);
    expect(edited.body).toContain(`\`${VALID_NAME}\``);
    expect(edited.body).toContain(`\`${INVALID_NAME}\``);
    expect(edited.body).toContain(head2.slice(0, 12));
    expect(edited.body).not.toContain('Validation errors');
    expect(edited.body).not.toContain('changes needed');
    expect(gh.errors).toEqual([]); // every request conformed to GitHub's OpenAPI description
  }, 120_000);

  it('two pushes in quick succession get one comment showing the newest head; reopening re-plans the same head', async () => {
    const url = controller.url!;
    const n = 8;
    const plans = new Queue('plans', { connection: world.redis, prefix: world.prefix });
    try {
      await world.work.git('checkout', '-q', '-b', 'pr-8', base);
      const file = 'experiments/pr8-catalog-kill.yaml';
      await world.work.write(file, podKill('pr8-catalog-kill', { app: 'catalog' }));
      await world.work.git('add', '-A');
      await world.work.git('commit', '-q', '-m', 'pr 8, first push');
      await world.work.git('push', '-q', 'origin', `HEAD:refs/pull/${n}/head`);
      const a = await world.work.git('rev-parse', 'HEAD');
      await world.work.write(file, podKill('pr8-catalog-kill', { app: 'catalog', grace: 1 }));
      await world.work.git('commit', '-q', '-am', 'pr 8, second push');
      await world.work.git('push', '-q', 'origin', `HEAD:refs/pull/${n}/head`);
      const b = await world.work.git('rev-parse', 'HEAD');

      // Delivered back to back: both plans are queued before either has commented.
      expect((await postWebhook(url, pullRequestPayload({ action: 'opened', head: a, base, number: n }), { event: 'pull_request' })).status).toBe(202);
      expect((await postWebhook(url, pullRequestPayload({ action: 'synchronize', head: b, base, number: n }), { event: 'pull_request' })).status).toBe(202);
      const idle = async () => {
        const c = await plans.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        return Object.values(c).every((x) => x === 0);
      };
      await waitFor(() => finalPlanStatus(gh, b), 'the plan status of the newest head', 60_000);
      await waitFor(idle, 'the plan queue to drain', 60_000);
      const path = `/repos/${REPO}/issues/${n}/comments`;
      expect(postsTo(gh, path)).toHaveLength(1);
      expect(gh.comments.get(n)).toHaveLength(1);
      expect(gh.comments.get(n)![0]!.body).toContain(b.slice(0, 12)); // an older plan never overwrites a newer one
      expect(finalPlanStatus(gh, b)!.state).toBe('success');

      // Closed, then reopened at the same head: planned again (the cluster may have changed).
      const finals = () => planStatus(gh, b).filter((s) => s.state !== 'pending').length;
      const before = finals();
      expect((await postWebhook(url, pullRequestPayload({ action: 'reopened', head: b, base, number: n }), { event: 'pull_request' })).status).toBe(202);
      await waitFor(() => finals() > before, 'the plan of the reopened pull request', 60_000);
      await waitFor(idle, 'the plan queue to drain', 60_000);
      expect(postsTo(gh, path)).toHaveLength(1); // the same comment, edited
      expect(gh.errors).toEqual([]);
    } finally {
      await plans.close();
      await world.work.git('checkout', '-q', 'main');
    }
  }, 120_000);

  it('after merge: the run executes, then a run status and a PR comment on GitHub, one edited Slack message, the status branch', async () => {
    const url = controller.url!;
    await world.work.git('checkout', '-q', 'main');
    await world.work.write(VALID_FILE, VALID);
    const merged = await world.work.commitAndPush(`Merge pull request #${PR}`);
    gh.pullsForCommit.set(merged, PR);
    expect((await postWebhook(url, pushPayload({ after: merged, before: base }))).status).toBe(202);
    await reconciled(world, merged);

    const run = await waitFor(async () => {
      const runs = await runsOf(controller, VALID_NAME);
      return runs.length === 1 && runs[0]!.outcome ? runs[0] : undefined;
    }, 'the run to end', 90_000);
    expect(run.state).toBe('Succeeded');
    expect(run.revision).toBe(merged);
    expect(world.podDeletions.get('checkout')).toBe(1);

    // GitHub: a commit status on the revision, and a comment on the PR that introduced it.
    const context = `faultline/run/${VALID_NAME}`;
    const status = await waitFor(() => gh.statuses.find((s) => s.context === context), 'the run status', 30_000);
    expect(status).toMatchObject({ sha: merged, state: 'success' });
    const runComment = await waitFor(() => gh.comments.get(PR)?.find((c) => c.body.includes(runMarker(VALID_NAME))), 'the run comment', 30_000);
    expect(runComment.body).toContain(run.id);
    expect(runComment.body).toContain('succeeded');
    expect(gh.requests.some((r) => r.method === 'GET' && r.path === `/repos/${REPO}/commits/${merged}/pulls`)).toBe(true);
    expect(gh.comments.get(PR)).toHaveLength(2); // the plan comment and the run comment

    // Slack: one message for the run, edited in place until it shows the outcome.
    const updates = () => slack.requests.filter((r) => r.path === '/api/chat.update');
    const final = await waitFor(() => updates().find((r) => slackBody(r).text.includes(`${VALID_NAME}: succeeded`)), 'the Slack message to show success', 30_000);
    const top = slack.requests.filter((r) => r.path === '/api/chat.postMessage' && !slackBody(r).thread_ts);
    expect(top).toHaveLength(1);
    expect(slackBody(top[0]!)).toMatchObject({ channel: '#chaos' });
    expect(slackBody(top[0]!).text).toContain(VALID_NAME);
    const ts = slack.requests.indexOf(top[0]!);
    expect(slack.requests.indexOf(final)).toBeGreaterThan(ts);
    const messageTs = await waitFor(async () => (JSON.parse((await world.redis.get(`${world.prefix}:slack:msg:${run.id}`)) ?? 'null') as { ts: string } | null)?.ts, 'the stored Slack message');
    for (const u of updates()) expect(slackBody(u)).toMatchObject({ channel: 'C0CHAOS', ts: messageTs });
    // Details go in the message's thread, not as new top-level messages.
    const thread = slack.requests.filter((r) => r.path === '/api/chat.postMessage' && slackBody(r).thread_ts);
    expect(thread.length).toBeLessThanOrEqual(1);
    for (const t of thread) expect(slackBody(t).thread_ts).toBe(messageTs);

    // The status branch on the git server records the run.
    const file = await waitFor(async () => {
      const f = await statusFile(world, VALID_NAME);
      return f?.runs.some((r) => r.id === run.id) ? f : undefined;
    }, 'the status branch entry', 30_000);
    expect(file).toMatchObject({ name: VALID_NAME, file: VALID_FILE, specHash: run.specHash, revision: merged });
    expect(file.runs[0]).toMatchObject({ id: run.id, outcome: 'succeeded', revision: merged });
    expect(gh.errors).toEqual([]);
  }, 180_000);
});

// ---- Slack down ----

describe('a Slack that fails or never answers', () => {
  let world: World | undefined;
  let slack: SlackStandIn | undefined;
  let controller: Controller | undefined;

  afterEach(async () => {
    await controller?.close();
    controller = undefined;
    await slack?.close();
    slack = undefined;
    await world?.close();
    world = undefined;
  });

  it('answering 500, then hanging: both runs still finish Succeeded', async () => {
    world = await startWorld();
    const w = world;
    slack = await startSlack('fail');
    const s = slack;
    const seed = await w.work.git('rev-parse', 'HEAD');
    controller = await start(w, { slack: s });
    const ctl = controller;
    await reconciled(w, seed);

    const runOf = (name: string) =>
      waitFor(async () => {
        const runs = await runsOf(ctl, name);
        return runs.length === 1 && runs[0]!.outcome ? runs[0] : undefined;
      }, `the run of ${name} to end`, 90_000);

    // 1. Every Slack call answers 500.
    await w.work.write('experiments/slack-500.yaml', podKill('slack-500', { app: 'cart', duration: '2s' }));
    const first = await w.work.commitAndPush('add slack-500');
    expect((await postWebhook(ctl.url!, pushPayload({ after: first, before: seed }))).status).toBe(202);
    const a = await runOf('slack-500');
    expect(a.state).toBe('Succeeded');
    await waitFor(() => s.requests.length > 0, 'a Slack call (answered 500)');

    // 2. Slack takes the connection and never answers.
    s.mode = 'hang';
    const before = s.requests.length;
    await w.work.write('experiments/slack-hang.yaml', podKill('slack-hang', { app: 'catalog', duration: '2s' }));
    const second = await w.work.commitAndPush('add slack-hang');
    expect((await postWebhook(ctl.url!, pushPayload({ after: second, before: first }))).status).toBe(202);
    const b = await runOf('slack-hang');
    expect(b.state).toBe('Succeeded');
    await waitFor(() => s.requests.length > before && s.pending > 0, 'a Slack call left hanging');
    expect(w.podDeletions.get('cart')).toBe(1);
    expect(w.podDeletions.get('catalog')).toBe(1);

    // Shutting down right away (Slack still hanging) loses no run result on the status branch.
    await ctl.close();
    expect((await statusFile(w, 'slack-500'))?.runs.map((r) => [r.id, r.outcome])).toEqual([[a.id, 'succeeded']]);
    expect((await statusFile(w, 'slack-hang'))?.runs.map((r) => [r.id, r.outcome])).toEqual([[b.id, 'succeeded']]);
  }, 240_000);
});
