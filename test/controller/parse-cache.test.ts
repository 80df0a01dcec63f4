// A restart takes unchanged files' parse results from the data directory instead of parsing
// them again; the results are the same as a fresh parse, and nothing stale survives a change of
// content, of code, of context, or a damaged cache file. Files with URLs are always re-checked.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DesiredState } from '../../src/controller/desired.js';
import { ParseCache, buildKey } from '../../src/controller/parse-cache.js';
import { EgressPolicy, DEFAULT_EGRESS } from '../../src/egress/policy.js';
import type { SourceFile } from '../../src/source/types.js';

const doc = (name: string, extra = '') => `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata:
  name: ${name}
spec:
  fault: { type: pod-kill }
  target:
    namespace: shop
    selector: { matchLabels: { app: checkout } }
    mode: { type: one }
  duration: 10s
${extra}`;
const probe = (url: string) => `  steadyState:
    probes:
      - name: up
        http: { url: "${url}" }
`;
const file = (path: string, text: string, oid = `${path}@1`): SourceFile => ({ path, oid, content: new TextEncoder().encode(text) });

const tmp = mkdtempSync(join(tmpdir(), 'fl-parse-cache-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cacheFile = join(tmp, 'parsed.json');

const files = [
  file('experiments/a.yaml', doc('a')),
  file('experiments/b.yaml', doc('b', '  duration: nope\n').replace('  duration: 10s\n', '')), // invalid: a problem, cached too
  file('experiments/u.yaml', doc('u', probe('http://checkout.shop.svc:8080/health'))),
];

describe('the parse cache', () => {
  const policy = new EgressPolicy(DEFAULT_EGRESS);
  const fresh = new DesiredState({ egress: policy });
  fresh.reset(files);
  const expected = fresh.result();

  it('a restart parses only files with URLs and gives the same result as a fresh parse', () => {
    const first = new DesiredState({ egress: policy }, new ParseCache(cacheFile, 'ctx'));
    first.reset(files);
    expect(first.stats).toEqual({ parsed: 3, cached: 0 });
    first.persist();
    expect(Object.keys((JSON.parse(readFileSync(cacheFile, 'utf8')) as { files: object }).files).sort()).toEqual(['experiments/a.yaml', 'experiments/b.yaml']);

    const restarted = new DesiredState({ egress: policy }, new ParseCache(cacheFile, 'ctx'));
    restarted.reset(files);
    expect(restarted.stats).toEqual({ parsed: 1, cached: 2 }); // u.yaml has a URL: checked afresh
    expect(restarted.result()).toEqual(expected);
    expect(expected.problems.map((p) => p.file)).toContain('experiments/b.yaml');
  });

  it('a new blob id, a deleted file, another context or another build parse again', () => {
    const d = new DesiredState({ egress: policy }, new ParseCache(cacheFile, 'ctx'));
    d.reset([file('experiments/a.yaml', doc('a2'), 'experiments/a.yaml@2'), files[1]!]);
    expect(d.stats).toEqual({ parsed: 1, cached: 1 });
    expect(d.result().experiments.map((e) => e.experiment.metadata.name)).toEqual(['a2']);
    d.apply([], ['experiments/b.yaml']);
    d.persist();
    const again = new DesiredState({ egress: policy }, new ParseCache(cacheFile, 'ctx'));
    again.reset(files);
    expect(again.stats).toEqual({ parsed: 3, cached: 0 }); // a's old id and b are gone from the cache

    again.persist();
    const other = new DesiredState({ egress: policy }, new ParseCache(cacheFile, 'other ctx'));
    other.reset(files);
    expect(other.stats.cached).toBe(0);
    const newBuild = new DesiredState({ egress: policy }, new ParseCache(cacheFile, 'ctx', 'another build'));
    newBuild.reset(files);
    expect(newBuild.stats.cached).toBe(0);
  });

  it('a damaged cache file is ignored', () => {
    writeFileSync(cacheFile, '{"code": "x", "files": [');
    const d = new DesiredState({ egress: policy }, new ParseCache(cacheFile, 'ctx'));
    d.reset(files);
    expect(d.stats).toEqual({ parsed: 3, cached: 0 });
    expect(d.result()).toEqual(expected);
  });

  it('the build key changes when any module changes', () => {
    const root = join(tmp, 'build');
    mkdirSync(join(root, 'experiments'), { recursive: true });
    writeFileSync(join(root, 'experiments', 'schema.js'), 'export const a = 1;\n');
    const k1 = buildKey(root);
    expect(buildKey(root)).toBe(k1);
    writeFileSync(join(root, 'experiments', 'schema.js'), 'export const a = 2;\n');
    expect(buildKey(root)).not.toBe(k1);
    expect(buildKey()).toMatch(/^[0-9a-f]{40}$/);
  });
});
