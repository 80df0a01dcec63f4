import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import git from 'isomorphic-git';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGitServer, type GitServer, type WorkClone } from '../helpers/git-server.js';
import { createGitSource, type GitSourceController, type GitSourceOptions } from '../../src/source/index.js';
import { silentLogger } from '../../src/log.js';
import { PackReader } from '../../src/source/pack-reader.js';

const TOKEN = 'tok-123';
const text = (b: Uint8Array) => Buffer.from(b).toString();

// Both fetch paths: the `git` binary (used when installed) and isomorphic-git (where it is not).
describe.each([{ nativeGit: true }, { nativeGit: false }])('GitSource against a smart-HTTP server (native git: $nativeGit)', ({ nativeGit }) => {
  let server: GitServer;
  let work: WorkClone;
  let repoUrl: string;
  const dirs: string[] = [];
  const newDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'fl-src-'));
    dirs.push(d);
    return join(d, 'source.git');
  };
  const source = async (o: Partial<GitSourceOptions> = {}): Promise<GitSourceController> =>
    createGitSource({ url: repoUrl, branch: 'main', dir: await newDir(), token: TOKEN, log: silentLogger, backoffBaseMs: 1000, nativeGit, ...o });

  beforeAll(async () => {
    server = await startGitServer({ token: TOKEN });
    repoUrl = await server.createRepo('exp');
    work = await server.workClone('exp');
    await work.write('README.md', '# experiments\n');
    await work.write('docs/x.yaml', 'not: an experiment\n');
    await work.write('experiments/a.yaml', 'name: a\n');
    await work.write('experiments/payments/b.yml', 'name: b\n');
    await work.write('experiments/payments/deep/c.yaml', 'name: c\n');
    await work.write('experiments/notes.txt', 'ignored\n');
    await work.write('other/d.yaml', 'name: d\n');
    await work.commitAndPush('initial');
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    await server?.close();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('first sync lists every matching file and nothing else', async () => {
    const src = await source();
    const snap = await src.sync();
    const head = await work.git('rev-parse', 'HEAD');
    expect(snap.revision).toBe(head);
    expect(snap.previousRevision).toBeUndefined();
    expect([...snap.files.keys()].sort()).toEqual(['experiments/a.yaml', 'experiments/payments/b.yml', 'experiments/payments/deep/c.yaml']);
    expect(snap.changed.map((f) => f.path).sort()).toEqual([...snap.files.keys()].sort());
    expect(text(snap.changed.find((f) => f.path === 'experiments/a.yaml')!.content)).toBe('name: a\n');
    expect(snap.changed.every((f) => f.oid === snap.files.get(f.path))).toBe(true);
    expect(snap.deleted).toEqual([]);
    expect(snap.freeze).toBe(false);
    expect(src.lastRevision).toBe(head);
  });

  it('custom globs pick other files', async () => {
    const src = await source({ paths: ['**/*.yaml'] });
    const snap = await src.sync();
    expect([...snap.files.keys()].sort()).toEqual(['docs/x.yaml', 'experiments/a.yaml', 'experiments/payments/deep/c.yaml', 'other/d.yaml']);
  });

  it('an unchanged head costs one request and reports no changes', async () => {
    const src = await source();
    await src.sync();
    const before = server.requests;
    const snap = await src.sync();
    expect(server.requests - before).toBe(1); // info/refs only, no upload-pack
    expect(snap.changed).toEqual([]);
    expect(snap.deleted).toEqual([]);
    expect(snap.files.size).toBe(3);
  });

  it('modify, add, delete, rename and freeze arrive as minimal diffs', async () => {
    const dir = await newDir();
    const src = await source({ dir });
    const first = await src.sync();

    // Modify one file: only that file changes, and only its blob is read.
    await work.write('experiments/payments/b.yml', 'name: b\nv: 2\n');
    await work.write('README.md', '# experiments, edited\n'); // not matched: must not show up
    const c1 = await work.commitAndPush('modify b');
    const packRead = vi.spyOn(PackReader.prototype, 'readBlob');
    const gitRead = vi.spyOn(git, 'readBlob');
    const before = server.requests;
    const s1 = await src.sync();
    // ls-refs, then the fetch: info/refs + upload-pack (git's protocol v2 asks ls-refs again first).
    expect(server.requests - before).toBe(nativeGit ? 4 : 3);
    expect(packRead).toHaveBeenCalledTimes(1);
    expect(packRead.mock.calls[0]![0]).toBe(s1.changed[0]!.oid);
    expect(gitRead).not.toHaveBeenCalled(); // served natively, no fallback
    expect(s1.stats?.blobsRead).toBe(1);
    expect(s1.stats?.treesRead).toBeLessThanOrEqual(8); // two roots, experiments/, payments/ (x2) and the freeze lookup
    vi.restoreAllMocks();
    expect(s1.revision).toBe(c1);
    expect(s1.previousRevision).toBe(first.revision);
    expect(s1.changed.map((f) => f.path)).toEqual(['experiments/payments/b.yml']);
    expect(text(s1.changed[0]!.content)).toBe('name: b\nv: 2\n');
    expect(s1.deleted).toEqual([]);
    expect(s1.files.get('experiments/payments/b.yml')).toBe(s1.changed[0]!.oid);
    expect(first.files.get('experiments/payments/b.yml')).not.toBe(s1.changed[0]!.oid); // the old snapshot is untouched

    // Delete.
    await work.remove('experiments/a.yaml');
    await work.commitAndPush('delete a');
    const s2 = await src.sync();
    expect(s2.changed).toEqual([]);
    expect(s2.deleted).toEqual(['experiments/a.yaml']);
    expect(s2.files.has('experiments/a.yaml')).toBe(false);

    // Rename (same content, new path): deleted + added.
    await work.git('mv', 'experiments/payments/deep/c.yaml', 'experiments/payments/c2.yaml');
    await work.commitAndPush('rename c');
    const s3 = await src.sync();
    expect(s3.deleted).toEqual(['experiments/payments/deep/c.yaml']);
    expect(s3.changed.map((f) => f.path)).toEqual(['experiments/payments/c2.yaml']);
    expect(text(s3.changed[0]!.content)).toBe('name: c\n');
    expect([...s3.files.keys()].sort()).toEqual(['experiments/payments/b.yml', 'experiments/payments/c2.yaml']);

    // Freeze file: the kill switch shows, with no experiment changes.
    await work.write('.faultline/freeze', 'incident 42\n');
    await work.commitAndPush('freeze');
    const s4 = await src.sync();
    expect(s4.freeze).toBe(true);
    expect(s4.changed).toEqual([]);
    expect(s4.deleted).toEqual([]);
    await work.remove('.faultline/freeze');
    await work.commitAndPush('unfreeze');
    expect((await src.sync()).freeze).toBe(false);

    // A force-push that rewrites the head: the old tree is still in the local store, so the
    // diff is still exact.
    await work.write('experiments/payments/b.yml', 'name: b\nv: 3\n');
    await work.git('add', '-A');
    await work.git('commit', '-q', '--amend', '-m', 'unfreeze, rewritten');
    await work.git('push', '-q', '-f', 'origin', 'HEAD:refs/heads/main');
    const forced = await src.sync();
    expect(forced.changed.map((f) => f.path)).toEqual(['experiments/payments/b.yml']);
    expect(text(forced.changed[0]!.content)).toBe('name: b\nv: 3\n');
    expect(forced.deleted).toEqual([]);

    // A fresh source on the same gitdir after a "restart", told the revision it had reconciled,
    // diffs incrementally instead of reloading everything.
    await work.write('experiments/new.yaml', 'name: new\n');
    const c5 = await work.commitAndPush('add new');
    const restarted = createGitSource({ url: repoUrl, branch: 'main', dir, token: TOKEN, log: silentLogger, previousRevision: forced.revision, nativeGit });
    const s5 = await restarted.sync();
    expect(s5.revision).toBe(c5);
    expect(s5.previousRevision).toBe(forced.revision);
    expect(s5.changed.map((f) => f.path)).toEqual(['experiments/new.yaml']);
    expect(s5.deleted).toEqual([]);
    expect([...s5.files.keys()].sort()).toEqual(['experiments/new.yaml', 'experiments/payments/b.yml', 'experiments/payments/c2.yaml']);

    // A restart on an empty gitdir cannot diff against a revision it does not have: full load,
    // and no previousRevision in the snapshot tells the caller to reset.
    const emptyDir = createGitSource({ url: repoUrl, branch: 'main', dir: await newDir(), token: TOKEN, log: silentLogger, previousRevision: forced.revision, nativeGit });
    const s6 = await emptyDir.sync();
    expect(s6.previousRevision).toBeUndefined();
    expect(s6.changed.map((f) => f.path).sort()).toEqual([...s5.files.keys()].sort());
  });
});

describe.each([{ nativeGit: true }, { nativeGit: false }])('GitSource store compaction (native git: $nativeGit)', ({ nativeGit }) => {
  it('past maxPacks, a fresh shallow copy replaces the store and the diff stays exact', async () => {
    const server = await startGitServer({ token: TOKEN });
    const tmp = await mkdtemp(join(tmpdir(), 'fl-src-compact-'));
    try {
      const url = await server.createRepo('c');
      const work = await server.workClone('c');
      await work.write('experiments/a.yaml', 'a: 0\n');
      await work.write('experiments/b.yaml', 'b: 0\n');
      await work.commitAndPush('init');
      const dir = join(tmp, 'source.git');
      const src = createGitSource({ url, branch: 'main', dir, token: TOKEN, log: silentLogger, maxPacks: 3, nativeGit });
      await src.sync();
      const packCount = async () => (await readdir(join(dir, 'objects', 'pack'))).filter((n) => n.endsWith('.idx')).length;
      for (let i = 1; i <= 5; i++) {
        await work.write('experiments/a.yaml', `a: ${i}\n`);
        if (i === 4) await work.remove('experiments/b.yaml');
        if (i === 5) await work.write('experiments/c.yaml', 'c: 5\n');
        await work.commitAndPush(`change ${i}`);
        const snap = await src.sync();
        const expected = ['experiments/a.yaml', ...(i === 5 ? ['experiments/c.yaml'] : [])];
        expect(snap.changed.map((f) => f.path).sort()).toEqual(expected);
        expect(text(snap.changed.find((f) => f.path === 'experiments/a.yaml')!.content)).toBe(`a: ${i}\n`);
        expect(snap.deleted).toEqual(i === 4 ? ['experiments/b.yaml'] : []);
        expect(await packCount()).toBeLessThanOrEqual(3);
      }
      expect((await readdir(tmp)).sort()).toEqual(['source.git']); // the old store was removed
      expect([...src.snapshot!.files.keys()].sort()).toEqual(['experiments/a.yaml', 'experiments/c.yaml']);
    } finally {
      await server.close();
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
