import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DesiredState } from '../../src/controller/desired.js';
import { ParseCache } from '../../src/controller/parse-cache.js';
import type { SourceFile } from '../../src/source/types.js';

const doc = (name: string, app = 'checkout') => `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata:
  name: ${name}
spec:
  fault: { type: pod-kill }
  target:
    namespace: shop
    selector: { matchLabels: { app: ${app} } }
    mode: { type: one }
  duration: 10s
`;
const file = (path: string, text: string): SourceFile => ({ path, oid: path, content: new TextEncoder().encode(text) });

describe('DesiredState', () => {
  it('parses only what changed and drops deleted files', () => {
    const d = new DesiredState();
    d.reset([file('experiments/a.yaml', doc('a')), file('experiments/b.yaml', doc('b'))]);
    expect(d.result().experiments.map((e) => e.experiment.metadata.name).sort()).toEqual(['a', 'b']);
    d.apply([file('experiments/c.yaml', doc('c'))], ['experiments/a.yaml']);
    expect(d.result().experiments.map((e) => e.experiment.metadata.name).sort()).toEqual(['b', 'c']);
    expect(d.fileCount).toBe(2);
  });

  it('reports a name defined in two files on both, at metadata.name, and keeps the rest', () => {
    const d = new DesiredState();
    d.reset([file('experiments/a.yaml', doc('same')), file('experiments/b.yaml', doc('same', 'cart')), file('experiments/c.yaml', doc('other'))]);
    const r = d.result();
    expect(r.experiments.map((e) => e.experiment.metadata.name)).toEqual(['other']);
    expect(r.problems.map((p) => [p.file, p.line, p.pointer])).toEqual([
      ['experiments/a.yaml', 4, '/metadata/name'],
      ['experiments/b.yaml', 4, '/metadata/name'],
    ]);
    expect(r.problems[0]!.message).toMatch(/"same" is defined more than once/);
    // Renaming one of them clears the clash.
    d.apply([file('experiments/b.yaml', doc('renamed', 'cart'))], []);
    expect(d.result().problems).toEqual([]);
    expect(d.result().experiments).toHaveLength(3);
  });

  it('names the experiments of a blob it parsed without problems, by blob id; a blob with problems or unknown is left to the caller', () => {
    const d = new DesiredState();
    const broken = doc('broken').replace('pod-kill', 'no-such-fault');
    d.reset([
      { ...file('experiments/a.yaml', `${doc('a')}---\n${doc('a2', 'cart')}`), oid: 'oid-a' },
      { ...file('experiments/b.yaml', broken), oid: 'oid-b' },
    ]);
    expect(d.namesOf('oid-a')).toEqual(['a', 'a2']);
    expect(d.namesOf('oid-b')).toBeUndefined(); // a file with a problem: the reader parses it itself
    expect(d.namesOf('oid-unknown')).toBeUndefined();
    // A changed file: its new blob is named, the old id keeps its names (same bytes, same names).
    d.apply([{ ...file('experiments/a.yaml', doc('renamed')), oid: 'oid-a3' }], []);
    expect(d.namesOf('oid-a3')).toEqual(['renamed']);
    // A full reload forgets what the previous state knew.
    d.reset([{ ...file('experiments/c.yaml', doc('c')), oid: 'oid-c' }]);
    expect(d.namesOf('oid-a')).toBeUndefined();
    expect(d.namesOf('oid-c')).toEqual(['c']);
  });

  it('after a restart names blobs from the parse cache before the first load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fl-desired-'));
    try {
      const first = new DesiredState({}, new ParseCache(join(dir, 'parsed.json'), '', 'build-1'));
      first.reset([{ ...file('experiments/a.yaml', doc('cached-a')), oid: 'oid-a' }]);
      first.persist();
      const restarted = new DesiredState({}, new ParseCache(join(dir, 'parsed.json'), '', 'build-1'));
      expect(restarted.fileCount).toBe(0);
      expect(restarted.namesOf('oid-a')).toEqual(['cached-a']);
      // Another build's cache is not trusted.
      expect(new DesiredState({}, new ParseCache(join(dir, 'parsed.json'), '', 'build-2')).namesOf('oid-a')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
