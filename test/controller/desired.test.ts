import { describe, expect, it } from 'vitest';
import { DesiredState } from '../../src/controller/desired.js';
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
});
