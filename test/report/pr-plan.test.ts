import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGitServer, type GitServer, type WorkClone } from '../helpers/git-server.js';
import { createGitHost } from '../../src/hosts/index.js';
import { PLAN_MARKER } from '../../src/hosts/types.js';
import { handlePullRequest, pullRequestEventFrom, renderPlanComment, toPlanEvent, type PlanRowLike } from '../../src/report/pr-plan.js';
import type { Problem } from '../../src/experiments/model.js';
import { onReportFailure, reportFailureCount } from '../../src/report/failures.js';
import { startFakeGitHub, webhookExample, type FakeGitHub } from './fake-github.js';
import { gitReader } from './pr-deps.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { createTargetResolver } from '../../src/cluster/index.js';
import type { TargetResolver } from '../../src/cluster/types.js';
import { planExperiment } from '../../src/safety/index.js';
import type { LoadedExperiment } from '../../src/experiments/model.js';
import { loadExperimentFiles as load } from '../../src/experiments/index.js';
import { PrTreeReader } from '../../src/report/pr-source.js';
import { DesiredState } from '../../src/controller/desired.js';
import { config as safety } from '../safety/guard-fixtures.js'; // the guard tests' safety config

const VALID = `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata:
  name: checkout-pod-kill
spec:
  description: Kill 25% of checkout pods; checkout must stay up.
  fault:
    type: pod-kill
    params: { gracePeriodSeconds: 0 }
  target:
    namespace: shop
    selector: { matchLabels: { app: checkout } }
    mode: { type: percent, value: 25 }
  duration: 5m
`;
const BROKEN = `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata:
  name: cart-latency
spec:
  fault:
    type: network-slowness
    params: { latency: 200ms }
  target:
    namespace: shop
    selector: { matchLabels: { app: cart } }
    mode: { type: one }
  duration: 2m
  schedule: { cron: "0 10 * * 1-5" }
`;
const FIXED = BROKEN.replace('network-slowness', 'network-delay');

let server: GitServer;
let gh: FakeGitHub;
let sim: Simulator;
let resolver: TargetResolver;
// The same plan as `faultline plan`: src/safety against the live (simulated) cluster.
const plan = async (loaded: LoadedExperiment[]) => loaded.map((l) => planExperiment(l, resolver, { config: safety }));
let work: WorkClone;
const dirs: string[] = [];

beforeAll(async () => {
  server = await startGitServer();
  gh = await startFakeGitHub();
  sim = await startSimulator();
  resolver = createTargetResolver(sim.kubeConfig());
  await resolver.ready();
});
afterAll(async () => {
  resolver.close();
  await sim.close();
  await gh.close();
  await server.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('pull request plan', () => {
  it('valid + invalid experiment → failing status and ONE comment listing both; a fix edits the same comment and goes green', async () => {
    const url = await server.createRepo('shop-chaos');
    work = await server.workClone('shop-chaos');
    dirs.push(work.dir);
    await work.write('experiments/frontend.yaml', VALID.replace(/checkout/g, 'frontend'));
    const baseSha = await work.commitAndPush('main');
    await work.git('checkout', '-q', '-b', 'add-chaos');
    await work.write('experiments/checkout.yaml', VALID);
    await work.write('experiments/cart.yaml', BROKEN);
    await work.write('experiments/dns.yaml', VALID.replace(/checkout-pod-kill/g, 'coredns-kill').replace('namespace: shop', 'namespace: kube-system').replace('app: checkout', 'k8s-app: kube-dns'));
    const head1 = await work.commitAndPush('add two experiments', 'add-chaos');

    const gitdir = await mkdtemp(join(tmpdir(), 'fl-pr-'));
    dirs.push(gitdir);
    const host = createGitHost({ type: 'github', apiUrl: gh.url, token: 'ghp_x', repository: 'Codertocat/Hello-World' });
    const deps = { source: gitReader(url, gitdir), loadExperimentFiles: load, plan, host };

    // A real `pull_request.opened` delivery, pointed at our commits.
    const opened = webhookExample('pull_request', 'opened');
    const pr = opened.pull_request as { head: { sha: string }; base: { sha: string } };
    pr.head.sha = head1;
    pr.base.sha = baseSha;
    const ev1 = pullRequestEventFrom('github', 'pull_request', opened)!;
    expect(ev1).toMatchObject({ number: 2, action: 'opened', headSha: head1, baseRef: baseSha });
    const r1 = await handlePullRequest(ev1, deps);

    expect(r1.changed).toEqual(['experiments/cart.yaml', 'experiments/checkout.yaml', 'experiments/dns.yaml']);
    expect(r1.state).toBe('failure');
    expect(r1.description).toContain('experiments/cart.yaml');
    expect(r1.description).toMatch(/blocked: coredns-kill \([^)]*protected-namespace/);
    expect(gh.statuses.filter((s) => s.sha === head1).map((s) => s.state)).toEqual(['pending', 'failure']);
    const comments = gh.comments.get(2)!;
    expect(comments).toHaveLength(1);
    const body1 = comments[0]!.body;
    expect(body1.startsWith(PLAN_MARKER)).toBe(true);
    expect(body1).toContain('`checkout-pod-kill`');
    expect(body1).toMatch(/\| 🛑 \| `coredns-kill`.*❌ `protected-namespace`/);
    expect(body1).toMatch(/`experiments\/cart\.yaml:7:\d+`/);
    expect(body1).not.toContain('frontend'); // unchanged experiments stay out of the plan
    // Kept as the README's example; the sha and the simulator's random pod-name suffixes are pinned.
    const example = body1.replaceAll(head1.slice(0, 12), 'ec26c3e57ca3').replace(/\b([a-z]+)-[a-z0-9]{10}-[a-z0-9]{5}\b/g, '$1-7c9d8f6b5d-x4k2p');
    await expect(example).toMatchFileSnapshot(
      './__snapshots__/pr-plan-comment.md',
    );

    // Push a fix: a real `synchronize` delivery.
    await work.write('experiments/cart.yaml', FIXED);
    await work.remove('experiments/dns.yaml');
    const head2 = await work.commitAndPush('fix fault type', 'add-chaos');
    const sync = webhookExample('pull_request', 'synchronize');
    const pr2 = sync.pull_request as { head: { sha: string }; base: { sha: string } };
    pr2.head.sha = head2;
    pr2.base.sha = baseSha;
    const r2 = await handlePullRequest(pullRequestEventFrom('github', 'pull_request', sync)!, deps);
    expect(r2.state).toBe('success');
    expect(r2.comment?.action).toBe('updated');
    expect(gh.statuses.filter((s) => s.sha === head2).map((s) => s.state)).toEqual(['pending', 'success']);
    expect(gh.comments.get(2)).toHaveLength(1);
    expect(gh.comments.get(2)![0]!.id).toBe(comments[0]!.id);
    expect(gh.comments.get(2)![0]!.body).toContain('`cart-latency`');
    expect(gh.operations.filter((o) => o === 'issues/create-comment')).toHaveLength(1);
    expect(gh.operations.filter((o) => o === 'issues/update-comment')).toHaveLength(1);
    expect(gh.errors).toEqual([]); // every request conforms to GitHub's OpenAPI description

    // The server's normalised event maps onto the same thing.
    expect(toPlanEvent({ host: 'github', number: 2, action: 'synchronize', headSha: head2, baseRef: 'main', baseSha })).toEqual({
      number: 2,
      action: 'synchronize',
      headSha: head2,
      baseRef: baseSha,
      fetchRefs: ['refs/pull/2/head', 'main'],
    });

    // Events that do not change the plan are ignored.
    const labeled = pullRequestEventFrom('github', 'pull_request', webhookExample('pull_request', 'labeled'))!;
    expect((await handlePullRequest(labeled, deps)).skipped).toBeTruthy();
  });

  it('a host that keeps failing does not throw out of the PR path; it is counted', async () => {
    const host = createGitHost(
      { type: 'github', apiUrl: 'http://127.0.0.1:1', repository: 'o/r' },
      { retry: { attempts: 2, baseDelayMs: 1, timeoutMs: 2000 } },
    );
    const source = { readAll: async () => ({ revision: 'a'.repeat(40), files: [], freeze: false }) };
    const seen: string[] = [];
    const off = onReportFailure((target, _err, what) => seen.push(`${target}: ${what}`));
    const before = reportFailureCount('github');
    const r = await handlePullRequest({ number: 1, action: 'opened', headSha: 'a'.repeat(40) }, { source, loadExperimentFiles: load, plan, host });
    off();
    expect(r.state).toBe('success');
    expect(r.errors.length).toBeGreaterThanOrEqual(2);
    expect(reportFailureCount('github') - before).toBe(r.errors.length);
    expect(seen).toContain('github: plan comment');
  });
});

describe('pull request plan, big-repository path (tree diff)', () => {
  // Fetched with the git binary (the default where there is one) and with isomorphic-git; names of
  // unchanged files parsed by the reader, or taken from the controller's desired state.
  it.each([
    { fetch: 'native git', nativeGit: true, names: 'parsed' },
    { fetch: 'isomorphic-git', nativeGit: false, names: 'parsed' },
    { fetch: 'native git', nativeGit: true, names: 'known' },
  ])('reads only what the PR changed, from the merge base, and keeps names unique across the repository ($fetch, names $names)', async ({ nativeGit, names }) => {
    const repo = `big-${nativeGit ? 'n' : 'i'}-${names}`;
    const url = await server.createRepo(repo);
    const w = await server.workClone(repo);
    dirs.push(w.dir);
    for (let i = 0; i < 30; i++) await w.write(`experiments/team-${i % 3}/exp-${i}.yaml`, VALID.replace(/checkout-pod-kill/g, `exp-${i}`));
    await w.commitAndPush('thirty experiments');
    await w.git('checkout', '-q', '-b', 'pr');
    await w.write('experiments/team-1/new.yaml', VALID); // checkout-pod-kill: new and valid
    await w.write('experiments/team-2/clash.yaml', VALID.replace(/checkout-pod-kill/g, 'exp-4')); // name taken by exp-4.yaml
    await w.remove('experiments/team-0/exp-0.yaml');
    const head = await w.commitAndPush('pr change', 'pr');
    await w.git('push', '-q', 'origin', `${head}:refs/pull/9/head`);
    // main moves on after the branch point; the PR must not be blamed for it.
    await w.git('checkout', '-q', 'main');
    await w.write('experiments/team-0/exp-1.yaml', BROKEN);
    const mainTip = await w.commitAndPush('unrelated change on main');

    const dir = await mkdtemp(join(tmpdir(), 'fl-prr-'));
    dirs.push(dir);
    // The controller's desired state of main at the branch point, as the reconciler parsed it.
    const desired = new DesiredState();
    let asked = 0;
    if (names === 'known') {
      const files = (await w.git('ls-tree', '-r', 'HEAD~1', 'experiments')).split('\n').map((l) => {
        const [meta, path] = l.split('\t');
        return { path: path!, oid: meta!.split(' ')[2]!, content: new Uint8Array() };
      });
      for (const f of files) f.content = new TextEncoder().encode(await w.git('show', `${f.oid}`));
      desired.reset(files);
    }
    const knownNames = names === 'known' ? (oid: string) => (asked++, desired.namesOf(oid)) : undefined;
    const reader = new PrTreeReader({ url, dir, nativeGit, knownNames });
    await reader.warm('main');
    const host = createGitHost({ type: 'github', apiUrl: gh.url, repository: 'o/r' });
    const event = { number: 9, action: 'synchronize', headSha: head, baseRef: mainTip, fetchRefs: ['main', 'refs/pull/9/head'] };
    const r = await handlePullRequest(event, { reader, loadExperimentFiles: load, plan, host });
    if (names === 'known') expect(asked).toBeGreaterThanOrEqual(29); // every unchanged blob's names came from the desired state
    expect(r.changed).toEqual(['experiments/team-1/new.yaml', 'experiments/team-2/clash.yaml']);
    expect(r.deleted).toEqual(['experiments/team-0/exp-0.yaml']);
    expect(r.rows.map((x) => x.name)).toEqual(['checkout-pod-kill']);
    expect(r.problems).toEqual([expect.objectContaining({ file: 'experiments/team-2/clash.yaml', pointer: '/metadata/name', message: expect.stringContaining('exp-4.yaml') })]);
    expect(r.state).toBe('failure');
    expect(r.body).toContain('#### Removed');
    expect(gh.errors).toEqual([]);
  });
});

describe('merge request events (GitLab)', () => {
  // Fields as in GitLab's "Merge request events" documentation; real deliveries are in test/server.
  const mr = (action: string, oldrev?: string) => ({
    object_kind: 'merge_request',
    project: { id: 7, path_with_namespace: 'acme/chaos' },
    object_attributes: {
      iid: 12,
      action,
      source_branch: 'add-chaos',
      target_branch: 'main',
      last_commit: { id: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7' },
      ...(oldrev ? { oldrev } : {}),
    },
  });
  it('go through the GitLab module: its normaliser, and its merge-request ref to fetch', async () => {
    expect(pullRequestEventFrom('gitlab', 'Merge Request Hook', mr('open'))).toEqual({
      number: 12,
      action: 'opened',
      headSha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      baseRef: 'main',
      fetchRefs: ['refs/merge-requests/12/head', 'main'],
    });
    expect(pullRequestEventFrom('gitlab', 'Merge Request Hook', mr('update', 'a'.repeat(40)))?.action).toBe('synchronize');
    const edited = pullRequestEventFrom('gitlab', 'Merge Request Hook', mr('update'))!;
    expect(edited.action).toBe('edited');
    expect((await handlePullRequest(edited, { source: { readAll: () => Promise.reject(new Error('not read')) }, loadExperimentFiles: load, plan, host: createGitHost({ type: 'gitlab', apiUrl: 'http://127.0.0.1:1', repository: '7' }) })).skipped).toBeTruthy();
    expect(pullRequestEventFrom('gitlab', 'Push Hook', { object_kind: 'push' })).toBeUndefined();
  });
});

describe('renderPlanComment', () => {
  function rows(n: number): PlanRowLike[] {
    return Array.from({ length: n }, (_, i) => ({
      name: `experiment-${String(i).padStart(5, '0')}`,
      file: `experiments/team-${i % 17}/experiment-${i}.yaml`,
      fault: 'network-delay',
      targets: Array.from({ length: 5 }, (_, k) => ({ kind: 'Pod' as const, namespace: 'shop', name: `pod-${i}-${k}` })),
      blastRadius: [{ workload: 'Deployment/checkout', namespace: 'shop', hit: 1, ready: 4, percent: 25 }],
      guards: [{ guard: 'blast-radius', ok: i % 50 !== 7, reason: i % 50 === 7 ? '75% of Deployment/checkout > 50%' : 'ok' }],
      allowed: i % 50 !== 7,
      schedule: '*/15 * * * *',
    }));
  }
  const problems: Problem[] = Array.from({ length: 300 }, (_, i) => ({
    file: `experiments/bad-${i}.yaml`,
    line: 7,
    column: 11,
    pointer: '/spec/fault/type',
    message: 'must be one of pod-kill, container-kill | network-delay',
  }));

  it('fits the limit: summarised, failing ones first, every table line whole', () => {
    const input = { rows: rows(3000), problems, headSha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821' };
    const text = renderPlanComment({ ...input, maxLength: 65_536 });
    expect(text.length).toBeLessThanOrEqual(65_536);
    expect(text).toContain('summarised');
    expect(text).toContain('3000 experiments planned');
    const table = text.split('\n').filter((l) => l.startsWith('|'));
    expect(table.length).toBeGreaterThan(10);
    for (const line of table) expect(line.match(/(?<!\\)\|/g)).toHaveLength(6); // 5 columns, none cut
    const firstPassing = table.findIndex((l) => l.startsWith('| ✅'));
    const lastBlocked = table.map((l) => l.startsWith('| 🛑')).lastIndexOf(true);
    expect(lastBlocked).toBeGreaterThan(1);
    if (firstPassing >= 0) expect(firstPassing).toBeGreaterThan(lastBlocked);
    expect(text).toMatch(/…and \d+ more experiments not shown/);
    expect(text).toContain('container-kill \\| network-delay'); // pipes in messages escaped
    expect(text.trimEnd().endsWith('</sub>')).toBe(true);
  });

  it('a small plan is rendered in full', () => {
    const text = renderPlanComment({ rows: rows(8), problems: problems.slice(0, 1), headSha: 'f'.repeat(40) });
    expect(text).toContain('| | Experiment | Fault | Targets now | Blast radius | Guards | Schedule |');
    expect(text).toContain('5 pods: `shop/pod-0-0`, `shop/pod-0-1`, `shop/pod-0-2`, +2 more');
    expect(text.split('\n').filter((l) => l.startsWith('| 🛑'))).toHaveLength(1);
    expect(text.split('\n').findIndex((l) => l.startsWith('| 🛑'))).toBeLessThan(text.split('\n').findIndex((l) => l.startsWith('| ✅')));
  });
});
