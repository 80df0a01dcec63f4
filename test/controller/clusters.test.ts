// Several clusters through the real entry points: two simulators (each its own HTTP server) as
// two clusters, the second registered by a cluster Secret applied with kubectl to the first,
// `faultline run` as a process. An experiment targeting the second runs there and never in the
// first; kill -9 mid-fault in cluster 2 → the restarted controller reverts it in cluster 2; the
// second simulator stopped → its runs fail naming it while the first's succeed; east's own
// maxTargets (clusters.east.safety) refuses there what the local cap allows; the Secret
// deleted → the cluster is gone without a restart.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisRunStore } from '../../src/queue/index.js';
import type { RunRecord } from '../../src/runs/types.js';
import { startSimulator, type KObject, type Simulator } from '../../src/sim/index.js';
import type { StoreEvent } from '../../src/sim/types.js';
import { githubExample } from '../server/helpers.js';
import { startFakeGitHub, type FakeGitHub } from '../report/fake-github.js';
import { podKill, postWebhook, pushPayload, reconciled, startWorld, waitFor, type World } from './harness.js';
import { exited, spawnController, stopChildren, type Proc } from './spawn.js';

let world: World | undefined;
let sim2: Simulator | undefined;
let gh: FakeGitHub | undefined;
const REPO = 'acme/chaos';
const PR = 12;

afterEach(async () => {
  await stopChildren();
  await world?.close();
  world = undefined;
  await sim2?.resume().catch(() => undefined);
  await sim2?.close();
  sim2 = undefined;
  await gh?.close();
  gh = undefined;
}, 120_000);

async function kubectl(kubeconfig: string, args: string[], input?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    // the simulator serves no /openapi documents: client-side validation off, the server validates
    const all = args[0] === 'apply' ? ['apply', '--validate=false', ...args.slice(1)] : args;
    const child = execFile('kubectl', ['--kubeconfig', kubeconfig, ...all], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** The Argo CD cluster-secret shape, as the README documents it. */
const clusterSecret = (name: string, server: string, label = 'faultline.dev/secret-type') => [
  'apiVersion: v1', 'kind: Secret', 'metadata:', `  name: cluster-${name}`, '  namespace: faultline', '  labels:', `    ${label}: cluster`,
  'type: Opaque', 'stringData:', `  name: ${name}`, `  server: ${server}`,
  `  config: '${JSON.stringify({ bearerToken: 'faultline-sim', tlsClientConfig: { insecure: true } })}'`, '',
].join('\n');

/** A pod-kill (or any) experiment with `cluster:` in its target. */
const inCluster = (text: string, cluster: string) => text.replace('    namespace: shop', `    namespace: shop\n    cluster: ${cluster}`);

const scaleDown = (name: string, cluster: string) => [
  'apiVersion: faultline.dev/v1alpha1', 'kind: ChaosExperiment', `metadata: { name: ${name} }`, 'spec:',
  '  fault: { type: scale-down, params: { replicas: 0 } }',
  `  target: { namespace: shop, cluster: ${cluster}, selector: { matchLabels: { app: catalog } }, mode: { type: all } }`,
  '  duration: 10m', '  safety: { maxBlastRadiusPercent: 100 }', '',
].join('\n');

async function runsOf(w: World, experiment: string): Promise<RunRecord[]> {
  return (await new RedisRunStore(w.redis, w.prefix).list({ experiment, limit: 100 })).runs;
}
const ended = (w: World, experiment: string, timeoutMs = 90_000) =>
  waitFor(async () => (await runsOf(w, experiment)).find((r) => r.outcome), `${experiment} ended`, timeoutMs);

/** Every pod deletion and every write to a Deployment in a simulator, by app. */
function recordWrites(sim: Simulator) {
  const deleted = new Map<string, number>();
  const deployments: string[] = [];
  sim.store.onChange((e: StoreEvent) => {
    if (e.type === 'DELETED' && e.resource.endsWith('pods')) {
      const app = (e.object.metadata?.labels as Record<string, string> | undefined)?.app ?? '?';
      deleted.set(app, (deleted.get(app) ?? 0) + 1);
    }
    if (e.type === 'MODIFIED' && e.resource.endsWith('deployments') && (e.object.metadata?.labels as Record<string, string> | undefined)?.['faultline.dev/run-id']) {
      deployments.push(String(e.object.metadata?.name));
    }
  });
  return { deleted, deployments };
}

/** A GitHub `pull_request` delivery: the published example, retargeted. */
function pullRequestPayload(head: string, base: string): string {
  const payload = structuredClone(githubExample('pull_request', (e) => e.action === 'opened'));
  const pr = payload.pull_request as { number: number; head: Record<string, unknown>; base: Record<string, unknown> };
  payload.number = PR;
  pr.number = PR;
  pr.head = { ...pr.head, sha: head, ref: 'more-chaos' };
  pr.base = { ...pr.base, sha: base, ref: 'main' };
  (payload.repository as Record<string, unknown>).full_name = REPO;
  return JSON.stringify(payload);
}

const replicas = (sim: Simulator, name: string) => (sim.store.get<KObject>('apps/deployments', 'shop', name)!.spec as { replicas: number }).replicas;

describe('two simulators as two clusters, `faultline run` as a process', () => {
  it("the PR plan names each row's cluster; runs go to their cluster only; kill -9 is reverted in cluster 2; cluster 2 down blocks only its runs; the Secret removed removes it", async () => {
    gh = await startFakeGitHub();
    world = await startWorld({ env: {
      FAULTLINE_GIT_HOST: 'github', FAULTLINE_GIT_HOST_API_URL: gh.url, FAULTLINE_GIT_HOST_REPOSITORY: REPO, FAULTLINE_GIT_HOST_TOKEN: 't',
      FAULTLINE_CLUSTER_SECRETS: 'true', FAULTLINE_MAX_BLAST_RADIUS_PERCENT: '100', FAULTLINE_MAX_CONCURRENT_RUNS: '10' } });
    const w = world;
    sim2 = await startSimulator({ recreateDelayMs: 100, readyDelayMs: 50 });
    const s2 = sim2;
    const one = recordWrites(w.sim);
    const two = recordWrites(s2);
    const kubeconfig = await w.kubeconfigFile();
    const catalogReplicas = replicas(s2, 'catalog');
    expect(catalogReplicas).toBeGreaterThan(0);

    // Cluster 2 is registered by a Secret in the controller's namespace of cluster 1 (kubectl apply).
    const applied = await kubectl(kubeconfig, ['apply', '-f', '-'], clusterSecret('east', s2.url));
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);

    const env = { ...w.env, FAULTLINE_PORT: '0', KUBECONFIG: kubeconfig, LOG_LEVEL: 'info' };
    // East's own cap (the global one is 10 targets): clusters.<name>.safety in the config file.
    const configFile = join(w.workdir, 'faultline.yaml');
    await writeFile(configFile, 'clusters:\n  east: { safety: { maxTargets: 2 } }\n');
    const start = async (): Promise<Proc> => {
      const p = await spawnController(['src/cli/bin.js', 'run', '--config', configFile], env);
      await waitFor(() => p.output().includes('"cluster registered"') && p.output().includes('"cluster":"east"'), 'cluster east registered', 30_000);
      return p;
    };
    let ctl = await start();
    let head = await w.work.git('rev-parse', 'HEAD');
    const push = async (files: Record<string, string>, message: string, del: string[] = []) => {
      for (const [p, t] of Object.entries(files)) await w.work.write(p, t);
      for (const p of del) await w.work.git('rm', '-q', p);
      const rev = await w.work.commitAndPush(message);
      expect((await postWebhook(ctl.url, pushPayload({ after: rev, before: head }))).status).toBe(202);
      head = rev;
      await reconciled(w, rev, 60_000);
    };

    // 0. A pull request with an experiment for each cluster and one for a cluster nobody
    // registered: the sticky plan comment names the cluster of each row, plans east's row on
    // east's pods and refuses the unknown cluster by file and field.
    const branch = (await w.work.git('rev-parse', '--abbrev-ref', 'HEAD')).trim();
    await w.work.git('checkout', '-q', '-b', 'more-chaos');
    await w.work.write('experiments/plan-east.yaml', inCluster(podKill('plan-east', { app: 'cart' }), 'east'));
    await w.work.write('experiments/plan-local.yaml', podKill('plan-local', { app: 'cart' }));
    await w.work.write('experiments/plan-west.yaml', inCluster(podKill('plan-west', { app: 'cart' }), 'west'));
    await w.work.git('add', '-A');
    await w.work.git('commit', '-q', '-m', 'three plans');
    await w.work.git('push', '-q', 'origin', `HEAD:refs/pull/${PR}/head`);
    const prHead = (await w.work.git('rev-parse', 'HEAD')).trim();
    expect((await postWebhook(ctl.url, pullRequestPayload(prHead, head), { event: 'pull_request' })).status).toBe(202);
    const comment = await waitFor(() => gh!.comments.get(PR)?.[0], 'the plan comment', 60_000);
    const rowOf = (name: string) => comment.body.split('\n').find((l) => l.includes(`\`${name}\``))!;
    expect(rowOf('plan-east')).toContain('experiments/plan-east.yaml · cluster `east`');
    expect(rowOf('plan-local')).not.toContain('cluster');
    expect(rowOf('plan-west')).toContain('cluster `west`');
    expect(comment.body).toContain('experiments/plan-west.yaml:1: spec.target.cluster: cluster "west" is not registered (registered: in-cluster, east)');
    const eastCart = s2.store.list<KObject>('pods', { namespace: 'shop' }).filter((p) => p.metadata.labels?.app === 'cart').map((p) => p.metadata.name);
    const eastTarget = /`shop\/(cart-[^`]+)`/.exec(rowOf('plan-east'))?.[1];
    expect(eastCart).toContain(eastTarget);
    await w.work.git('checkout', '-q', branch);

    // 1. An experiment targeting "east" kills a pod there and nothing in cluster 1.
    await push({ 'experiments/east-cart-kill.yaml': inCluster(podKill('east-cart-kill', { app: 'cart' }), 'east') }, 'east pod-kill');
    const r1 = await ended(w, 'east-cart-kill');
    expect([r1.state, r1.reason, r1.cluster]).toEqual(['Succeeded', undefined, 'east']);
    expect(Object.fromEntries(two.deleted)).toEqual({ cart: 1 });
    expect(Object.fromEntries(one.deleted)).toEqual({});

    // 2. A 10-minute scale-down in east, kill -9 of the controller mid-fault: the restarted one
    // reverts it in east (the ledger entry names the cluster); cluster 1's catalog is never touched.
    const localCatalog = replicas(w.sim, 'catalog');
    await push({ 'experiments/east-catalog-scale.yaml': scaleDown('east-catalog-scale', 'east') }, 'east scale-down');
    await waitFor(async () => (await runsOf(w, 'east-catalog-scale')).some((r) => r.state === 'Running'), 'scale-down Running', 60_000);
    expect(replicas(s2, 'catalog')).toBe(0);
    const ledger = await w.redis.hgetall(`${w.prefix}:ledger`);
    expect(Object.values(ledger).map((v) => (JSON.parse(v) as { cluster?: string }).cluster)).toEqual(['east']);
    ctl.child.kill('SIGKILL');
    await exited(ctl.child);
    expect(replicas(s2, 'catalog')).toBe(0); // the dead controller reverted nothing
    ctl = await start();
    await waitFor(() => replicas(s2, 'catalog') === catalogReplicas, `catalog in east back to ${catalogReplicas} replicas`, 30_000);
    const r2 = await ended(w, 'east-catalog-scale');
    expect([r2.state, r2.reasonCode]).toEqual(['Failed', 'ControllerDied']);
    expect(await w.redis.hlen(`${w.prefix}:ledger`)).toBe(0);
    expect(replicas(w.sim, 'catalog')).toBe(localCatalog);
    expect(one.deployments).toEqual([]);
    expect(two.deployments).toContain('catalog');

    // 3. East's API server stops: its run fails naming it; cluster 1's run beside it succeeds.
    await s2.pause();
    await push({
      'experiments/east-frontend-kill.yaml': inCluster(podKill('east-frontend-kill', { app: 'frontend' }), 'east'),
      'experiments/local-frontend-kill.yaml': podKill('local-frontend-kill', { app: 'frontend' }),
    }, 'east down, local fine');
    const [down, fine] = await Promise.all([ended(w, 'east-frontend-kill'), ended(w, 'local-frontend-kill')]);
    expect([fine.state, fine.reason, fine.cluster]).toEqual(['Succeeded', undefined, undefined]);
    expect([down.state, down.reasonCode]).toEqual(['Failed', 'ClusterUnavailable']);
    expect(down.reason).toMatch(/^cluster "east" \(http:\/\/127\.0\.0\.1:\d+\) is unreachable: .+; only its runs are held up$/);
    expect(one.deleted.get('frontend')).toBe(1);
    await s2.resume();
    expect(two.deleted.get('frontend')).toBeUndefined();

    // 4. Per-cluster caps: every frontend pod (3) is over east's maxTargets 2, and within the local 10.
    const allFrontend = (name: string) => podKill(name, { app: 'frontend' }).replace('mode: { type: one }', 'mode: { type: all }');
    await push({
      'experiments/east-frontend-all.yaml': inCluster(allFrontend('east-frontend-all'), 'east'),
      'experiments/local-frontend-all.yaml': allFrontend('local-frontend-all'),
    }, 'caps per cluster');
    const [capped, uncapped] = await Promise.all([ended(w, 'east-frontend-all'), ended(w, 'local-frontend-all')]);
    expect([capped.state, capped.reasonCode, capped.reason]).toEqual(['Failed', 'GuardRefused', 'refused by safety guards: max-targets: 3 targets > 2 (cluster east cap)']);
    expect([uncapped.state, uncapped.reason]).toEqual(['Succeeded', undefined]);
    expect(two.deleted.get('frontend')).toBeUndefined();
    expect(one.deleted.get('frontend')).toBe(4);

    // 5. The Secret deleted: the cluster goes without a restart, and a run for it is refused by name.
    expect((await kubectl(kubeconfig, ['delete', 'secret', '-n', 'faultline', 'cluster-east'])).code).toBe(0);
    await waitFor(() => ctl.output().includes('"cluster removed"'), 'cluster east removed', 30_000);
    await push({ 'experiments/east-payments-kill.yaml': inCluster(podKill('east-payments-kill', { app: 'payments' }), 'east') }, 'east gone');
    const gone = await ended(w, 'east-payments-kill');
    expect([gone.state, gone.reasonCode, gone.reason]).toEqual(['Failed', 'ClusterUnavailable',
      'experiments/east-payments-kill.yaml: spec.target.cluster: cluster "east" is not registered (registered: in-cluster)']);
    expect(two.deleted.get('payments')).toBeUndefined();
    expect(one.deleted.get('payments')).toBeUndefined();
  }, 300_000);
});
