// Every command against a bad setup, as a process: one clear line on stderr, the documented exit
// code (2 usage/config, 3 something needed did not answer, 1 the answer is no), no stack trace,
// no hang. Redis down is a port nobody listens on, or a silent server that accepts and never
// answers; the demo's error paths must stop the private redis-server they started.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, Socket, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetyState } from '../src/safety/state.js';

const root = new URL('..', import.meta.url).pathname;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const dir = mkdtempSync(join(tmpdir(), 'fl-cli-fail-'));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}
function faultline(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 60_000): Promise<Result> {
  const started = Date.now();
  return new Promise((resolve) => {
    const full: NodeJS.ProcessEnv = { ...process.env, HOME: dir, KUBECONFIG: '', FAULTLINE_REPO_URL: '', ...env };
    for (const [k, v] of Object.entries(full)) if (v === undefined || v === '') delete full[k];
    const child = spawn(join(root, 'node_modules/.bin/node'), [join(root, 'src/cli/bin.js'), ...args], { cwd: dir, env: full });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** One line, starting with the command's name; nothing that looks like a stack trace. */
function oneClearLine(r: Result, command: string): string {
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^faultline ${command}: `));
  expect(r.stderr).not.toMatch(/\n\s+at |Error:/);
  return lines[0]!;
}

let freePort: number;
let silent: Server;
let silentPort: number;
beforeAll(async () => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  freePort = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  // Accepts connections and never answers: a Redis that hangs.
  const held: Socket[] = [];
  silent = createServer((s) => void held.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as { port: number }).port;
  silent.on('close', () => held.forEach((s) => s.destroy()));
});
afterAll(async () => {
  silent.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('abort', { timeout: 240_000 }, () => {
  it('--all with Redis refusing connections: one line, exit 3, within 10 s (timing printed)', async () => {
    const r = await faultline(['abort', '--all'], { REDIS_URL: `redis://127.0.0.1:${freePort}` });
    console.log(`abort --all, Redis refusing: exit ${r.code} after ${r.ms} ms (process start included)`);
    expect(r.code).toBe(3);
    expect(oneClearLine(r, 'abort')).toMatch(new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${freePort}: .*ECONNREFUSED`));
    expect(r.ms).toBeLessThan(10_000 + 15_000); // the command's own bound is 10 s; a loaded machine needs seconds just to start node
  });

  it('--all with a Redis that accepts and never answers: one line, exit 3, not a hang', async () => {
    const r = await faultline(['abort', '--all'], { REDIS_URL: `redis://127.0.0.1:${silentPort}` });
    console.log(`abort --all, Redis silent: exit ${r.code} after ${r.ms} ms (process start included)`);
    expect(r.code).toBe(3);
    expect(oneClearLine(r, 'abort')).toMatch(/cannot reach Redis at .*(did not answer|no answer)/);
  });

  it('needs only Redis: no repo.url, no config file; sets and clears the kill switch; an unknown run says so (exit 1)', async () => {
    const prefix = `fltest-cli-${process.pid}`;
    const env = { REDIS_URL, FAULTLINE_REDIS_PREFIX: prefix };
    const on = await faultline(['abort', '--all', '--reason', 'cli test'], env);
    expect(on.code, on.stderr).toBe(0);
    expect(on.stdout).toMatch(/kill switch on/);
    const redis = new Redis(REDIS_URL);
    try {
      const state = new SafetyState(redis, { prefix, maxConcurrentRuns: 1 });
      expect(await state.isKillSwitchSet()).toBeTruthy();
      const off = await faultline(['abort', '--clear'], env);
      expect(off.code).toBe(0);
      expect(await state.isKillSwitchSet()).toBeFalsy();
      const unknown = await faultline(['abort', 'no-such-run'], env);
      expect(unknown.code).toBe(1);
      expect(oneClearLine(unknown, 'abort')).toMatch(/run no-such-run is unknown/);
      const usage = await faultline(['abort'], env);
      expect(usage.code).toBe(2);
      oneClearLine(usage, 'abort');
    } finally {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  });
});

describe('status', { timeout: 240_000 }, () => {
  it('Redis down: one line, exit 3; Redis up without repo.url: the table and a warning, exit 0', async () => {
    const down = await faultline(['status'], { REDIS_URL: `redis://127.0.0.1:${freePort}` });
    expect(down.code).toBe(3);
    oneClearLine(down, 'status');
    const up = await faultline(['status'], { REDIS_URL, FAULTLINE_REDIS_PREFIX: `fltest-cli-status-${process.pid}` });
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/^NAME\s+FILE/);
    expect(up.stderr).toMatch(/^warning: no repo.url configured/);
  });
});

describe('run', { timeout: 240_000 }, () => {
  it('without a kubeconfig, with a missing one, with Redis unreachable, without repo.url: one line each, and it exits', async () => {
    const env = { FAULTLINE_REPO_URL: 'http://127.0.0.1:1/chaos.git', REDIS_URL };
    const noKube = await faultline(['run'], env);
    expect(noKube.code).toBe(2);
    expect(oneClearLine(noKube, 'run')).toMatch(/no Kubernetes configuration found: pass --kubeconfig FILE/);

    const missing = await faultline(['run', '--kubeconfig', join(dir, 'nope.yaml')], env);
    expect(missing.code).toBe(2);
    expect(oneClearLine(missing, 'run')).toMatch(/kubeconfig .*nope\.yaml does not exist/);

    const kubeconfig = join(dir, 'kubeconfig.yaml');
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n');
    const noRedis = await faultline(['run', '--kubeconfig', kubeconfig], { ...env, REDIS_URL: `redis://127.0.0.1:${freePort}` });
    expect(noRedis.code).toBe(3);
    expect(oneClearLine(noRedis, 'run')).toMatch(/cannot reach Redis/);

    const noRepo = await faultline(['run', '--kubeconfig', kubeconfig], { REDIS_URL });
    expect(noRepo.code).toBe(2);
    expect(oneClearLine(noRepo, 'run')).toMatch(/repo\.url is required/);
  });
});

describe('run with the API server away', { timeout: 240_000 }, () => {
  // Redis answers and repo.url is set: only the cluster is missing. Without the check the watches
  // restarted forever and the controller never started or said why.
  const kubeconfigAt = (port: number) => {
    const file = join(dir, `kubeconfig-${port}.yaml`);
    writeFileSync(
      file,
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
    );
    return file;
  };
  const env = { FAULTLINE_REPO_URL: 'http://127.0.0.1:9/chaos.git', REDIS_URL, FAULTLINE_REDIS_PREFIX: `fl-cli-${process.pid}` };

  it('a closed port: one line naming the server and the refusal, exit 3', async () => {
    const r = await faultline(['run', '--kubeconfig', kubeconfigAt(freePort)], env);
    console.log(`[figure] faultline run, API server port closed: exit ${r.code} after ${r.ms} ms (waits up to 15 s)`);
    expect(r.code).toBe(3);
    expect(oneClearLine(r, 'run')).toMatch(new RegExp(`cannot reach the Kubernetes API server https://127\\.0\\.0\\.1:${freePort} within 15s: .*ECONNREFUSED`));
    expect(r.stdout).toBe('');
  });

  it('a server that accepts and never answers: the same, not a hang', async () => {
    const r = await faultline(['run', '--kubeconfig', kubeconfigAt(silentPort)], env);
    console.log(`[figure] faultline run, API server silent: exit ${r.code} after ${r.ms} ms`);
    expect(r.code).toBe(3);
    expect(oneClearLine(r, 'run')).toMatch(/cannot reach the Kubernetes API server .* within 15s: /);
  });
});

describe('demo error paths clean up what they started', { timeout: 240_000 }, () => {
  const answers = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once('error', () => resolve(false));
      s.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
    });
  const startedRedis = (out: string) => Number(/redis: redis:\/\/127\.0\.0\.1:(\d+) \(a private redis-server/.exec(out)?.[1]);

  it('missing --experiments: one line, exit 2, and its private redis-server is gone', async () => {
    const r = await faultline(['demo', '--experiments', join(dir, 'no-such-dir')], { FAULTLINE_DEMO_PRIVATE_REDIS: '1' });
    expect(r.code).toBe(2);
    expect(oneClearLine(r, 'demo')).toMatch(/no-such-dir is not a directory of experiment files/);
    const port = startedRedis(r.stdout);
    expect(port).toBeGreaterThan(0);
    expect(await answers(port)).toBe(false);
  });

  it('no git on PATH: one line, exit 2, and its private redis-server is gone', async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    for (const tool of ['redis-server']) {
      const which = (process.env.PATH ?? '').split(':').map((p) => join(p, tool)).find((p) => {
        try {
          return statSync(p).isFile();
        } catch {
          return false;
        }
      });
      if (which) symlinkSync(which, join(bin, tool));
    }
    const r = await faultline(['demo', '--experiments', join(root, 'experiments')], { FAULTLINE_DEMO_PRIVATE_REDIS: '1', PATH: bin });
    expect(r.code).toBe(2);
    expect(oneClearLine(r, 'demo')).toMatch(/needs the git command line/);
    const port = startedRedis(r.stdout);
    expect(port).toBeGreaterThan(0);
    expect(await answers(port)).toBe(false);
  });
});
