// A ChaosWorkflow in a pull request, through the controller's real entry point: a signed GitHub
// webhook, the git smart-HTTP server, real Redis and the simulator. The plan shows every step's
// live targets, blast radius and guards; one refused step refuses the workflow and fails the check.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startController, type Controller } from '../../src/controller/index.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { PLAN_MARKER } from '../../src/hosts/types.js';
import { githubExample } from '../server/helpers.js';
import { startFakeGitHub, type FakeGitHub } from '../report/fake-github.js';
import { postWebhook, pushPayload, reconciled, startWorld, waitFor, type World } from './harness.js';
import { workflowMarker } from '../../src/report/workflow-result.js';
import { workflowStatusPath, workflowTimelinePath } from '../../src/report/git-status.js';

const REPO = 'acme/chaos';
const PR = 21;

// On main before the PR: the experiment the workflow refers to (a file the PR leaves alone).
const CART_KILL = `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata: { name: cart-pod-kill }
spec:
  fault: { type: pod-kill }
  target: { namespace: shop, selector: { matchLabels: { app: cart } }, mode: { type: one } }
  duration: 30s
`;

const step = (name: string, app: string, ns = 'shop') =>
  `- name: ${name}\n  fault: { type: pod-kill }\n  target: { namespace: ${ns}, selector: { matchLabels: { ${ns === 'kube-system' ? 'k8s-app' : 'app'}: ${app} } } }\n  duration: 30s\n`;
const indent = (s: string, n: number) => s.replace(/^(?=.)/gm, ' '.repeat(n));

// Refused twice over: a step in a protected namespace, and a parallel group whose two cart kills
// (each 1 of 3 ready pods, 33%, allowed alone) take 2 of 3 (67%) together, over the 50% cap.
function gameday(o: { protectedStep: boolean; secondCartKill: boolean }): string {
  const group = `- name: kill-cart\n  experiment: cart-pod-kill\n${o.secondCartKill ? step('kill-cart-again', 'cart') : step('kill-checkout', 'checkout')}`;
  const steps = [
    '- name: baseline\n  pause: 5s\n',
    `- name: break-things\n  parallel:\n${indent(group, 4)}`,
    ...(o.protectedStep ? [step('kill-dns', 'kube-dns', 'kube-system')] : []),
    `- name: final-check\n  duration: 5s\n  check:\n    probes:\n      - name: cart-ready\n        kubernetes: { namespace: shop, kind: Deployment, name: cart, minReadyReplicas: 1 }\n`,
  ];
  return `apiVersion: faultline.dev/v1alpha1
kind: ChaosWorkflow
metadata: { name: pr-gameday }
spec:
  steps:
${indent(steps.join(''), 4)}`;
}

function pullRequestPayload(o: { action: 'opened' | 'synchronize'; head: string; base: string }): string {
  const payload = structuredClone(githubExample('pull_request', (e) => e.action === o.action));
  const pr = payload.pull_request as { number: number; head: Record<string, unknown>; base: Record<string, unknown> };
  payload.number = PR;
  pr.number = PR;
  pr.head = { ...pr.head, sha: o.head, ref: 'add-gameday' };
  pr.base = { ...pr.base, sha: o.base, ref: 'main' };
  (payload.repository as Record<string, unknown>).full_name = REPO;
  return JSON.stringify(payload);
}

const finalPlanStatus = (gh: FakeGitHub, sha: string) => gh.statuses.find((s) => s.sha === sha && s.context === 'faultline/plan' && s.state !== 'pending');

describe('a workflow in a pull request', () => {
  let world: World;
  let gh: FakeGitHub;
  let controller: Controller;
  let base: string;

  beforeAll(async () => {
    world = await startWorld({ seed: { 'experiments/cart-pod-kill.yaml': CART_KILL } });
    gh = await startFakeGitHub();
    base = await world.work.git('rev-parse', 'HEAD');
    const config = world.config();
    config.gitHost = { type: 'github', apiUrl: gh.url, token: 't', repository: REPO };
    config.safety.maxConcurrentRuns = 10;
    config.runs.concurrency = 4;
    controller = await startController({
      config,
      log: process.env.FL_TEST_LOG ? createLogger('test', process.env.FL_TEST_LOG) : silentLogger,
      kubeConfig: world.sim.kubeConfig(),
    });
    await reconciled(world, base);
  }, 60_000);

  afterAll(async () => {
    await controller?.close();
    await gh?.close();
    await world?.close();
  });

  it('one refused step refuses the workflow: failing check, every step in the comment; the fix turns it green in the same comment', async () => {
    const url = controller.url!;
    await world.work.git('checkout', '-q', '-b', 'add-gameday');
    await world.work.write('experiments/pr-gameday.yaml', gameday({ protectedStep: true, secondCartKill: true }));
    await world.work.git('add', '-A');
    await world.work.git('commit', '-q', '-m', 'add a gameday');
    await world.work.git('push', '-q', 'origin', `HEAD:refs/pull/${PR}/head`);
    const head1 = await world.work.git('rev-parse', 'HEAD');
    expect((await postWebhook(url, pullRequestPayload({ action: 'opened', head: head1, base }), { event: 'pull_request' })).status).toBe(202);

    const failed = await waitFor(() => finalPlanStatus(gh, head1), 'the plan status of the first head', 60_000);
    expect(failed.state).toBe('failure');
    expect(failed.description).toContain('workflow refused: pr-gameday (pr-gameday/break-things, pr-gameday/kill-dns)');
    const body = gh.comments.get(PR)![0]!.body;
    expect(body.startsWith(PLAN_MARKER)).toBe(true);
    expect(body).toContain('0 experiments and 1 workflow (1 refused) planned');
    expect(body).toContain('🛑 Workflow `pr-gameday`');
    expect(body).toContain('refused: `pr-gameday/break-things`, `pr-gameday/kill-dns`');
    // every step, with its live targets, radius and verdicts
    const row = (name: string) => body.split('\n').find((l) => l.includes(`\`${name}\``) && l.startsWith('|'));
    expect(row('baseline')).toMatch(/pause `5s`/);
    expect(row('break-things')).toMatch(/^\| 🛑 .*parallel, together \| 2 \| Deployment\/cart: 2 of 3 ready \(67%\) \| ❌ `combined-blast-radius`: together Deployment\/cart 2\/3 ready \(67%\) over the 50% cap \(controller\)/);
    expect(row('kill-cart')).toMatch(/^\| ✅ \| (&nbsp;)+↳ `kill-cart` \| pod-kill \(experiment `cart-pod-kill`\) \| 1 pod: `shop\/cart-[a-z0-9-]+` \| Deployment\/cart: 1 of 3 ready \(33%\) \| ✅ \d+ passed \|$/);
    expect(row('kill-cart-again')).toMatch(/^\| ✅ .*1 pod: `shop\/cart-/);
    expect(row('kill-dns')).toMatch(/^\| 🛑 .*❌ `protected-namespace`/);
    expect(row('final-check')).toMatch(/\| check `5s` \|/);
    expect(gh.comments.get(PR)).toHaveLength(1);

    // The fix: the protected step gone, the group hits two workloads at a third each.
    await world.work.write('experiments/pr-gameday.yaml', gameday({ protectedStep: false, secondCartKill: false }));
    await world.work.git('commit', '-q', '-am', 'gameday within the caps');
    await world.work.git('push', '-q', 'origin', `HEAD:refs/pull/${PR}/head`);
    const head2 = await world.work.git('rev-parse', 'HEAD');
    expect((await postWebhook(url, pullRequestPayload({ action: 'synchronize', head: head2, base }), { event: 'pull_request' })).status).toBe(202);
    const green = await waitFor(() => finalPlanStatus(gh, head2), 'the plan status of the fixed head', 60_000);
    expect(green.state).toBe('success');
    expect(green.description).toBe('0 experiments and 1 workflow valid; all guards pass');
    expect(gh.comments.get(PR)).toHaveLength(1);
    const edited = gh.comments.get(PR)![0]!.body;
    expect(edited).toContain('✅ Workflow `pr-gameday`');
    expect(edited).toMatch(/parallel, together \| 2 \| Deployment\/cart: 1 of 3 ready \(33%\)<br>Deployment\/checkout: 1 of \d ready/);
    expect(edited).not.toContain('kill-dns');
    expect(gh.errors).toEqual([]);
  }, 150_000);

  it('after merge the workflow runs; its result is a sticky comment on the pull request: every step, the score, links to the pictures', async () => {
    await world.work.git('checkout', '-q', 'main');
    // Merged with short steps so the run ends quickly.
    const merged = gameday({ protectedStep: false, secondCartKill: false }).replace(/duration: 30s/g, 'duration: 2s').replace('pause: 5s', 'pause: 1s').replace('duration: 5s\n', 'duration: 2s\n');
    await world.work.write('experiments/pr-gameday.yaml', merged);
    await world.work.write('experiments/cart-pod-kill.yaml', CART_KILL.replace('duration: 30s', 'duration: 2s'));
    const rev = await world.work.commitAndPush(`Merge pull request #${PR}`);
    gh.pullsForCommit.set(rev, PR);
    expect((await postWebhook(controller.url!, pushPayload({ after: rev, before: base }))).status).toBe(202);
    const run = await waitFor(async () => {
      const [r] = await controller.workflowRuns.list({ workflow: 'pr-gameday', limit: 1 });
      return r && r.revision === rev && r.score ? r : undefined;
    }, 'the merged workflow run to end with a score', 120_000);
    const comment = await waitFor(() => gh.comments.get(PR)?.find((c) => c.body.startsWith(workflowMarker('pr-gameday'))), 'the workflow comment', 60_000);
    // one workflow comment beside the plan comment (and the changed experiment's run comment)
    expect(gh.comments.get(PR)!.filter((c) => c.body.startsWith(workflowMarker('pr-gameday')))).toHaveLength(1);
    expect(gh.comments.get(PR)!.filter((c) => c.body.startsWith(PLAN_MARKER))).toHaveLength(1);
    const body = comment.body;
    expect(body).toContain(`### ${run.phase === 'Succeeded' ? '✅' : '❌'} Faultline workflow \`pr-gameday\`: ${run.phase} · resilience score ${run.score!.value}`);
    expect(body).toContain(`Run \`${run.id}\``);
    for (const s of run.steps) expect(body).toMatch(new RegExp(`\\| (&nbsp;&nbsp;↳ )*\`${s.name}\` \\| ${s.kind} \\| ${s.phase} \\|`));
    // links to the pictures on the status branch (GitHub's blob layout), and they are there
    const repoWeb = world.repoUrl.replace(/\.git$/, '');
    const timeline = workflowTimelinePath('pr-gameday', run.id);
    expect(body).toContain(`[timeline of this run](${repoWeb}/blob/faultline/status/${timeline})`);
    expect(body).toContain(`[score and recovery trend](${repoWeb}/blob/faultline/status/${workflowStatusPath('pr-gameday').replace(/\.yaml$/, '.trend.svg')})`);
    await controller.status.flush();
    const svg = await waitFor(async () => {
      await world.work.git('fetch', '-q', 'origin', '+refs/heads/faultline/status:refs/remotes/origin/faultline/status');
      return world.work.git('show', `refs/remotes/origin/faultline/status:${timeline}`).catch(() => undefined);
    }, 'the timeline on the status branch', 30_000);
    expect(svg).toContain(`data-run="${run.id}"`);
    expect(gh.errors).toEqual([]);
  }, 180_000);
});
