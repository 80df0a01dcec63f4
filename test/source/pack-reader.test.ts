// The native pack reader against packs written by git itself (deep delta chains from
// `git gc --aggressive`), checked blob by blob against `git cat-file`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gitEnv } from '../helpers/git-server.js';
import { PackReader, applyDelta } from '../../src/source/pack-reader.js';

const run = promisify(execFile);

describe('PackReader', () => {
  let dir: string;
  const git = async (...args: string[]) => (await run('git', ['-C', dir, ...args], { env: { ...process.env, ...gitEnv }, maxBuffer: 64 << 20, encoding: 'buffer' })).stdout;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fl-pack-'));
    await git('init', '-q', '-b', 'main');
    await mkdir(join(dir, 'experiments'), { recursive: true });
    // Many similar versions of files over several commits, so git deltifies heavily.
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 40; i++) {
        const lines = Array.from({ length: 30 + i }, (_, k) => `line ${k}: ${k % 7 === round ? `round ${round}` : 'same'} ${i}`);
        await writeFile(join(dir, 'experiments', `e${i}.yaml`), `${lines.join('\n')}\n`);
      }
      await writeFile(join(dir, 'experiments', 'big.bin'), Buffer.alloc(200_000 + round, round)); // compresses well, long copy ops
      await git('add', '-A');
      await git('commit', '-qm', `round ${round}`);
    }
    await git('gc', '-q', '--aggressive');
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('reads every blob of every commit exactly as git does', async () => {
    const reader = new PackReader(join(dir, '.git'));
    const blobs = new Set(
      (await git('rev-list', '--objects', '--all')).toString().trim().split('\n').map((l) => l.split(' ')[0]!),
    );
    let checked = 0;
    for (const oid of blobs) {
      const type = (await git('cat-file', '-t', oid)).toString().trim();
      if (type !== 'blob') {
        expect(await reader.readBlob(oid)).toBeUndefined(); // commits/trees are not blobs
        continue;
      }
      const got = await reader.readBlob(oid);
      expect(got, oid).toBeDefined();
      expect(Buffer.compare(Buffer.from(got!), await git('cat-file', 'blob', oid))).toBe(0);
      checked++;
    }
    expect(checked).toBeGreaterThan(200);
    // The point of the test: the pack really holds delta chains.
    const packDir = join(dir, '.git', 'objects', 'pack');
    const idx = (await readdir(packDir)).filter((n) => n.endsWith('.idx'));
    const listing = (await git('verify-pack', '-v', ...idx.map((n) => join(packDir, n)))).toString();
    const chained = listing.split('\n').filter((l) => /^[0-9a-f]{40} blob +\d+ \d+ \d+ [1-9]\d* [0-9a-f]{40}$/.test(l));
    expect(chained.length).toBeGreaterThan(100);
    expect(Math.max(...chained.map((l) => Number(l.split(/ +/)[5])))).toBeGreaterThanOrEqual(2); // chains, not just single deltas
  });

  it('answers undefined for unknown ids and rejects malformed deltas', async () => {
    const reader = new PackReader(join(dir, '.git'));
    expect(await reader.readBlob('0'.repeat(40))).toBeUndefined();
    expect(applyDelta(Buffer.from([5, 3, 0x91, 0, 3]), Buffer.from('abcde'))!.toString()).toBe('abc');
    expect(applyDelta(Buffer.from([4, 3, 0x91, 0, 3]), Buffer.from('abcde'))).toBeUndefined(); // wrong base size
    expect(applyDelta(Buffer.from([5, 3, 0x91, 4, 3]), Buffer.from('abcde'))).toBeUndefined(); // copy past the base
    expect(applyDelta(Buffer.from([5, 2, 0]), Buffer.from('abcde'))).toBeUndefined(); // reserved opcode
  });
});
