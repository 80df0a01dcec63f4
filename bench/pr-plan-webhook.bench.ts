// Pull-request webhook → final `faultline/plan` status, through `faultline run` as a process:
// the real webhook server (signed GitHub `pull_request` deliveries), the plans queue, the per-PR
// lock, the controller's own PR reader (nothing pre-warmed by the bench) and the GitHub stand-in
// of the tests (a real HTTP server checking each request against GitHub's OpenAPI description).
// The repository holds BENCH_PR_EXPERIMENTS scheduled experiments (default 1000; the report's
// figure is 10000); each pull request adds one experiment under refs/pull/<n>/head.
//   - first plan after a start: the first delivery is posted the moment the controller logs
//     "controller started" (its first reconcile and the reader's warm-up may still be going);
//     timed from the post to the final status (success/failure) arriving at the stand-in;
//   - later plans (BENCH_PRS, default 8): one pull request at a time, each timed the same way.
// Floors measured in the same run: native `git fetch` of the same PR ref into a bare clone, and
// a bare YAML parse of the changed file.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { parse } from 'yaml';
import { startGitServer, gitEnv, type WorkClone } from '../test/helpers/git-server.js';
import { githubExample } from '../test/server/helpers.js';
import { startFakeGitHub, type FakeGitHub } from '../test/report/fake-github.js';
import { signGithub } from '../src/server/index.js';
import { startSimulator } from '../src/sim/index.js';
import { controllerEntry, oneOffPodKill, percentile, removeBuild, scheduledExperiment, spawnController, type ControllerProc } from './lib/controller-proc.js';
import type { BenchResult } from './types.js';

const run = promisify(execFile);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const N = Number(process.env.BENCH_PR_EXPERIMENTS ?? 1000);
const PRS = Number(process.env.BENCH_PRS ?? 8);
const SECRET = 'bench-secret';
const REPO = 'acme/chaos';
const APPS = ['frontend', 'cart', 'catalog', 'payments'];

async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

function pullRequestPayload(o: { number: number; head: string; base: string }): string {
  const payload = structuredClone(githubExample('pull_request', (e) => e.action === 'opened'));
  const pr = payload.pull_request as { number: number; head: Record<string, unknown>; base: Record<string, unknown> };
  payload.number = o.number;
  pr.number = o.number;
  pr.head = { ...pr.head, sha: o.head, ref: `pr-${o.number}` };
  pr.base = { ...pr.base, sha: o.base, ref: 'main' };
  (payload.repository as Record<string, unknown>).full_name = REPO;
  return JSON.stringify(payload);
}

/** A PR branch off `base` adding one experiment, pushed to refs/pull/<n>/head. */
async function pushPullRequest(work: WorkClone, base: string, n: number): Promise<{ head: string; text: string }> {
  const name = `pr-${n}-kill`;
  const text = oneOffPodKill(name, 'shop', APPS[n % APPS.length]!);
  await work.git('checkout', '-q', '-B', `pr-${n}`, base);
  await work.write(`experiments/pulls/${name}.yaml`, text);
  await work.git('add', '-A');
  await work.git('commit', '-q', '-m', `add ${name}`);
  await work.git('push', '-q', 'origin', `HEAD:refs/pull/${n}/head`);
  return { head: await work.git('rev-parse', 'HEAD'), text };
}

async function post(url: string, body: string): Promise<void> {
  const res = await fetch(`${url}/webhooks/github`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': signGithub(body, SECRET), 'user-agent': 'GitHub-Hookshot/bench' },
    body,
  });
  if (res.status !== 202) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
}

/** Waits (2 ms steps) for the final plan status of `sha` at the stand-in; the time it arrived. */
async function finalStatus(gh: FakeGitHub, sha: string, timeoutMs: number): Promise<{ at: number; state: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = gh.statuses.find((x) => x.sha === sha && x.context === 'faultline/plan' && x.state !== 'pending');
    if (s) return { at: Date.now(), state: s.state };
    if (Date.now() > deadline) throw new Error(`no final plan status for ${sha.slice(0, 12)} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function measure(): Promise<BenchResult[]> {
  const git = await startGitServer();
  const gh = await startFakeGitHub();
  const sim = await startSimulator({});
  const tmp = mkdtempSync(join(tmpdir(), 'fl-bench-pr-'));
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const prefix = `flbench-${randomUUID().slice(0, 8)}`;
  const out: BenchResult[] = [];
  let proc: ControllerProc | undefined;
  try {
    const url = await git.createRepo('chaos');
    const work = await git.workClone('chaos');
    for (let i = 0; i < N; i++) await work.write(`experiments/team-${i % 100}/bench-${i}.yaml`, scheduledExperiment(i));
    const base = await work.commitAndPush(`${N} experiments`);
    const native = join(tmp, 'native.git');
    await run('git', ['clone', '-q', '--bare', url, native], { env: { ...process.env, ...gitEnv } });
    const kubeconfig = join(tmp, 'kubeconfig.yaml');
    writeFileSync(kubeconfig, sim.kubeconfigYaml());
    const env = {
      FAULTLINE_REPO_URL: url,
      REDIS_URL,
      FAULTLINE_REDIS_PREFIX: prefix,
      FAULTLINE_DATA_DIR: join(tmp, 'data'),
      FAULTLINE_WEBHOOK_SECRET: SECRET,
      FAULTLINE_POLL_INTERVAL: '0s',
      FAULTLINE_HOST: '127.0.0.1',
      FAULTLINE_PORT: '0',
      FAULTLINE_KUBECONFIG: kubeconfig,
      FAULTLINE_GIT_HOST: 'github',
      FAULTLINE_GIT_HOST_API_URL: gh.url,
      FAULTLINE_GIT_HOST_REPOSITORY: REPO,
      FAULTLINE_GIT_HOST_TOKEN: 'bench-token',
      LOG_LEVEL: 'info',
    };
    controllerEntry(); // build before any clock starts
    const floors: { fetch: number; parse: number }[] = [];
    const floor = async (n: number, text: string) => {
      const t = performance.now();
      await run('git', ['-C', native, 'fetch', '-q', 'origin', `+refs/pull/${n}/head:refs/pull/${n}/head`], { env: { ...process.env, ...gitEnv } });
      const fetchMs = performance.now() - t;
      const p = performance.now();
      parse(text);
      floors.push({ fetch: fetchMs, parse: performance.now() - p });
    };

    // The first plan after a start: delivered as soon as the controller listens.
    const first = await pushPullRequest(work, base, 1);
    proc = spawnController(env);
    const ctl = await proc.url();
    const startedAt = Date.now();
    const t0 = Date.now();
    await post(ctl, pullRequestPayload({ number: 1, head: first.head, base }));
    const firstDone = await finalStatus(gh, first.head, 10 * 60_000);
    const firstMs = firstDone.at - t0;
    const reconciled = proc.lines.find((l) => l.msg === 'reconcile done');
    const ready = proc.lines.find((l) => l.msg === 'pull-request reader ready');
    await floor(1, first.text);
    await proc.waitLine((l) => l.msg === 'reconcile done', 'the first "reconcile done"', 15 * 60_000);

    const later: number[] = [];
    for (let n = 2; n < PRS + 2; n++) {
      const pr = await pushPullRequest(work, base, n);
      const t = Date.now();
      await post(ctl, pullRequestPayload({ number: n, head: pr.head, base }));
      const done = await finalStatus(gh, pr.head, 120_000);
      later.push(done.at - t);
      await floor(n, pr.text);
    }
    await work.git('checkout', '-q', 'main');
    // The first plan after a restart on the same data directory (its PR clone and parse cache kept).
    await proc.stop();
    const again = await pushPullRequest(work, base, PRS + 2);
    await work.git('checkout', '-q', 'main');
    const before = proc;
    proc = spawnController(env);
    const ctl2 = await proc.url();
    const r0 = Date.now();
    await post(ctl2, pullRequestPayload({ number: PRS + 2, head: again.head, base }));
    const restartDone = await finalStatus(gh, again.head, 10 * 60_000);
    const restartMs = restartDone.at - r0;
    const restartSplit = await proc.waitLine((l) => l.msg === 'pull request planned' && l.pr === PRS + 2, 'its "pull request planned"', 30_000).catch(() => undefined);
    const restartProc = proc;
    proc = before;
    // The controller's own split of each later plan ('pull request planned' carries its phases).
    const planned = proc.lines.filter((l) => l.msg === 'pull request planned' && Number(l.pr) >= 2);
    const fields = ['pendingMs', 'fetchMs', 'diffMs', 'loadMs', 'planMs', 'commentMs', 'statusMs'];
    const split = fields.map((f) => `${f.replace(/Ms$/, '')} ${percentile(planned.map((l) => Number(l[f] ?? 0)), 50).toFixed(0)}`).join(', ');
    const firstSplit = proc.lines.find((l) => l.msg === 'pull request planned' && l.pr === 1);
    const k = `${N / 1000}k`;
    const rel = (l: { time: number } | undefined) => (l ? `${l.time - startedAt} ms` : 'not yet');
    out.push({
      name: `${k} first PR plan after a start (webhook → final status)`,
      value: firstMs,
      unit: 'ms',
      target: '<= 500 ms',
      note: `status ${firstDone.state}; posted at "controller started"; its phases (ms): ${fields.map((f) => `${f.replace(/Ms$/, '')} ${String(firstSplit?.[f])}`).join(', ')}; after that line: first "reconcile done" ${rel(reconciled)}, "pull-request reader ready" ${rel(ready)} (as of the final status); ${controllerEntry().note}; load average ${loadavg()[0]!.toFixed(2)}`,
    });
    out.push({
      name: `${k} first PR plan after a restart (webhook → final status)`,
      value: restartMs,
      unit: 'ms',
      target: '<= 500 ms',
      note: `the same data directory (PR clone, parse cache); posted at "controller started"; its phases (ms): ${fields.map((f) => `${f.replace(/Ms$/, '')} ${String(restartSplit?.[f])}`).join(', ')}`,
    });
    await restartProc.stop();
    out.push({ name: `${k} later PR plans p50 (webhook → final status)`, value: percentile(later, 50), unit: 'ms', target: '<= 100 ms', note: `p90 ${percentile(later, 90).toFixed(0)} ms over ${later.length} pull requests; phase p50s in the controller (ms): ${split}; GitHub stand-in requests checked against the OpenAPI description: ${gh.errors.length} problems` });
    out.push({ name: `${k} PR: native git fetch of the same PR ref (floor)`, value: percentile(floors.map((f) => f.fetch), 50), unit: 'ms', note: `bare YAML parse of the changed file ${percentile(floors.map((f) => f.parse), 50).toFixed(2)} ms` });
  } finally {
    await proc?.stop();
    await deletePrefix(redis, prefix).catch(() => undefined);
    redis.disconnect();
    await sim.close();
    await gh.close();
    await git.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}

export default async function bench(): Promise<BenchResult[]> {
  try {
    return await measure();
  } finally {
    removeBuild();
  }
}
