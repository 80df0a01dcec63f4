// Network and auth failures: typed errors, growing backoff, the last good snapshot kept.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gitEnv } from '../helpers/git-server.js';
import { startLocalGitServer, type LocalGitServer } from '../../src/source/local-server.js';
import { backoffDelay, createGitSource, isReachable, SourceError } from '../../src/source/index.js';
import { silentLogger } from '../../src/log.js';

const run = promisify(execFile);
const TOKEN = 'good-token';

async function rejection(p: Promise<unknown>): Promise<SourceError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SourceError);
    return err as SourceError;
  }
  throw new Error('expected a rejection');
}

describe('GitSource failures', () => {
  let root: string;
  let tmp: string;
  let server: LocalGitServer;
  let port: number;
  let url: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fl-git-fail-'));
    tmp = await mkdtemp(join(tmpdir(), 'fl-src-fail-'));
    server = await startLocalGitServer({ root, token: TOKEN });
    port = Number(new URL(server.url).port);
    url = await server.createRepo('exp');
    const work = join(tmp, 'work');
    const env = { ...process.env, ...gitEnv };
    await run('git', ['init', '-q', '-b', 'main', work], { env });
    await run('mkdir', ['-p', join(work, 'experiments')]);
    await writeFile(join(work, 'experiments', 'a.yaml'), 'name: a\n');
    await run('git', ['-C', work, 'add', '-A'], { env });
    await run('git', ['-C', work, 'commit', '-qm', 'a'], { env });
    await run('git', ['-C', work, 'push', '-q', url.replace('http://', `http://x:${TOKEN}@`), 'HEAD:refs/heads/main'], { env });
  });
  afterAll(async () => {
    await server?.close();
    await rm(root, { recursive: true, force: true });
    await rm(tmp, { recursive: true, force: true });
  });

  it('backoff doubles from 1 s with jitter and caps at 5 min', () => {
    expect(backoffDelay(1, 1000, 300_000, () => 0)).toBe(500);
    expect(backoffDelay(1, 1000, 300_000, () => 1)).toBe(1000);
    expect(backoffDelay(4, 1000, 300_000, () => 1)).toBe(8000);
    expect(backoffDelay(30, 1000, 300_000, () => 1)).toBe(300_000);
    expect(backoffDelay(30, 1000, 300_000, () => 0)).toBe(150_000);
    // Equal jitter: below the cap, the worst delay of one step is never above the best of the next.
    for (let n = 1; n < 9; n++) expect(backoffDelay(n, 1000, 300_000, () => 1)).toBeLessThanOrEqual(backoffDelay(n + 1, 1000, 300_000, () => 0));
  });

  it('server down, then a revoked token: typed errors, growing backoff, last good snapshot kept, recovery', async () => {
    const src = createGitSource({ url, branch: 'main', dir: join(tmp, 'a.git'), token: TOKEN, log: silentLogger, random: () => 0.5 });
    const good = await src.sync();
    expect(good.files.size).toBe(1);
    expect(src.consecutiveFailures).toBe(0);
    expect(src.nextRetryAt).toBeUndefined();

    await server.close(); // the Git host goes away
    let t0 = Date.now();
    const down = await rejection(src.sync());
    expect(down.kind).toBe('network');
    expect(src.consecutiveFailures).toBe(1);
    expect(src.nextRetryAt!).toBeGreaterThanOrEqual(t0 + 750);
    expect(src.nextRetryAt!).toBeLessThanOrEqual(Date.now() + 750);
    expect(src.snapshot).toBe(good);
    expect(src.lastRevision).toBe(good.revision);
    expect(src.lastError).toBe(down);

    // Inside the backoff window sync() does not touch the network.
    const gated = await rejection(src.sync());
    expect(gated.kind).toBe('backoff');
    expect(gated.details.retryAt).toBe(src.nextRetryAt);
    expect(src.consecutiveFailures).toBe(1);

    // The host comes back on the same address but the token has been revoked.
    server = await startLocalGitServer({ root, token: 'rotated', port });
    t0 = Date.now();
    const denied = await rejection(src.sync({ force: true }));
    expect(denied.kind).toBe('auth');
    expect(denied.status).toBe(401);
    expect(denied.message).not.toContain(TOKEN);
    expect(src.consecutiveFailures).toBe(2);
    expect(src.nextRetryAt!).toBeGreaterThanOrEqual(t0 + 1500);
    expect(src.nextRetryAt!).toBeLessThanOrEqual(Date.now() + 1500);
    t0 = Date.now();
    await rejection(src.sync({ force: true }));
    expect(src.consecutiveFailures).toBe(3);
    expect(src.nextRetryAt!).toBeGreaterThanOrEqual(t0 + 3000);
    expect(src.snapshot).toBe(good);

    // Token fixed: the next sync recovers and clears the backoff.
    await server.close();
    server = await startLocalGitServer({ root, token: TOKEN, port });
    const back = await src.sync({ force: true });
    expect(back.revision).toBe(good.revision);
    expect(src.consecutiveFailures).toBe(0);
    expect(src.nextRetryAt).toBeUndefined();
    expect(src.lastError).toBeUndefined();
  });

  it('a missing branch is a not-found error and counts as a failure', async () => {
    const src = createGitSource({ url, branch: 'nope', dir: join(tmp, 'b.git'), token: TOKEN, log: silentLogger });
    const err = await rejection(src.sync());
    expect(err.kind).toBe('not-found');
    expect(err.message).toContain('nope');
    expect(src.consecutiveFailures).toBe(1);
    expect(src.snapshot).toBeUndefined();
  });

  it('a wrong token on a first sync is an auth error', async () => {
    const src = createGitSource({ url, branch: 'main', dir: join(tmp, 'c.git'), token: 'wrong', log: silentLogger });
    expect((await rejection(src.sync())).kind).toBe('auth');
    const anonymous = createGitSource({ url, branch: 'main', dir: join(tmp, 'd.git'), log: silentLogger });
    expect((await rejection(anonymous.sync())).kind).toBe('auth');
  });

  it('isReachable: ok, auth refused, host down', async () => {
    await expect(isReachable(url, TOKEN)).resolves.toBe(true);
    expect((await rejection(isReachable(url, 'wrong'))).kind).toBe('auth');
    expect((await rejection(isReachable(url))).kind).toBe('auth');
    expect((await rejection(isReachable(`http://127.0.0.1:${port}/missing.git`, TOKEN))).kind).toBe('not-found');
    await server.close();
    expect((await rejection(isReachable(url, TOKEN))).kind).toBe('network');
    server = await startLocalGitServer({ root, token: TOKEN, port });
  });
});
