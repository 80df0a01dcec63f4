// The native fetch path against a real smart-HTTP server: the token goes in a header (never the
// URL or the command line), failures come back as the same typed errors isomorphic-git's do, and
// a ref name that is not one never reaches git.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startGitServer, type GitServer } from '../helpers/git-server.js';
import { fetchError, hasNativeGit, nativeFetch } from '../../src/source/native-git.js';
import { SourceError } from '../../src/source/errors.js';

const run = promisify(execFile);
const TOKEN = 'native-tok';
const basic = (t: string) => ({ Authorization: `Basic ${Buffer.from(`x-access-token:${t}`).toString('base64')}` });

async function failure(p: Promise<unknown>): Promise<SourceError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(SourceError);
  return err as SourceError;
}

describe('native git fetch', () => {
  let server: GitServer;
  let url: string;
  let head: string;
  let tmp: string;
  const store = async () => {
    const dir = await mkdtemp(join(tmp, 'store-'));
    await run('git', ['init', '-q', '--bare', dir]);
    return dir;
  };

  beforeAll(async () => {
    expect(await hasNativeGit()).toBe(true); // the tests' git server needs git anyway
    tmp = await mkdtemp(join(tmpdir(), 'fl-native-'));
    server = await startGitServer({ token: TOKEN });
    url = await server.createRepo('n');
    const work = await server.workClone('n');
    await work.write('experiments/a.yaml', 'a: 1\n');
    head = await work.commitAndPush('a');
  });
  afterAll(async () => {
    await server?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('fetches one ref shallow into a pack, by full or short name', async () => {
    const dir = await store();
    expect(await nativeFetch({ gitdir: dir, url, remoteRef: 'refs/heads/main', depth: 1, headers: basic(TOKEN) })).toBe(head);
    expect((await readdir(join(dir, 'objects', 'pack'))).some((f) => f.endsWith('.pack'))).toBe(true);
    expect((await readdir(join(dir, 'objects'))).filter((d) => /^[0-9a-f]{2}$/.test(d))).toEqual([]); // no loose objects
    expect(await nativeFetch({ gitdir: await store(), url, remoteRef: 'main', headers: basic(TOKEN) })).toBe(head);
  });

  it('a wrong token is an auth error that does not show the token; a missing repo or ref is not-found; a closed port is network', async () => {
    const dir = await store();
    const denied = await failure(nativeFetch({ gitdir: dir, url, remoteRef: 'refs/heads/main', headers: basic('wrong') }));
    expect(denied.kind).toBe('auth');
    expect(denied.message).not.toContain('wrong');
    expect((await failure(nativeFetch({ gitdir: dir, url: url.replace(/n\.git$/, 'missing.git'), remoteRef: 'refs/heads/main', headers: basic(TOKEN) }))).kind).toBe('not-found');
    expect((await failure(nativeFetch({ gitdir: dir, url, remoteRef: 'refs/heads/nope', headers: basic(TOKEN) }))).kind).toBe('not-found');
    const port = new URL(url).port;
    expect((await failure(nativeFetch({ gitdir: dir, url: url.replace(`:${port}`, ':1'), remoteRef: 'refs/heads/main', headers: basic(TOKEN) }))).kind).toBe('network');
  });

  it('refuses names that are not plain refs before running git', async () => {
    const dir = await store();
    for (const bad of ['--upload-pack=touch /tmp/x', 'refs/heads/../x', 'refs/heads/a b', 'refs/heads/x:refs/heads/y', 'refs/heads/']) {
      const e = await failure(nativeFetch({ gitdir: dir, url, remoteRef: bad, headers: {} }));
      expect(e.message, bad).toMatch(/is not a ref name/);
    }
  });

  it('maps git messages to error kinds', () => {
    const e = Object.assign(new Error('Command failed'), { code: 128 });
    const kind = (stderr: string) => fetchError(e, stderr, 'https://tok@git.example/x.git').kind;
    expect(kind("fatal: unable to access 'https://git.example/x.git/': The requested URL returned error: 403")).toBe('auth');
    expect(kind("fatal: repository 'https://git.example/x.git/' not found")).toBe('not-found');
    expect(kind("fatal: unable to access 'https://git.example/x.git/': Could not resolve host: git.example")).toBe('network');
    expect(kind("fatal: unable to access 'https://git.example/x.git/': The requested URL returned error: 502")).toBe('network');
    expect(kind('fatal: protocol error: bad pack header')).toBe('protocol');
    expect(fetchError(Object.assign(new Error('x'), { killed: true }), '', 'https://git.example/x.git').kind).toBe('network');
    expect(fetchError(e, "fatal: unable to access 'https://tok@git.example/x.git/': boom", 'https://tok@git.example/x.git').message).not.toContain('tok@');
  });
});
