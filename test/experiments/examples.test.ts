// The examples in experiments/ are valid, cover every fault type and feature, and carry the
// editor schema comment; the published schema file matches the schema the code compiles.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadExperimentFiles, validatePaths } from '../../src/experiments/index.js';
import { FAULT_TYPES } from '../../src/experiments/model.js';
import { SCHEMA_FILE, schemaFileText } from '../../src/experiments/schema-file.js';
import { loadText } from './helpers.js';

const dir = new URL('../../experiments/', import.meta.url);

describe('example experiments', () => {
  it('all validate and together use every fault type and feature', async () => {
    const r = await validatePaths([dir.pathname]);
    expect(r.problems).toEqual([]);
    expect(r.experiments.length).toBeGreaterThanOrEqual(12);
    const specs = r.experiments.map((e) => e.experiment.spec);
    expect(new Set(specs.map((s) => s.fault.type))).toEqual(new Set(FAULT_TYPES));
    expect(specs.some((s) => s.schedule?.timezone)).toBe(true);
    expect(specs.some((s) => s.suspend)).toBe(true);
    expect(specs.some((s) => s.steadyState?.probes.some((p) => p.http))).toBe(true);
    expect(specs.some((s) => s.steadyState?.probes.some((p) => p.kubernetes?.name === 'checkout' && p.kubernetes.minReadyReplicas > 0))).toBe(true);
    expect(new Set(specs.map((s) => s.target.mode.type))).toEqual(new Set(['one', 'all', 'fixed', 'percent']));
    expect(specs.some((s) => s.target.selector.matchExpressions)).toBe(true);
    expect(r.experiments.some((e) => e.documentIndex > 0)).toBe(true); // a multi-document file
    for (const e of r.experiments) {
      expect(e.experiment.spec.target.namespace).toBe('shop');
      expect(e.durationMs).toBeLessThanOrEqual(30_000); // the demo runs them end to end
    }
  });

  it('each document carries the yaml-language-server schema comment of its kind', () => {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml'))) {
      const text = readFileSync(new URL(f, dir), 'utf8');
      const docs = text.split(/^---$/m);
      for (const d of docs) {
        const kind = /^kind: (\S+)$/m.exec(d)?.[1];
        const schema = kind === 'ChaosWorkflow' ? 'chaos-workflow' : 'chaos-experiment';
        expect(d.trimStart(), f).toMatch(new RegExp(`^# yaml-language-server: \\$schema=\\.\\./schemas/${schema}\\.schema\\.json`));
      }
    }
  });

  it('schemas/chaos-experiment.schema.json is the schema the validator compiles', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(schemaFileText());
  });
});

describe('positions', () => {
  it('points at the offending node, not the file', () => {
    const r = loadText(`# leading comment
apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata:
  name: ok-name
spec:
  fault:
    type: network-delay
    params:
      latency: 20s
      extra: 1
  target:
    namespace: shop
    selector:
      matchExpressions:
        - key: app
          operator: In
  duration: 10s
`);
    const at = Object.fromEntries(r.problems.map((p) => [p.pointer, [p.line, p.column]]));
    expect(at).toEqual({
      '/spec/fault/params/latency': [10, 16],
      '/spec/fault/params/extra': [11, 7],
      '/spec/target/selector/matchExpressions/0/values': [16, 11],
    });
  });

  it('names the second document of a file by its own lines', () => {
    const r = loadText('apiVersion: faultline.dev/v1alpha1\n---\napiVersion: faultline.dev/v1alpha1\nkind: ChaosExperiment\nmetadata: { name: x }\nspec: { duration: 1s }\n');
    const second = r.problems.filter((p) => p.line >= 3);
    expect(second.map((p) => p.pointer).sort()).toEqual(['/spec/fault', '/spec/target']);
    expect(second[0]).toMatchObject({ line: 6, column: 7 });
  });

  it('names defined twice across files are reported on both, at the name', () => {
    const doc = (ns: string) => `apiVersion: faultline.dev/v1alpha1\nkind: ChaosExperiment\nmetadata:\n  name: twin\nspec:\n  fault: { type: pod-kill }\n  target: { namespace: ${ns}, selector: { matchLabels: { app: a } } }\n  duration: 10s\n`;
    const r = loadExperimentFiles([
      { path: 'a.yaml', content: new TextEncoder().encode(doc('shop')) },
      { path: 'b.yaml', content: new TextEncoder().encode('# two\n' + doc('cart')) },
    ]);
    expect(r.experiments).toEqual([]);
    expect(r.problems.map((p) => [p.file, p.line, p.column, p.pointer])).toEqual([
      ['a.yaml', 4, 9, '/metadata/name'],
      ['b.yaml', 5, 9, '/metadata/name'],
    ]);
    expect(r.problems[0]!.message).toMatch(/"twin" is defined more than once \(a.yaml:1, b.yaml:2\)/);
    const unique = loadExperimentFiles([{ path: 'a.yaml', content: new TextEncoder().encode(doc('shop')) }]);
    expect(unique.problems).toEqual([]);
  });
});
