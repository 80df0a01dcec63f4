// Webhook-to-status latency of the pull-request path in a 10,000-experiment repository: a
// real `pull_request.synchronize` payload (webhooks-examples) for a PR that changes one
// experiment → fetch the PR refs over smart HTTP (isomorphic-git), diff from the merge base,
// validate with the real loader, plan with src/safety against the simulator (watch-backed
// resolver over @kubernetes/client-node), upsert the sticky comment and set the final
// `faultline/plan` status on a local GitHub stand-in through Octokit.
// In-process, with a PrTreeReader the bench warms itself and no webhook server, plans queue or
// per-PR lock: the controller's real path is pr-plan-webhook.bench.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGitServer } from '../test/helpers/git-server.js';
import { startSimulator } from '../src/sim/index.js';
import { loadExperimentFiles } from '../src/experiments/index.js';
import { createGitHost } from '../src/hosts/index.js';
import { PrTreeReader } from '../src/report/pr-source.js';
import { handlePullRequest, pullRequestEventFrom } from '../src/report/pr-plan.js';
import { createTargetResolver } from '../src/cluster/index.js';
import { planExperiment, type SafetyConfig } from '../src/safety/index.js';
import type { TargetResolver } from '../src/cluster/types.js';
import type { LoadedExperiment } from '../src/experiments/model.js';
import type { BenchResult } from './types.js';

const EXPERIMENTS = 10_000;
const RUNS = 20;
const APPS = ['frontend', 'checkout', 'cart', 'catalog', 'payments'];

function experiment(i: number, percent = 30): string {
  const app = APPS[i % APPS.length];
  return `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata:
  name: exp-${String(i).padStart(5, '0')}
spec:
  fault:
    type: pod-kill
    params: { gracePeriodSeconds: 0 }
  target:
    namespace: shop
    selector: { matchLabels: { app: ${app} } }
    mode: { type: percent, value: ${percent} }
  duration: 1m
`;
}

// A GitHub stand-in: statuses and one sticky comment, answered at once.
async function fakeGitHub() {
  const comments: { id: number; body: string }[] = [];
  let statuses = 0;
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'POST' && path.includes('/statuses/')) return void (statuses++, send(201, { id: statuses }));
      if (req.method === 'GET' && path.endsWith('/comments')) return send(200, comments);
      if (req.method === 'POST' && path.endsWith('/comments')) {
        const c = { id: comments.length + 1, body: (JSON.parse(data) as { body: string }).body };
        comments.push(c);
        return send(201, c);
      }
      if (req.method === 'PATCH') {
        const c = comments.find((x) => path.endsWith(`/comments/${x.id}`))!;
        c.body = (JSON.parse(data) as { body: string }).body;
        return send(200, c);
      }
      send(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, comments, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export default async function (): Promise<BenchResult[]> {
  const git = await startGitServer();
  const gh = await fakeGitHub();
  const sim = await startSimulator();
  const dir = await mkdtemp(join(tmpdir(), 'fl-bench-pr-'));
  let resolver: TargetResolver | undefined;
  try {
    const url = await git.createRepo('big');
    const work = await git.workClone('big');
    for (let i = 0; i < EXPERIMENTS; i++) await work.write(`experiments/team-${String(i % 100).padStart(2, '0')}/exp-${i}.yaml`, experiment(i));
    await work.commitAndPush(`${EXPERIMENTS} experiments`);

    // The same plan as `faultline plan`: src/safety against the simulator through the watch-backed resolver.
    resolver = createTargetResolver(sim.kubeConfig());
    await resolver.ready();
    const live = resolver;
    const safety: SafetyConfig = {
      protectedNamespaces: ['kube-system', 'kube-public', 'kube-node-lease'],
      optInLabel: { key: 'faultline.dev/chaos', value: 'enabled' },
      maxBlastRadiusPercent: 50,
      maxTargets: 10,
      maxConcurrentRuns: 2,
      allowedWindows: [],
      freezeWindows: [],
      ownNamespace: 'faultline',
    };
    const plan = async (loaded: LoadedExperiment[]) => loaded.map((l) => planExperiment(l, live, { config: safety }));

    const reader = new PrTreeReader({ url, dir });
    const w0 = performance.now();
    await reader.warm('main'); // what the controller does at start-up
    const warm = performance.now() - w0;
    const host = createGitHost({ type: 'github', apiUrl: gh.url, token: 'bench', repository: 'Codertocat/Hello-World' });
    const require = createRequire(import.meta.url);
    const examples = require('@octokit/webhooks-examples') as { name: string; examples: Record<string, unknown>[] }[];
    const sync = examples.find((e) => e.name === 'pull_request')!.examples.find((x) => x.action === 'synchronize')!;
    const baseSha = await work.git('rev-parse', 'HEAD');

    const times: number[] = [];
    let cold = 0;
    for (let run = 0; run <= RUNS; run++) {
      // The push lands before the webhook does; only the webhook-to-status part is timed.
      // Each push is a PR that changes exactly one experiment (a new branch off main each time).
      const i = (run * 37) % EXPERIMENTS;
      await work.git('checkout', '-q', '-B', 'pr', baseSha);
      await work.write(`experiments/team-${String(i % 100).padStart(2, '0')}/exp-${i}.yaml`, experiment(i, 1 + run));
      await work.git('commit', '-q', '-am', `change exp-${i}`);
      const head = await work.git('rev-parse', 'HEAD');
      await work.git('push', '-q', '-f', 'origin', `${head}:refs/pull/2/head`);
      const payload = structuredClone(sync) as { pull_request: { head: { sha: string }; base: { sha: string; ref: string } } };
      payload.pull_request.head.sha = head;
      payload.pull_request.base.sha = baseSha;
      payload.pull_request.base.ref = 'main';

      const t0 = performance.now();
      const result = await handlePullRequest(pullRequestEventFrom('github', 'pull_request', payload)!, { reader, loadExperimentFiles, plan, host });
      const ms = performance.now() - t0;
      if (result.state !== 'success' || result.changed.length !== 1 || result.errors.length) {
        throw new Error(`unexpected plan result: ${JSON.stringify({ state: result.state, changed: result.changed, errors: result.errors, d: result.description })}`);
      }
      if (run === 0) cold = ms;
      else times.push(ms);
    }
    times.sort((a, b) => a - b);
    const p = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
    if (gh.comments.length !== 1) throw new Error(`expected one sticky comment, got ${gh.comments.length}`);
    return [
      { name: 'pr webhook→status p50 (1 changed of 10k experiments)', value: p(0.5), unit: 'ms', target: '< 300 ms', note: `${RUNS} PR pushes` },
      { name: 'pr webhook→status p95', value: p(0.95), unit: 'ms' },
      { name: 'pr webhook→status first PR after warm-up', value: cold, unit: 'ms' },
      { name: 'pr reader warm-up (clone + name index of 10k files)', value: warm, unit: 'ms', note: 'once per controller start' },
    ];
  } finally {
    resolver?.close();
    await sim.close();
    await gh.close();
    await git.close();
    await rm(dir, { recursive: true, force: true });
  }
}
