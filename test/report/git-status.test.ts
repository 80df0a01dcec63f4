import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { gitEnv, startGitServer, type GitServer } from '../helpers/git-server.js';
import { GitStatusStore, statusPath, type ExperimentStatusFile } from '../../src/report/git-status.js';
import type { AppliedRecord } from '../../src/reconcile/types.js';
import { runRecord } from './fixtures.js';
import { reportFailureCount } from '../../src/report/failures.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
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
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true, maxRetries: 5 })));
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

/** `git fsck` on the server's own copy: every object the writer pushed is well formed. */
async function fsck(repo: string): Promise<void> {
  await run('git', ['-C', join(server.root, `${repo}.git`), 'fsck', '--strict', '--no-dangling'], { env: { ...process.env, ...gitEnv } });
}

function applied(name: string, i = 0): AppliedRecord {
  return {
    name,
    file: `experiments/${name}.yaml`,
    specHash: (i % 16).toString(16).repeat(64),
    revision: 'b'.repeat(40),
    appliedAt: '2026-11-22T10:00:00.000Z',
    scheduled: false,
    suspended: false,
  };
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
    await store.put({ ...applied('checkout-pod-kill'), specHash: 'a'.repeat(64), file: 'experiments/checkout.yaml' });
    await store.flush();
    await store.put({ ...applied('cart-delay'), specHash: 'c'.repeat(64), scheduled: true });
    await store.remove('cart-delay');
    // Queued (durable) but maybe not yet pushed: the same store already lists it.
    expect([...(await store.list()).keys()]).toEqual(['checkout-pod-kill']);
    await store.flush();

    // A fresh instance in a new directory (a restarted controller, Redis gone) sees the same record.
    const again = new GitStatusStore({ url, dir: await tempDir(), token: 'sekret' });
    const records = await again.list();
    expect([...records.keys()]).toEqual(['checkout-pod-kill']);
    expect(records.get('checkout-pod-kill')).toMatchObject({ specHash: 'a'.repeat(64), revision: 'b'.repeat(40), scheduled: false });

    await work.git('fetch', '-q', 'origin', 'faultline/status:refs/remotes/origin/faultline/status');
    const lines = (await work.git('log', '--format=%an <%ae>|%s|%P', 'origin/faultline/status')).split('\n');
    expect(lines.at(-1)).toMatch(/^Faultline <faultline@localhost>\|faultline: apply checkout-pod-kill a{12} at b{12}\|$/); // orphan root
    expect(await work.git('log', '-1', '--format=%B', 'origin/faultline/status')).toContain('remove cart-delay');
    const removed = parse(await remoteFile('applied', statusPath('cart-delay'))) as ExperimentStatusFile;
    expect(removed.applied).toBeNull();
    expect(removed.removedAt).toBeTruthy();
    await fsck('applied');
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
    const doc = parse(await remoteFile('history', statusPath('checkout-pod-kill'))) as ExperimentStatusFile;
    expect(doc.runs.map((r) => r.id)).toEqual(['run-5', 'run-4', 'run-3']);
    expect(doc.runs[1]).toMatchObject({ outcome: 'failed', abortReason: 'probe checkout-up failed 3 times', recoveryMs: 2300 });
    expect(doc.runs[0]!.targets[0]).toMatchObject({ kind: 'Pod', name: 'checkout-7d9f-abcde' });
    expect(doc.runs[0]!.blastRadius[0]).toMatchObject({ hit: 1, ready: 4, percent: 25 });
    expect(doc.applied).toBeNull(); // a run alone does not mark the experiment applied
    expect(await store.get('checkout-pod-kill')).toMatchObject({ name: 'checkout-pod-kill' });
  });

  it('ten runs finishing at once in two processes: all ten on the remote, none lost', async () => {
    const url = await repoWithMain('race');
    const a = new GitStatusStore({ url, dir: await tempDir(), token: 'sekret', backoffMs: 20 });
    const b = new GitStatusStore({ url, dir: await tempDir(), token: 'sekret', backoffMs: 20 });
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
    await fsck('race');
  });

  it('20 of 20 run records land while another writer pushes to the branch about 4 times a second', async () => {
    const url = await repoWithMain('busy');
    const store = new GitStatusStore({ url, dir: await tempDir(), token: 'sekret', backoffMs: 20, maxBackoffMs: 500 });
    await store.recordRun(runRecord('seed', 'seed')); // the branch exists before the other writer starts
    const other = await server.workClone('busy');
    dirs.push(other.dir);
    let stop = false;
    let otherPushes = 0;
    const otherErrors: string[] = [];
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          await other.git('fetch', '-q', 'origin', 'faultline/status');
          await other.git('checkout', '-q', '-B', 'status', 'FETCH_HEAD');
          await other.write('other/note.txt', `push ${i}\n`);
          await other.git('add', '-A');
          await other.git('commit', '-q', '-m', `other writer ${i}`);
          await other.git('push', '-q', 'origin', 'HEAD:refs/heads/faultline/status');
          otherPushes++;
        } catch (err) {
          // refused because the store was first: fetch and try again
          otherErrors.push(String(err));
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    // A second controller's writer on the same branch, every 250 ms.
    const noise = new GitStatusStore({ url, dir: await tempDir(), token: 'sekret', backoffMs: 20, maxBackoffMs: 500 });
    let noiseCount = 0;
    const noiseTimer = setInterval(() => noise.onRunUpdate(runRecord(`noise-${noiseCount++}`, 'noise')), 250);
    for (let i = 0; i < 20; i++) {
      store.onRunUpdate(runRecord(`run-${i}`, `busy-${i % 7}`));
      await new Promise((r) => setTimeout(r, 150));
    }
    await store.flush();
    clearInterval(noiseTimer);
    await noise.flush();
    await waitFor('the other writer to get a push in', () => otherPushes > 0);
    stop = true;
    await writer;
    const fresh = new GitStatusStore({ url, dir: await tempDir(), token: 'sekret' });
    const ids = new Set<string>();
    for (let n = 0; n < 7; n++) for (const r of (await fresh.get(`busy-${n}`))?.runs ?? []) ids.add(r.id);
    expect([...ids].sort()).toEqual(Array.from({ length: 20 }, (_, i) => `run-${i}`).sort());
    expect((await fresh.get('noise'))?.runs.length).toBe(Math.min(noiseCount, 20));
    expect(await remoteFile('busy', 'other/note.txt')).toMatch(/^push \d+$/); // the other writer's work is kept too
    console.log(`busy branch: ${store.stats.commits} commits, ${store.stats.conflicts} refused pushes; second store ${noise.stats.commits} commits, ${noise.stats.conflicts} refused; other writer ${otherPushes} pushes, ${otherErrors.length} refused`);
    await fsck('busy');
  }, 180_000);

  it('a pass of 2,000 records is one commit, and a later single update pushes a few KB whatever the size', async () => {
    const url = await repoWithMain('big');
    const store = new GitStatusStore({ url, dir: await tempDir(), token: 'sekret' });
    await store.list();
    const release = store.hold();
    await Promise.all(Array.from({ length: 2000 }, (_, i) => store.put(applied(`exp-${String(i).padStart(5, '0')}`, i))));
    release();
    await store.flush();
    expect(store.stats.commits).toBe(1);
    const before = store.stats.bytesPushed;
    await store.recordRun(runRecord('r1', 'exp-00007'));
    const oneUpdate = store.stats.bytesPushed - before;
    console.log(`2,000 records: first push ${before} bytes; one update after: ${oneUpdate} bytes`);
    expect(oneUpdate).toBeLessThan(8_000);
    await fsck('big');

    // A restart in the same directory reads no status file (the index is beside the clone);
    // a new directory reads each one once.
    const dir = (store as unknown as { gitdir: string }).gitdir;
    const restarted = new GitStatusStore({ url, dir, token: 'sekret' });
    expect((await restarted.list()).size).toBe(2000);
    expect(restarted.stats.filesRead).toBe(0);
    const fresh = new GitStatusStore({ url, dir: await tempDir(), token: 'sekret' });
    expect((await fresh.list()).get('exp-00007')).toMatchObject({ specHash: '7'.repeat(64) });
    expect(fresh.stats.filesRead).toBe(2000);
    // Another writer changes one record: the next read parses that one file only.
    await fresh.put({ ...applied('exp-01234'), specHash: 'e'.repeat(64) });
    await fresh.flush();
    expect((await restarted.list()).get('exp-01234')?.specHash).toBe('e'.repeat(64));
    expect(restarted.stats.filesRead).toBe(1);
  }, 180_000);

  it('reads and moves the files of a branch written before shards', async () => {
    const url = await repoWithMain('flat');
    const work = await server.workClone('flat');
    dirs.push(work.dir);
    await work.git('checkout', '-q', '--orphan', 'status');
    await work.git('rm', '-rq', '--cached', '.');
    await work.remove('README.md');
    await work.write('experiments/old-one.yaml', 'name: old-one\nfile: experiments/old.yaml\nspecHash: aaaa\nrevision: bbbb\napplied:\n  appliedAt: 2026-11-22T10:00:00.000Z\n  scheduled: false\n  suspended: false\nruns: []\n');
    await work.commitAndPush('old layout', 'faultline/status');
    const store = new GitStatusStore({ url, dir: await tempDir(), token: 'sekret' });
    expect((await store.list()).get('old-one')).toMatchObject({ specHash: 'aaaa', appliedAt: '2026-11-22T10:00:00.000Z' });
    await store.recordRun(runRecord('r1', 'old-one'));
    await work.git('fetch', '-q', 'origin', 'faultline/status');
    const files = (await work.git('ls-tree', '-r', '--name-only', 'FETCH_HEAD')).split('\n');
    // the record moved into its shard (its trend beside it); the flat file is gone
    expect(files.sort()).toEqual([statusPath('old-one'), statusPath('old-one').replace(/\.yaml$/, '.trend.json'), statusPath('old-one').replace(/\.yaml$/, '.trend.svg')].sort());
    const doc = parse(await work.git('show', `FETCH_HEAD:${statusPath('old-one')}`)) as ExperimentStatusFile;
    expect(doc).toMatchObject({ specHash: 'aaaa', runs: [{ id: 'r1' }] });
  });

  it('writes below a folder on a shared branch when configured', async () => {
    const url = await server.createRepo('folder');
    const store = new GitStatusStore({ url, dir: await tempDir(), token: 'sekret', branch: 'main', folder: 'status/experiments' });
    await store.recordRun(runRecord('r1', 'checkout-pod-kill'));
    const doc = parse(await remoteFile('folder', statusPath('checkout-pod-kill', 'status/experiments'), 'main')) as ExperimentStatusFile;
    expect(doc.runs[0]?.id).toBe('r1');
  });

  it('a remote that is not there: the write is counted, reported unhealthy, kept, and lands once the remote exists', async () => {
    const url = `${server.url}/later.git`;
    const store = new GitStatusStore({ url, dir: await tempDir(), token: 'sekret', maxAttempts: 2, backoffMs: 1, maxBackoffMs: 50 });
    const before = reportFailureCount('git-status');
    expect(store.onRunUpdate(runRecord('r', 'checkout-pod-kill'))).toBeUndefined();
    await waitFor('the failure counted', () => reportFailureCount('git-status') === before + 1);
    expect(store.health()).toMatchObject({ ok: false, pending: 1 });
    await expect(store.list()).rejects.toThrow(); // the reconciler must not mistake "unreachable" for "nothing applied"
    await repoWithMain('later');
    await store.flush();
    expect(store.health()).toMatchObject({ ok: true, pending: 0 });
    expect(reportFailureCount('git-status')).toBe(before + 1); // one failure episode, counted once
    const doc = parse(await remoteFile('later', statusPath('checkout-pod-kill'))) as ExperimentStatusFile;
    expect(doc.runs.map((r) => r.id)).toEqual(['r']);
  });

  it('updates still in the outbox when the process stops are sent by the next start', async () => {
    const dir = await tempDir();
    const url = `${server.url}/outbox.git`;
    const first = new GitStatusStore({ url, dir, token: 'sekret', backoffMs: 1, maxBackoffMs: 20 });
    await first.put(applied('kept-one'));
    first.onRunUpdate(runRecord('r-kept', 'kept-two'));
    await first.close(200); // the remote does not exist: nothing lands
    expect(first.health().pending).toBe(2);

    await repoWithMain('outbox');
    const second = new GitStatusStore({ url, dir, token: 'sekret' });
    await second.start();
    await second.flush();
    const fresh = new GitStatusStore({ url, dir: await tempDir(), token: 'sekret' });
    expect([...(await fresh.list()).keys()]).toEqual(['kept-one']);
    expect((await fresh.get('kept-two'))?.runs.map((r) => r.id)).toEqual(['r-kept']);
  });

  it('rejects a name that could escape the folder', async () => {
    const store = new GitStatusStore({ url: `${server.url}/none.git`, dir: await tempDir() });
    await expect(store.recordRun(runRecord('r', '../etc'))).rejects.toThrow(/not a valid experiment name/);
  });
});
