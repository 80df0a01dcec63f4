import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGitServer, type GitServer } from '../helpers/git-server.js';
import { GitStatusStore } from '../../src/report/git-status.js';
import type { AppliedRecord } from '../../src/reconcile/types.js';

let server: GitServer;
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'fl-status-trees-'));
  dirs.push(d);
  return d;
}
beforeAll(async () => {
  server = await startGitServer();
});
afterAll(async () => {
  await server.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true, maxRetries: 5 })));
});

function record(i: number, hash = 'a'): AppliedRecord {
  return { name: `exp-${i}`, file: `experiments/exp-${i}.yaml`, specHash: hash.repeat(64), revision: 'b'.repeat(40), appliedAt: '2026-12-01T00:00:00.000Z', scheduled: true, suspended: false };
}

describe('GitStatusStore memory', () => {
  it('keeps the trees of the current head only: 60 one-record commits after a 400-record one leave the tree cache bounded, and every record reads back', async () => {
    const url = await server.createRepo('trees');
    const work = await server.workClone('trees');
    dirs.push(work.dir);
    await work.write('README.md', 'x\n');
    await work.commitAndPush('init');
    const store = new GitStatusStore({ url, dir: await tempDir() });
    await store.list();
    const release = store.hold();
    await Promise.all(Array.from({ length: 400 }, (_, i) => store.put(record(i))));
    release();
    await store.flush();
    const trees = (store as unknown as { trees: Map<string, unknown> }).trees;
    const state = () => (store as unknown as { state: { shards: Record<string, string> } }).state;
    const bound = () => Object.keys(state().shards).length + 1 + 64;
    expect(trees.size).toBeLessThanOrEqual(bound());
    for (let i = 0; i < 60; i++) {
      await store.put(record((i * 7) % 400, 'c'));
      await store.flush();
      expect(trees.size).toBeLessThanOrEqual(bound());
    }
    expect(store.stats.commits).toBe(61);
    const fresh = new GitStatusStore({ url, dir: await tempDir() });
    const all = await fresh.list();
    expect(all.size).toBe(400);
    expect(all.get('exp-7')?.specHash).toBe('c'.repeat(64));
    expect(all.get('exp-8')?.specHash).toBe('a'.repeat(64));
    // The store that pruned keeps committing from its index (trees read back from its clone).
    await store.put(record(8, 'd'));
    await store.flush();
    expect((await fresh.list()).get('exp-8')?.specHash).toBe('d'.repeat(64));
    await store.close();
    await fresh.close();
  }, 180_000);
});
