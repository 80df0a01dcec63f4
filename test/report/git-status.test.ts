import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startGitServer, type GitServer } from '../helpers/git-server.js';
import { GitStatusStore, type ExperimentStatusFile } from '../../src/report/git-status.js';
import { runRecord } from './fixtures.js';
import { reportFailureCount } from '../../src/report/failures.js';

let server: GitServer;
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'fl-status-'));
  dirs.push(d);
  return d;
}

beforeAll(async () => {
  server = await startGitServer({ token: 'sekret' });
});
afterAll(async () => {
  await server.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

// A repository as the controller meets it: it has a default branch (isomorphic-git's fetch needs
// the remote HEAD to resolve), and the status branch is created beside it.
async function repoWithMain(name: string): Promise<string> {
  const url = await server.createRepo(name);
  const work = await server.workClone(name);
  dirs.push(work.dir);
  await work.write('README.md', 'experiments\n');
  await work.commitAndPush('init');
  return url;
}

async function remoteFile(repo: string, path: string, branch = 'faultline/status'): Promise<string> {
  const work = await server.workClone(repo);
  dirs.push(work.dir);
  await work.git('fetch', '-q', 'origin', branch);
  return work.git('show', `FETCH_HEAD:${path}`);
}

describe('GitStatusStore', () => {
  it('creates the status branch as an orphan, records applied state and survives a restart', async () => {
    const url = await server.createRepo('applied');
    // The repository already has a main branch with experiments; the status branch must not share its history.
    const work = await server.workClone('applied');
    dirs.push(work.dir);
    await work.write('experiments/a.yaml', 'x: 1\n');
    await work.commitAndPush('main content');

    const store = new GitStatusStore({ url, dir: await tempDir(), token: 'sekret' });
    expect((await store.list()).size).toBe(0);
    await store.put({
      name: 'checkout-pod-kill',
      file: 'experiments/checkout.yaml',
      specHash: 'a'.repeat(64),
      revision: 'b'.repeat(40),
      appliedAt: '2026-11-22T10:00:00.000Z',
      scheduled: false,
      suspended: false,
    });
    await store.put({
      name: 'cart-delay',
      file: 'experiments/cart.yaml',
      specHash: 'c'.repeat(64),
      revision: 'b'.repeat(40),
      appliedAt: '2026-11-22T10:00:00.000Z',
      scheduled: true,
      suspended: false,
    });
    await store.remove('cart-delay');

    // A fresh instance in a new directory (a restarted controller, Redis gone) sees the same record.
    const again = new GitStatusStore({ url, dir: await tempDir(), token: 'sekret' });
    const applied = await again.list();
    expect([...applied.keys()]).toEqual(['checkout-pod-kill']);
    expect(applied.get('checkout-pod-kill')).toMatchObject({ specHash: 'a'.repeat(64), revision: 'b'.repeat(40), scheduled: false });

    const log = await work.git('log', '--format=%an <%ae>|%s|%P', 'origin/faultline/status').catch(async () => {
      await work.git('fetch', '-q', 'origin', 'faultline/status:refs/remotes/origin/faultline/status');
      return work.git('log', '--format=%an <%ae>|%s|%P', 'origin/faultline/status');
    });
    const lines = log.split('\n');
    expect(lines.at(-1)).toMatch(/^Faultline <faultline@localhost>\|faultline: apply checkout-pod-kill a{12} at b{12}\|$/); // orphan root
    expect(lines[0]).toContain('faultline: remove cart-delay');
    const removed = parse(await remoteFile('applied', 'experiments/cart-delay.yaml')) as ExperimentStatusFile;
    expect(removed.applied).toBeNull();
    expect(removed.removedAt).toBeTruthy();
  });

  it('keeps run history bounded, newest first, one entry per run id', async () => {
    const url = await repoWithMain('history');
    const store = new GitStatusStore({ url, dir: await tempDir(), token: 'sekret', historyLimit: 3 });
    for (let i = 1; i <= 5; i++) {
      const r = runRecord(`run-${i}`, 'checkout-pod-kill', i === 4 ? 'Failed' : 'Succeeded');
      r.startedAt = `2026-11-22T10:0${i}:00.000Z`;
      await store.recordRun(r);
    }
    // The same run written twice (listener called again) does not duplicate it.
    const dup = runRecord('run-5', 'checkout-pod-kill');
    dup.startedAt = '2026-11-22T10:05:00.000Z';
    await store.recordRun(dup);
    const doc = parse(await remoteFile('history', 'experiments/checkout-pod-kill.yaml')) as ExperimentStatusFile;
    expect(doc.runs.map((r) => r.id)).toEqual(['run-5', 'run-4', 'run-3']);
    expect(doc.runs[1]).toMatchObject({ outcome: 'failed', abortReason: 'probe checkout-up failed 3 times', recoveryMs: 2300 });
    expect(doc.runs[0]!.targets[0]).toMatchObject({ kind: 'Pod', name: 'checkout-7d9f-abcde' });
    expect(doc.runs[0]!.blastRadius[0]).toMatchObject({ hit: 1, ready: 4, percent: 25 });
    expect(doc.applied).toBeNull(); // a run alone does not mark the experiment applied
    expect(await store.get('checkout-pod-kill')).toMatchObject({ name: 'checkout-pod-kill' });
  });

  it('ten runs finishing at once in two processes: all ten on the remote, none lost', async () => {
    const url = await repoWithMain('race');
    const a = new GitStatusStore({ url, dir: await tempDir(), token: 'sekret', backoffMs: 20, maxAttempts: 30 });
    const b = new GitStatusStore({ url, dir: await tempDir(), token: 'sekret', backoffMs: 20, maxAttempts: 30 });
    const names = Array.from({ length: 10 }, (_, i) => `exp-${i}`);
    // The listener returns at once; the writes queue up and batch.
    for (const [i, name] of names.entries()) {
      expect((i % 2 === 0 ? a : b).onRunUpdate(runRecord(`run-${i}`, name, i === 3 ? 'Aborted' : 'Succeeded'))).toBeUndefined();
    }
    await Promise.all([a.flush(), b.flush()]);
    // Plus two writers touching the SAME file from both processes.
    await Promise.all([a.recordRun(runRecord('shared-a', 'shared')), b.recordRun(runRecord('shared-b', 'shared'))]);

    const fresh = new GitStatusStore({ url, dir: await tempDir(), token: 'sekret' });
    for (const [i, name] of names.entries()) {
      const doc = await fresh.get(name);
      expect(doc?.runs.map((r) => r.id), name).toEqual([`run-${i}`]);
    }
    expect((await fresh.get('shared'))?.runs.map((r) => r.id).sort()).toEqual(['shared-a', 'shared-b']);
    // Batching: fewer commits than updates (updates waiting in a process share one commit).
    expect(a.stats.updates + b.stats.updates).toBe(12);
    expect(a.stats.commits + b.stats.commits).toBeLessThan(12);
    const work = await server.workClone('race');
    dirs.push(work.dir);
    await work.git('fetch', '-q', 'origin', 'faultline/status');
    const subjects = await work.git('log', '--format=%B', 'FETCH_HEAD');
    expect(subjects).toMatch(/exp-\d run run-\d succeeded/);
    expect(subjects).toContain('exp-3 run run-3 aborted');
  });

  it('writes below a folder on a shared branch when configured', async () => {
    const url = await server.createRepo('folder');
    const store = new GitStatusStore({ url, dir: await tempDir(), token: 'sekret', branch: 'main', folder: 'status/experiments' });
    await store.recordRun(runRecord('r1', 'checkout-pod-kill'));
    const doc = parse(await remoteFile('folder', 'status/experiments/checkout-pod-kill.yaml', 'main')) as ExperimentStatusFile;
    expect(doc.runs[0]?.id).toBe('r1');
  });

  it('an unreachable remote never throws into the run: the failure is logged and counted', async () => {
    const store = new GitStatusStore({ url: 'http://127.0.0.1:1/gone.git', dir: await tempDir(), maxAttempts: 2, backoffMs: 1 });
    const before = reportFailureCount('git-status');
    expect(store.onRunUpdate(runRecord('r', 'checkout-pod-kill'))).toBeUndefined();
    await store.flush();
    expect(reportFailureCount('git-status')).toBe(before + 1);
    await expect(store.list()).rejects.toThrow(); // the reconciler must not mistake "unreachable" for "nothing applied"
  });

  it('rejects a name that could escape the folder', async () => {
    const store = new GitStatusStore({ url: `${server.url}/none.git`, dir: await tempDir() });
    await expect(store.recordRun(runRecord('r', '../etc'))).rejects.toThrow(/not a valid experiment name/);
  });
});
