// Hostile input: each is a clear error on that file, fast, never a crash, and never hides the
// problems or experiments of other files.
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadExperimentFiles, validatePaths } from '../../src/experiments/index.js';
import { baseDoc, loadText } from './helpers.js';

const enc = (s: string) => new TextEncoder().encode(s);
const good = { path: 'good.yaml', content: enc(stringify(baseDoc())) };

function only(text: string | Uint8Array) {
  const started = performance.now();
  const r = loadExperimentFiles([{ path: 'evil.yaml', content: typeof text === 'string' ? enc(text) : text }, good]);
  const ms = performance.now() - started;
  expect(r.experiments.map((e) => e.file)).toEqual(['good.yaml']); // the good file still loads
  expect(r.problems.length).toBeGreaterThan(0);
  for (const p of r.problems) expect(p.file).toBe('evil.yaml');
  return { problems: r.problems, ms };
}

describe('hostile input', () => {
  it('alias bomb ("billion laughs") is refused', () => {
    let y = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      y += `${cur}: &${cur} [${Array(9).fill('*' + prev).join(',')}]\n`;
    }
    const { problems } = only(y);
    expect(problems[0]!.message).toMatch(/alias/i);
  });

  it('a document over 1 MiB is refused without parsing', () => {
    const big = 'apiVersion: faultline.dev/v1alpha1\n# ' + 'x'.repeat(1024 * 1024) + '\n';
    const { problems } = only(big);
    expect(problems[0]!.message).toMatch(/over the 1048576-byte \(1 MiB\) limit/);
  });

  it('deep flow nesting is refused before the parser recurses', () => {
    const { problems, ms } = only('a: ' + '['.repeat(500_000) + ']'.repeat(500_000));
    expect(problems[0]!.message).toMatch(/nesting deeper than 64 levels/);
    expect(problems[0]!).toMatchObject({ line: 1, column: 68 });
    expect(ms).toBeLessThan(5000); // generous: a guard against a hang, not a timing claim
  });

  it('deep compact sequences ("- - - -") are refused', () => {
    const { problems } = only('- '.repeat(300_000) + 'x\n');
    expect(problems[0]!.message).toMatch(/nesting deeper/);
  });

  it('deep block nesting is refused', () => {
    let y = '';
    for (let i = 0; i < 200; i++) y += ' '.repeat(i) + 'k:\n';
    y += ' '.repeat(200) + 'k: v\n';
    const { problems } = only(y);
    expect(problems[0]!.message).toMatch(/nesting deeper than 64|Maximum call stack/);
  });

  it('duplicate keys are an error at the second key', () => {
    const text = stringify(baseDoc()).replace('kind: ChaosExperiment\n', 'kind: ChaosExperiment\nkind: ChaosExperiment\n');
    const { problems } = only(text);
    expect(problems[0]).toMatchObject({ line: 3, column: 1 });
    expect(problems[0]!.message).toMatch(/Map keys must be unique/);
  });

  it('non-UTF-8 bytes are refused with their position', () => {
    const bytes = new Uint8Array([...enc('apiVersion: x\nkind: '), 0xc3, 0x28, ...enc('\n')]);
    const { problems } = only(bytes);
    expect(problems[0]).toMatchObject({ line: 2, column: 7, message: 'file is not valid UTF-8' });
  });

  it('binary files named .yaml are refused', () => {
    const { problems } = only(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
    expect(problems[0]!.message).toMatch(/binary file: NUL byte at offset 8/);
  });

  it('a YAML scalar, sequence or garbage is a schema error, not a crash', () => {
    expect(loadText('just a string').problems[0]!.message).toMatch(/must be object/);
    expect(loadText('- a\n- b\n').problems[0]!.message).toMatch(/must be object/);
    expect(loadText('{{{{').problems[0]!.message).toMatch(/^YAML: /);
    expect(loadText('a: "unterminated').problems[0]!.message).toMatch(/^YAML: /);
  });

  it('empty files and comment-only documents load nothing and report nothing', () => {
    expect(loadText('')).toEqual({ experiments: [], problems: [] });
    expect(loadText('# nothing here\n---\n')).toEqual({ experiments: [], problems: [] });
  });
});

describe('hostile paths (validatePaths)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-hostile-'));
  const outside = mkdtempSync(join(tmpdir(), 'fl-outside-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('refuses symlinks pointing outside the root and still validates the rest', async () => {
    const repo = join(dir, 'repo');
    mkdirSync(join(repo, 'experiments', 'sub'), { recursive: true });
    writeFileSync(join(outside, 'secret.yaml'), stringify(baseDoc()));
    writeFileSync(join(repo, 'experiments', 'ok.yaml'), stringify(baseDoc()));
    const inner = baseDoc();
    inner.metadata.name = 'inner';
    writeFileSync(join(repo, 'experiments', 'sub', 'inner.yml'), stringify(inner));
    writeFileSync(join(repo, 'experiments', 'notes.txt'), 'not yaml, not read');
    symlinkSync(join(outside, 'secret.yaml'), join(repo, 'experiments', 'escape.yaml'));
    symlinkSync(outside, join(repo, 'experiments', 'escape-dir'));
    symlinkSync(join(repo, 'experiments', 'sub', 'inner.yml'), join(repo, 'experiments', 'alias.yaml')); // inside: fine, loaded once
    symlinkSync(join(repo, 'experiments'), join(repo, 'experiments', 'sub', 'loop')); // a loop must not hang

    const r = await validatePaths([join(repo, 'experiments')]);
    expect(r.experiments.map((e) => e.experiment.metadata.name).sort()).toEqual(['checkout-pod-kill', 'inner']);
    const refused = r.problems.filter((p) => /outside the repository root/.test(p.message)).map((p) => p.file.split('/').pop());
    expect(refused.sort()).toEqual(['escape-dir', 'escape.yaml']);
    expect(r.problems).toHaveLength(2);
  });

  it('reports an oversized file without reading it, and a missing path', async () => {
    const big = join(dir, 'big.yaml');
    writeFileSync(big, Buffer.alloc(2 * 1024 * 1024, 0x61));
    const r = await validatePaths([big, join(dir, 'missing.yaml')]);
    expect(r.problems.map((p) => p.message)).toEqual([expect.stringMatching(/over the 1048576-byte/), 'cannot read: ENOENT']);
  });
});
