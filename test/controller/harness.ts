// The whole controller under test: a real git smart-HTTP server (pushed to with the git CLI),
// real Redis under a key prefix of its own, the Kubernetes simulator, and signed GitHub push
// webhooks built from the published example payloads.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/index.js';
import type { ControllerConfig } from '../../src/config/types.js';
import { startController, type Controller } from '../../src/controller/index.js';
import { readCatalog, type CatalogSnapshot } from '../../src/controller/catalog.js';
import { silentLogger } from '../../src/log.js';
import type { RunExecutor, RunRecord } from '../../src/runs/types.js';
import { signGithub } from '../../src/server/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import type { StoreEvent } from '../../src/sim/types.js';
import { startGitServer, type GitServer, type WorkClone } from '../helpers/git-server.js';
import { githubExample } from '../server/helpers.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const SECRET = 'it-is-a-secret';

/** Polls until check() returns a truthy value or the deadline passes. */
export async function waitFor<T>(check: () => Promise<T> | T, what: string, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastErr = err; // e.g. a controller still starting; keep polling until the deadline
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastErr ? ` (last error: ${String(lastErr)})` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (found.length) n += await redis.del(...found);
  } while (cursor !== '0');
  return n;
}

export interface PodKillOptions {
  app: string;
  duration?: string;
  schedule?: string; // cron
  grace?: number; // gracePeriodSeconds, a cheap way to change the spec
}

/** A small valid pod-kill experiment on the shop topology (one pod, short duration). */
export function podKill(name: string, o: PodKillOptions): string {
  return [
    'apiVersion: faultline.dev/v1alpha1',
    'kind: ChaosExperiment',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    `  description: kill one ${o.app} pod`,
    '  fault:',
    '    type: pod-kill',
    `    params: { gracePeriodSeconds: ${o.grace ?? 0} }`,
    '  target:',
    '    namespace: shop',
    `    selector: { matchLabels: { app: ${o.app} } }`,
    '    mode: { type: one }',
    `  duration: ${o.duration ?? '1s'}`,
    ...(o.schedule ? ['  schedule:', `    cron: "${o.schedule}"`, '    timezone: Europe/Berlin'] : []),
    '',
  ].join('\n');
}

/** experiments/checkout-pod-kill.yaml as shipped, with a shorter duration. */
export async function exampleCheckoutPodKill(duration = '2s'): Promise<string> {
  const text = await readFile(new URL('../../experiments/checkout-pod-kill.yaml', import.meta.url), 'utf8');
  const out = text.replace(/^ {2}duration: .*$/m, `  duration: ${duration}`);
  if (out === text) throw new Error('duration line not found in the example');
  return out;
}

export interface World {
  git: GitServer;
  repoUrl: string;
  work: WorkClone;
  sim: Simulator;
  prefix: string;
  workdir: string;
  redis: Redis;
  /** The controller's environment (what `faultline run` would be given). */
  env: Record<string, string>;
  config(extra?: Record<string, string>): ControllerConfig;
  /** Writes the simulator's kubeconfig to a file (for spawned controllers). */
  kubeconfigFile(): Promise<string>;
  /** DELETED pod events seen in the simulator, per `app` label. */
  podDeletions: Map<string, number>;
  close(): Promise<void>;
}

export async function startWorld(opts: { seed?: Record<string, string>; env?: Record<string, string> } = {}): Promise<World> {
  const git = await startGitServer();
  const repoUrl = await git.createRepo('chaos');
  const work = await git.workClone('chaos');
  await work.write('README.md', '# chaos experiments\n');
  for (const [path, text] of Object.entries(opts.seed ?? {})) await work.write(path, text);
  await work.commitAndPush('seed');
  const sim = await startSimulator({ recreateDelayMs: 100, readyDelayMs: 50 });
  const podDeletions = new Map<string, number>();
  sim.store.onChange((e: StoreEvent) => {
    if (e.type !== 'DELETED' || !e.resource.endsWith('pods')) return;
    const app = (e.object.metadata?.labels as Record<string, string> | undefined)?.app ?? '?';
    podDeletions.set(app, (podDeletions.get(app) ?? 0) + 1);
  });
  const prefix = `fltest-ctl-${randomUUID().slice(0, 8)}`;
  const workdir = await mkdtemp(join(tmpdir(), 'fl-ctl-'));
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const env: Record<string, string> = {
    FAULTLINE_REPO_URL: repoUrl,
    REDIS_URL,
    FAULTLINE_REDIS_PREFIX: prefix,
    FAULTLINE_WORKDIR: workdir,
    FAULTLINE_WEBHOOK_SECRET: SECRET,
    FAULTLINE_POLL_INTERVAL: '0s',
    FAULTLINE_HOST: '127.0.0.1',
    ...opts.env,
  };
  let kubeconfig: string | undefined;
  return {
    git,
    repoUrl,
    work,
    sim,
    prefix,
    workdir,
    redis,
    env,
    podDeletions,
    config(extra = {}) {
      const config = loadConfig({ env: { ...env, ...extra } });
      config.server.port = 0;
      return config;
    },
    async kubeconfigFile() {
      kubeconfig ??= join(workdir, 'kubeconfig.yaml');
      await writeFile(kubeconfig, sim.kubeconfigYaml());
      return kubeconfig;
    },
    async close() {
      await deletePrefix(redis, prefix);
      await redis.quit().catch(() => redis.disconnect());
      await sim.close();
      await git.close();
      await rm(work.dir, { recursive: true, force: true });
      await rm(workdir, { recursive: true, force: true });
    },
  };
}

export async function startIn(world: World, o: { executor?: RunExecutor; identity?: string; env?: Record<string, string> } = {}): Promise<Controller> {
  const controller = await startController({
    config: world.config(o.env),
    log: process.env.FL_TEST_LOG ? (await import('../../src/log.js')).createLogger('test', process.env.FL_TEST_LOG) : silentLogger,
    kubeConfig: world.sim.kubeConfig(),
    executor: o.executor,
    identity: o.identity,
  });
  return controller;
}

/** The catalog once the reconcile of `revision` went through (published by the leader). */
export async function reconciled(world: World, revision: string, timeoutMs = 30_000): Promise<CatalogSnapshot> {
  return waitFor(async () => {
    const c = await readCatalog(world.redis, world.prefix);
    return c?.revision === revision ? c : undefined;
  }, `reconcile of ${revision.slice(0, 12)}`, timeoutMs);
}

/** A GitHub push delivery as GitHub sends it: the published example payload, retargeted. */
export function pushPayload(o: { after: string; before?: string; ref?: string; repository?: string }): string {
  const example = githubExample('push', (e) => typeof e.ref === 'string' && Array.isArray(e.commits));
  const payload = structuredClone(example);
  // The world's repository (startWorld serves it at /chaos.git): only its deliveries count.
  (payload.repository as Record<string, unknown>).full_name = o.repository ?? 'chaos';
  payload.ref = o.ref ?? 'refs/heads/main';
  payload.before = o.before ?? '0000000000000000000000000000000000000000';
  payload.after = o.after;
  payload.deleted = false;
  return JSON.stringify(payload);
}

export async function postWebhook(
  baseUrl: string,
  body: string | Buffer,
  o: { delivery?: string; signature?: string | null; event?: string } = {},
): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-github-event': o.event ?? 'push',
    'x-github-delivery': o.delivery ?? randomUUID(),
    'user-agent': 'GitHub-Hookshot/test',
  };
  const signature = o.signature === undefined ? signGithub(body, SECRET) : o.signature;
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  const res = await fetch(`${baseUrl}/webhooks/github`, { method: 'POST', headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

/** Every run record of an experiment, oldest first. */
export async function runsOf(controller: Pick<Controller, 'runs'>, experiment: string): Promise<RunRecord[]> {
  const { runs } = await controller.runs.list({ experiment, limit: 1000 });
  return runs.reverse();
}

/** Run job ids on the runs queue (any state) that belong to an experiment. */
export async function runJobsOf(controller: Pick<Controller, 'queues'>, experiment: string): Promise<string[]> {
  const jobs = await controller.queues.runs.getJobs(['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'], 0, -1);
  return jobs.filter((j) => j?.data.experiment === experiment && !j.id?.startsWith('repeat:')).map((j) => j.id!);
}
