// Hostile experiment files through the product's entry points: `faultline validate` and
// `faultline plan` as processes, and a whole controller fed by git pushes. Loopback stand-ins
// for internal services count what reaches them: nothing from a refused file ever does.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Controller } from '../../src/controller/index.js';
import { readCatalog } from '../../src/controller/catalog.js';
import { startSimulator } from '../../src/sim/index.js';
import { REDIS_URL, reconciled, runsOf, startIn, startWorld, waitFor, type World } from '../controller/harness.js';
import { experimentWithUrls, standIn, type StandIn } from './stand-in.js';

const root = new URL('../..', import.meta.url).pathname;
function faultline(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(join(root, 'node_modules/.bin/node'), [join(root, 'src/cli/bin.js'), ...args], { cwd: root, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'fl-egress-'));
const servers: StandIn[] = [];
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await Promise.all(servers.map((s) => s.close()));
});

describe('validate and plan say why a URL is refused', () => {
  it('validate: metadata, loopback, Redis and a foreign host are refused with file:line:col; an explicit allow opens only the stand-in', async () => {
    const meta = await standIn();
    servers.push(meta);
    const redisPort = new URL(REDIS_URL).port || '6379';
    const file = join(dir, 'hostile.yaml');
    writeFileSync(
      file,
      [
        experimentWithUrls('meta-oracle', { probeUrl: 'http://169.254.169.254/latest/meta-data/iam/', bodyMatch: 'AKIA' }),
        experimentWithUrls('loopback-stand-in', { probeUrl: `${meta.url}/latest/meta-data/`, webhookUrl: 'http://[::1]:9/hook' }),
        experimentWithUrls('redis-port', { probeUrl: `http://127.0.0.1:${redisPort}/` }),
        experimentWithUrls('elsewhere', { probeUrl: 'https://example.com/' }),
      ].join('---\n'),
    );
    const r = await faultline(['validate', file], { REDIS_URL });
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/hostile\.yaml:18:16: spec\.steadyState\.probes\[0\]\.http\.url: .* refused by the egress policy: address 169\.254\.169\.254 is a cloud metadata endpoint$/),
      expect.stringMatching(/hostile\.yaml:39:16: spec\.steadyState\.probes\[0\]\.http\.url: .*: address 127\.0\.0\.1 is a loopback address \(allow it explicitly in egress\.allowCidrs\)$/),
      expect.stringMatching(/hostile\.yaml:42:21: spec\.notify\.webhook\.url: .*: address ::1 is a loopback address/),
      expect.stringMatching(new RegExp(`hostile\\.yaml:61:16: .*127\\.0\\.0\\.1:${redisPort} is Redis$`)),
      expect.stringMatching(/hostile\.yaml:81:16: .*host example\.com is not in egress\.allowHosts \(\*\.svc, \*\.svc\.cluster\.local\)$/),
    ]);

    const config = join(dir, 'config.yaml');
    writeFileSync(config, 'egress:\n  allowCidrs: [127.0.0.1/32, "::1"]\n');
    const allowed = await faultline(['validate', '--config', config, file], { REDIS_URL });
    expect(allowed.stdout).not.toContain('loopback-stand-in');
    expect(allowed.stdout).not.toMatch(/hostile\.yaml:(39|42):/); // the stand-in and the webhook are allowed now
    expect(allowed.stdout).toMatch(/is a cloud metadata endpoint/); // never allowed
    expect(allowed.stdout).toMatch(/is Redis/); // never allowed
    expect(meta.hits).toEqual([]); // validate never fetches
  });

  it('plan: the API server of the kubeconfig is refused, whatever the allow list', async () => {
    const sim = await startSimulator();
    try {
      const kubeconfig = join(dir, 'kubeconfig.yaml');
      writeFileSync(kubeconfig, sim.kubeconfigYaml());
      const config = join(dir, 'plan-config.yaml');
      writeFileSync(config, 'egress:\n  allowCidrs: [127.0.0.0/8]\n');
      const file = join(dir, 'api.yaml');
      writeFileSync(file, experimentWithUrls('api-server', { probeUrl: `${sim.url}/api/v1/secrets` }));
      const r = await faultline(['plan', '--kubeconfig', kubeconfig, '--config', config, file], { REDIS_URL });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`api\\.yaml:18:16: .*${new URL(sim.url).host.replace('.', '\\.')} is the Kubernetes API server`));
    } finally {
      await sim.close();
    }
  });
});

let world: World | undefined;
let controller: Controller | undefined;
afterEach(async () => {
  await controller?.close();
  controller = undefined;
  await world?.close();
  world = undefined;
});

describe('the controller never contacts internal stand-ins named by a file', () => {
  it('default policy: the metadata oracle and the loopback webhook are problems at plan time; no run, no request', async () => {
    const meta = await standIn();
    const hook = await standIn('ok');
    servers.push(meta, hook);
    world = await startWorld({
      seed: { 'experiments/oracle.yaml': experimentWithUrls('oracle', { probeUrl: `${meta.url}/latest/meta-data/iam/security-credentials/`, bodyMatch: 'AKIA', webhookUrl: `${hook.url}/hook` }) },
    });
    const w = world;
    const seed = await w.work.git('rev-parse', 'HEAD');
    controller = await startIn(w);
    const catalog = await reconciled(w, seed);
    expect(catalog.entries.map((e) => e.name)).not.toContain('oracle');
    expect(catalog.problems.map((p) => [p.file, p.pointer, p.message.replace(/^.*refused by the egress policy: /, '')])).toEqual([
      ['experiments/oracle.yaml', '/spec/steadyState/probes/0/http/url', 'address 127.0.0.1 is a loopback address (allow it explicitly in egress.allowCidrs)'],
      ['experiments/oracle.yaml', '/spec/notify/webhook/url', 'address 127.0.0.1 is a loopback address (allow it explicitly in egress.allowCidrs)'],
    ]);
    await new Promise((r) => setTimeout(r, 500));
    expect(await runsOf(controller, 'oracle')).toEqual([]);
    expect(meta.hits).toEqual([]);
    expect(hook.hits).toEqual([]);
  });

  it('loopback allowed explicitly: the stand-in probe and webhook are used, the controller\'s own API and Redis never are', async () => {
    const health = await standIn('healthy');
    const hook = await standIn('ok');
    servers.push(health, hook);
    world = await startWorld({ env: { FAULTLINE_EGRESS_ALLOW_CIDRS: '127.0.0.1/32' } });
    const w = world;
    controller = await startIn(w);
    const ctl = controller;
    await reconciled(w, await w.work.git('rev-parse', 'HEAD'));
    const own = new URL(ctl.url!);
    const redisPort = new URL(REDIS_URL).port || '6379';
    await w.work.write('experiments/fine.yaml', experimentWithUrls('fine', { probeUrl: `${health.url}/healthz`, bodyMatch: 'healthy', webhookUrl: `${hook.url}/hook` }));
    await w.work.write('experiments/own-api.yaml', experimentWithUrls('own-api', { probeUrl: `http://127.0.0.1:${own.port}/api/experiments`, bodyMatch: 'checkout' }));
    await w.work.write('experiments/redis.yaml', experimentWithUrls('redis', { probeUrl: `http://127.0.0.1:${redisPort}/` }));
    const rev = await w.work.commitAndPush('probes');
    await ctl.reconcileNow();
    const catalog = await waitFor(async () => {
      const c = await readCatalog(w.redis, w.prefix);
      return c?.revision === rev ? c : undefined;
    }, 'reconcile of the probes commit');
    expect(catalog.entries.map((e) => e.name)).toEqual(['fine']);
    expect(catalog.problems.map((p) => `${p.file}: ${p.message.replace(/^.*refused by the egress policy: /, '')}`).sort()).toEqual([
      `experiments/own-api.yaml: 127.0.0.1:${own.port} is the controller's own port`,
      `experiments/redis.yaml: 127.0.0.1:${redisPort} is Redis`,
    ]);
    const done = await waitFor(async () => (await runsOf(ctl, 'fine')).find((r) => r.outcome), 'the fine run to end', 60_000);
    expect(done.state).toBe('Succeeded');
    expect(health.hits.length).toBeGreaterThanOrEqual(2); // before and after, at least
    await waitFor(() => hook.hits.length === 1, 'the webhook from the file');
    expect(hook.hits).toEqual(['POST /hook']);
  });
});
