import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildPack, makeObject, makeTree } from '../../src/report/git-wire.js';
import { PackWorker, PackWorkerError } from '../../src/report/pack-worker.js';
import { GitStatusStore } from '../../src/report/git-status.js';
import { gitEnv, startGitServer, type GitServer } from '../helpers/git-server.js';
import type { AppliedRecord } from '../../src/reconcile/types.js';

const run = promisify(execFile);
let server: GitServer;
const dirs: string[] = [];

beforeAll(async () => {
  server = await startGitServer();
});
afterAll(async () => {
  await server.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true, maxRetries: 5 })));
});

function objects(n: number) {
  const blobs = Array.from({ length: n }, (_, i) => makeObject('blob', Buffer.from(`record ${i}\n${'x'.repeat(i % 300)}\n`)));
  // One large object: its size header takes several bytes.
  blobs.push(makeObject('blob', Buffer.alloc(300_000, 7)));
  const tree = makeTree(blobs.map((b, i) => ({ mode: '100644', path: `f${i}.yaml`, oid: b.oid, type: 'blob' as const })));
  return [...blobs, tree];
}

function record(i: number): AppliedRecord {
  return { name: `exp-${i}`, file: `experiments/exp-${i}.yaml`, specHash: 'a'.repeat(64), revision: 'b'.repeat(40), appliedAt: '2026-12-01T00:00:00.000Z', scheduled: true, suspended: false };
}

describe('PackWorker', () => {
  it('builds the same pack, byte for byte, as buildPack on the main thread, and git reads it', async () => {
    const worker = new PackWorker();
    try {
      const objs = objects(500);
      const [off, on] = await Promise.all([worker.build(objs), buildPack(objs)]);
      expect(off.pack.equals(on.pack)).toBe(true);
      expect(off.entries).toEqual(on.entries);
      // git itself accepts the pack and finds every object in it.
      const dir = await mkdtemp(join(tmpdir(), 'fl-packw-'));
      dirs.push(dir);
      await run('git', ['init', '-q', '--bare', dir]);
      const child = execFile('git', ['-C', dir, 'index-pack', '--stdin', '--strict'], { env: { ...process.env, ...gitEnv } });
      const done = new Promise<number>((r) => child.on('exit', (c) => r(c ?? -1)));
      child.stdin!.end(off.pack);
      expect(await done).toBe(0);
      const { stdout } = await run('git', ['-C', dir, 'cat-file', '-p', objs[3]!.oid]);
      expect(stdout).toBe('record 3\nxxx\n');
    } finally {
      await worker.close();
    }
  });

  it('a worker that dies rejects the packs it held with the reason, and the next pack gets a new worker', async () => {
    const worker = new PackWorker();
    try {
      // The worker exits on receiving this pack: it holds it when it dies.
      worker.crashForTest(7);
      const held = worker.build(objects(50));
      await expect(held).rejects.toThrow(PackWorkerError);
      await expect(held).rejects.toThrow(/exited with code 7/);
      const again = await worker.build(objects(10));
      expect(again.entries).toHaveLength(12);
      expect(worker.stats).toEqual({ started: 2, died: 1 });
    } finally {
      await worker.close();
    }
  });

  it('a status commit whose pack worker crashes is reported as a failed write and lands on the retry', async () => {
    const url = await server.createRepo('packcrash');
    const work = await server.workClone('packcrash');
    dirs.push(work.dir);
    await work.write('README.md', 'x\n');
    await work.commitAndPush('init');
    const dir = await mkdtemp(join(tmpdir(), 'fl-packw-store-'));
    dirs.push(dir);
    const store = new GitStatusStore({ url, dir, packWorkerAbove: 0, backoffMs: 10 });
    await store.list();
    const pw = (store as unknown as { packWorker: PackWorker }).packWorker;
    const release = store.hold();
    await Promise.all(Array.from({ length: 300 }, (_, i) => store.put(record(i))));
    pw.crashForTest(9); // the worker dies with the first commit's pack in hand
    release();
    await store.flush();
    expect(store.stats.failures).toBeGreaterThanOrEqual(1);
    expect(pw.stats.died).toBe(1);
    expect(store.stats.commits).toBe(1);
    const fresh = new GitStatusStore({ url, dir: await mkdtemp(join(tmpdir(), 'fl-packw-store2-')) });
    expect((await fresh.list()).size).toBe(300);
    await store.close();
    await fresh.close();
  }, 60_000);
});
