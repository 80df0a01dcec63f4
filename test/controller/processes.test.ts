// Several controller processes on one Redis, one repository and one (simulated) cluster:
// `faultline run` twice → every run executes once; a controller SIGKILLed in the middle of a
// 300-experiment reconcile and started again → nothing lost, nothing doubled.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { readCatalog } from '../../src/controller/catalog.js';
import { RedisRunStore } from '../../src/queue/index.js';
import { GitStatusStore } from '../../src/report/git-status.js';
import type { RunRecord } from '../../src/runs/types.js';
import { podKill, postWebhook, pushPayload, reconciled, startWorld, waitFor, type World } from './harness.js';
import { join } from 'node:path';

let world: World | undefined;
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    c.kill('SIGTERM');
    const gone = await Promise.race([exited(c).then(() => true), new Promise((r) => setTimeout(() => r(false), 20_000))]);
    if (!gone) c.kill('SIGKILL');
  }
  await world?.close();
  world = undefined;
});

function exited(c: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve(c.exitCode) : c.once('exit', (code) => resolve(code))));
}

interface Proc {
  child: ChildProcess;
  url: string;
  output(): string;
}

/** Spawns a controller and waits for its HTTP URL (from its log, or the `ready` line). */
async function spawnController(args: string[], env: Record<string, string>): Promise<Proc> {
  const child = spawn('node_modules/.bin/node', args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const url = await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`controller exited with ${child.exitCode}:\n${out.slice(-4000)}`);
    const ready = /^ready (http\S+)$/m.exec(out)?.[1];
    if (ready) return ready;
    for (const line of out.split('\n')) {
      if (!line.includes('controller started')) continue;
      const u = (JSON.parse(line) as { url?: string }).url;
      if (u) return u;
    }
    return undefined;
  }, 'controller listening', 60_000).catch((err: unknown) => {
    if (child.exitCode !== null) throw err;
    throw new Error(`${(err as Error).message}\n${out.slice(-4000)}`);
  });
  return { child, url, output: () => out };
}

async function allRuns(w: World): Promise<RunRecord[]> {
  const store = new RedisRunStore(w.redis, w.prefix);
  const out: RunRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ limit: 1000, cursor });
    out.push(...page.runs);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

function statusStore(w: World, name: string): GitStatusStore {
  return new GitStatusStore({ url: w.repoUrl, dir: join(w.workdir, `reader-${name}`) });
}

describe('two `faultline run` processes', () => {
  it('each run executes exactly once, with the real executor on the simulator', async () => {
    world = await startWorld();
    const w = world;
    const seed = await w.work.git('rev-parse', 'HEAD');
    // Room for every run at once: with the default global cap (2) and two replicas working
    // two runs each, a run can be refused for a taken slot, and a refused one-off is not retried.
    const env = { ...w.env, FAULTLINE_PORT: '0', KUBECONFIG: await w.kubeconfigFile(), LOG_LEVEL: 'info', FAULTLINE_MAX_CONCURRENT_RUNS: '10' };
    const [a, b] = await Promise.all([spawnController(['src/cli/bin.js', 'run'], env), spawnController(['src/cli/bin.js', 'run'], env)]);
    await reconciled(w, seed, 60_000);

    const apps = ['frontend', 'checkout', 'cart', 'catalog', 'payments'];
    for (const app of apps) await w.work.write(`experiments/${app}-kill.yaml`, podKill(`${app}-kill`, { app }));
    const rev = await w.work.commitAndPush('five experiments');
    const body = pushPayload({ after: rev, before: seed });
    // The host delivers to both replicas (behind a Service), once with a shared id, then retries.
    const answers = await Promise.all([
      postWebhook(a.url, body, { delivery: 'five' }),
      postWebhook(b.url, body, { delivery: 'five' }),
      postWebhook(a.url, body, { delivery: 'five-retry' }),
      postWebhook(b.url, body, { delivery: 'five-retry-2' }),
    ]);
    expect(answers.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    expect(answers.slice(0, 2).filter((r) => (r.json as { duplicate?: boolean }).duplicate).length).toBe(1);
    await reconciled(w, rev, 60_000);

    const runs = await waitFor(async () => {
      const list = await allRuns(w);
      return list.length >= apps.length && list.every((r) => r.outcome) ? list : undefined;
    }, 'every run ended', 90_000);
    expect(runs.map((r) => r.experiment).sort()).toEqual(apps.map((a) => `${a}-kill`).sort());
    for (const r of runs) expect([r.experiment, r.state, r.reason]).toEqual([r.experiment, 'Succeeded', undefined]);
    // One pod killed per experiment in the cluster, however many replicas and deliveries.
    expect(Object.fromEntries(w.podDeletions)).toEqual(Object.fromEntries(apps.map((a) => [a, 1])));
    // Exactly one reconcile leader published; both replicas stayed up.
    expect(a.child.exitCode).toBeNull();
    expect(b.child.exitCode).toBeNull();
    const applied = await statusStore(w, 'two').list();
    expect([...applied.keys()].sort()).toEqual(apps.map((a) => `${a}-kill`).sort());

    // A further push with no change: nothing new anywhere.
    await w.work.write('README.md', 'changed\n');
    const docs = await w.work.commitAndPush('docs');
    expect((await postWebhook(b.url, pushPayload({ after: docs, before: rev }))).status).toBe(202);
    await reconciled(w, docs, 60_000);
    expect((await allRuns(w)).length).toBe(apps.length);
    expect(Object.fromEntries(w.podDeletions)).toEqual(Object.fromEntries(apps.map((a) => [a, 1])));
  }, 240_000);
});

describe('SIGKILL mid-reconcile', () => {
  it('a restarted controller finishes the job: every experiment applied, each run once', async () => {
    const N = 300;
    const seed: Record<string, string> = {};
    for (let i = 0; i < N; i++) seed[`experiments/bulk/e${String(i).padStart(3, '0')}.yaml`] = podKill(`e${String(i).padStart(3, '0')}`, { app: 'cart' });
    world = await startWorld({ seed });
    const w = world;
    const rev = await w.work.git('rev-parse', 'HEAD');
    const env = { ...w.env, FL_KUBECONFIG: await w.kubeconfigFile(), FL_IDENTITY: 'replica-0', LOG_LEVEL: 'silent' };
    const script = ['--import', 'tsx', 'test/controller/controller-process.ts'];
    const executedKey = `${w.prefix}:test-executed`;

    const victim = await spawnController(script, env);
    // Mid-reconcile: runs have started, but the pass has not finished (no catalog published).
    // (at the first run: the pass enqueues 300 runs and commits their records in about a second)
    await waitFor(async () => (await w.redis.llen(executedKey)) >= 1, 'first run executing', 60_000);
    victim.child.kill('SIGKILL');
    await exited(victim.child);
    expect(await readCatalog(w.redis, w.prefix)).toBeUndefined();
    const appliedAtKill = (await statusStore(w, 'at-kill').list()).size;
    expect(appliedAtKill).toBeLessThan(N);

    // The same replica comes back (same identity and work directory, as a restarted pod).
    await spawnController(script, env);
    await reconciled(w, rev, 120_000);
    const runs = await waitFor(async () => {
      const list = await allRuns(w);
      return list.length >= N && list.every((r) => r.outcome) ? list : undefined;
    }, 'every experiment ran', 150_000);

    // Nothing lost: every experiment is applied and has a run; nothing doubled.
    // The records wait in the restarted controller's outbox (with the dead one's) and land just after its pass.
    const reader = statusStore(w, 'after');
    const applied = await waitFor(async () => {
      const list = await reader.list();
      return list.size === N ? list : undefined;
    }, 'every experiment applied on the status branch', 60_000);
    expect(applied.size).toBe(N);
    const perExperiment = new Map<string, number>();
    for (const r of runs) perExperiment.set(r.experiment, (perExperiment.get(r.experiment) ?? 0) + 1);
    expect(perExperiment.size).toBe(N);
    expect([...perExperiment.values()].every((n) => n === 1)).toBe(true);
    const executed = (await w.redis.lrange(executedKey, 0, -1)).map((l) => l.split(' ')[0]!);
    expect(new Set(executed).size).toBe(executed.length); // no run reached the executor twice
    // A run cut short by the kill is not injected again: it ends on the orphan path instead.
    const notExecuted = runs.filter((r) => !executed.includes(r.id));
    for (const r of notExecuted) expect(r.state).toBe('Failed');
    const interrupted = runs.filter((r) => r.state !== 'Succeeded');
    expect(interrupted.every((r) => r.reason?.includes('controller died'))).toBe(true);
  }, 300_000);
});

describe('SIGKILL mid-run', () => {
  it('the re-delivered job reverts the dead run\'s fault and ends the run as failed, without injecting again', async () => {
    world = await startWorld({
      seed: {
        'experiments/catalog-scale-down.yaml': [
          'apiVersion: faultline.dev/v1alpha1',
          'kind: ChaosExperiment',
          'metadata: { name: catalog-scale-down }',
          'spec:',
          '  fault: { type: scale-down, params: { replicas: 0 } }',
          '  target: { namespace: shop, selector: { matchLabels: { app: catalog } }, mode: { type: all } }',
          '  duration: 10m',
          '  safety: { maxBlastRadiusPercent: 100 }',
          '',
        ].join('\n'),
      },
      env: { FAULTLINE_MAX_BLAST_RADIUS_PERCENT: '100' },
    });
    const w = world;
    const env = { ...w.env, FL_KUBECONFIG: await w.kubeconfigFile(), FL_IDENTITY: 'replica-0', FL_REAL_EXECUTOR: '1', LOG_LEVEL: 'silent' };
    const script = ['--import', 'tsx', 'test/controller/controller-process.ts'];
    const replicas = () => (w.sim.store.get('apps/deployments', 'shop', 'catalog') as { spec: { replicas: number } }).spec.replicas;

    const victim = await spawnController(script, env);
    const running = await waitFor(async () => (await allRuns(w)).find((r) => r.state === 'Running'), 'scale-down running', 60_000);
    expect(replicas()).toBe(0);
    victim.child.kill('SIGKILL');
    await exited(victim.child);

    // Restarted at once: the dead worker's lock has not lapsed yet, so the start-up sweep leaves
    // the run to the stalled-job path, which must revert it.
    await spawnController(script, env);
    const ended = await waitFor(async () => {
      const r = (await allRuns(w)).find((x) => x.id === running.id);
      return r?.outcome ? r : undefined;
    }, 'orphaned run ended', 150_000);
    expect(ended.state).toBe('Failed');
    expect(ended.reason).toContain('controller died');
    await waitFor(() => replicas() === 2, 'replicas restored', 30_000);
    expect((await allRuns(w)).length).toBe(1);
  }, 240_000);
});
