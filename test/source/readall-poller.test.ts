// readAll of other refs (the pull-request plan path) and the poll loop.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGitServer, type GitServer, type WorkClone } from '../helpers/git-server.js';
import { createGitSource, createPoller, SourceError, type GitSourceController } from '../../src/source/index.js';
import type { GitSource, SourceSnapshot } from '../../src/source/types.js';
import { silentLogger } from '../../src/log.js';

const TOKEN = 'tok-ra';
const text = (b: Uint8Array) => Buffer.from(b).toString();

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('readAll and the poller', () => {
  let server: GitServer;
  let work: WorkClone;
  let url: string;
  let tmp: string;
  let n = 0;
  const source = (): GitSourceController => createGitSource({ url, branch: 'main', dir: join(tmp, `s${n++}.git`), token: TOKEN, log: silentLogger });

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fl-src-ra-'));
    server = await startGitServer({ token: TOKEN });
    url = await server.createRepo('exp');
    work = await server.workClone('exp');
    await work.write('experiments/a.yaml', 'name: a\n');
    await work.write('experiments/b.yaml', 'name: b\n');
    await work.commitAndPush('main');
  });
  afterAll(async () => {
    await server?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('reads another branch, a pull-request ref and a commit sha without disturbing the tracked branch', async () => {
    await work.git('checkout', '-q', '-b', 'feature');
    await work.write('experiments/a.yaml', 'name: a\nchanged: true\n');
    await work.write('experiments/c.yaml', 'name: c\n');
    await work.remove('experiments/b.yaml');
    await work.write('.faultline/freeze', '');
    const feature = await work.commitAndPush('feature', 'feature');
    await work.write('experiments/d.yaml', 'name: d\n');
    await work.git('add', '-A');
    await work.git('commit', '-qm', 'pr head');
    await work.git('push', '-q', 'origin', 'HEAD:refs/pull/7/head'); // how GitHub exposes a PR head
    const pr = await work.git('rev-parse', 'HEAD');
    await work.git('checkout', '-q', 'main');

    const src = source();
    const main = await src.sync();
    expect([...main.files.keys()].sort()).toEqual(['experiments/a.yaml', 'experiments/b.yaml']);

    const f = await src.readAll('feature');
    expect(f.revision).toBe(feature);
    expect(f.freeze).toBe(true);
    expect(f.files.map((x) => x.path).sort()).toEqual(['experiments/a.yaml', 'experiments/c.yaml']);
    expect(text(f.files.find((x) => x.path === 'experiments/a.yaml')!.content)).toBe('name: a\nchanged: true\n');

    expect(src.lastRevision).toBe(main.revision);
    const again = await src.sync();
    expect(again.revision).toBe(main.revision);
    expect(again.changed).toEqual([]);
    expect(again.freeze).toBe(false);

    // The sha of a ref tip that this gitdir has never seen: found through the advertised refs.
    const fresh = source();
    const bySha = await fresh.readAll(feature);
    expect(bySha.revision).toBe(feature);
    expect(bySha.files.map((x) => x.path).sort()).toEqual(['experiments/a.yaml', 'experiments/c.yaml']);
    // A sha already in the local store needs no fetch at all.
    const before = server.requests;
    expect((await fresh.readAll(feature)).revision).toBe(feature);
    expect(server.requests).toBe(before);

    const byRef = await src.readAll('refs/pull/7/head');
    expect(byRef.revision).toBe(pr);
    expect(byRef.files.map((x) => x.path).sort()).toEqual(['experiments/a.yaml', 'experiments/c.yaml', 'experiments/d.yaml']);

    const missing = await src.readAll('no-such-branch').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(SourceError);
    expect((missing as SourceError).kind).toBe('not-found');
  });

  it('poller: triggers during a sync collapse into exactly one more; a push is picked up', async () => {
    const real = source();
    let calls = 0;
    let release: () => void = () => undefined;
    let gate: Promise<void> = Promise.resolve();
    const gated: GitSource = {
      get lastRevision() {
        return real.lastRevision;
      },
      readAll: (ref) => real.readAll(ref),
      async sync() {
        calls++;
        await gate;
        return real.sync();
      },
    };
    const seen: SourceSnapshot[] = [];
    const poller = createPoller(gated, 3_600_000, (s) => void seen.push(s));
    try {
      gate = new Promise((r) => (release = r));
      const first = poller.trigger();
      const more = [poller.trigger(), poller.trigger(), poller.trigger(), poller.trigger()];
      expect(calls).toBe(1); // one fetch at a time
      release();
      await Promise.all([first, ...more]);
      expect(calls).toBe(2); // the four triggers during the first sync made exactly one more
      expect(seen).toHaveLength(1); // the second sync saw the same head: not news
      expect(seen[0]!.changed.length).toBe(2);

      await work.write('experiments/e.yaml', 'name: e\n');
      const head = await work.commitAndPush('add e');
      await poller.trigger();
      expect(calls).toBe(3);
      expect(seen).toHaveLength(2);
      expect(seen[1]!.revision).toBe(head);
      expect(seen[1]!.changed.map((f) => f.path)).toEqual(['experiments/e.yaml']);
    } finally {
      await poller.stop();
    }
    await poller.trigger(); // stopped: no more syncs
    expect(calls).toBe(3);
  });

  it('poller: the interval picks up pushes on its own, and errors go to onError', async () => {
    const src = source();
    const seen: string[] = [];
    const errors: unknown[] = [];
    const poller = createPoller(src, 50, (s) => void seen.push(s.revision), { onError: (e) => errors.push(e) });
    try {
      await until(() => seen.length === 1);
      await work.write('experiments/f.yaml', 'name: f\n');
      const head = await work.commitAndPush('add f');
      await until(() => seen.includes(head));
      expect(errors).toEqual([]);
    } finally {
      await poller.stop();
    }
  });
});
