import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseSeeded, countForMode, mulberry32 } from '../../src/cluster/choose.js';
import { loadKubeConfig } from '../../src/cluster/kubeconfig.js';
import { matchesSelector, selectorToString } from '../../src/cluster/selector.js';

describe('label selectors', () => {
  const labels = { app: 'checkout', tier: 'web', canary: 'true' };
  it('matchLabels needs every pair', () => {
    expect(matchesSelector({ matchLabels: { app: 'checkout' } }, labels)).toBe(true);
    expect(matchesSelector({ matchLabels: { app: 'checkout', tier: 'db' } }, labels)).toBe(false);
    expect(matchesSelector({}, labels)).toBe(true);
    expect(matchesSelector({ matchLabels: { app: 'x' } }, undefined)).toBe(false);
  });
  it('In / NotIn / Exists / DoesNotExist with Kubernetes semantics', () => {
    expect(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] }, labels)).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['api'] }] }, labels)).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, labels)).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, labels)).toBe(false);
    // a missing key satisfies NotIn
    expect(matchesSelector({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, labels)).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'canary', operator: 'Exists' }] }, labels)).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] }, labels)).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels)).toBe(true);
    // all terms are ANDed
    expect(
      matchesSelector({ matchLabels: { app: 'checkout' }, matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] }, labels),
    ).toBe(false);
  });
  it('string form for the API', () => {
    expect(
      selectorToString({
        matchLabels: { tier: 'web', app: 'checkout' },
        matchExpressions: [
          { key: 'zone', operator: 'In', values: ['b', 'a'] },
          { key: 'env', operator: 'NotIn', values: ['prod'] },
          { key: 'canary', operator: 'DoesNotExist' },
          { key: 'team', operator: 'Exists' },
        ],
      }),
    ).toBe('app=checkout,tier=web,zone in (a,b),env notin (prod),!canary,team');
    expect(selectorToString({})).toBe('');
  });
});

describe('mode math', () => {
  it('one, all, fixed, percent (ceil, at least 1)', () => {
    expect(countForMode({ type: 'one' }, 4)).toBe(1);
    expect(countForMode({ type: 'all' }, 4)).toBe(4);
    expect(countForMode({ type: 'fixed', value: 3 }, 4)).toBe(3);
    expect(countForMode({ type: 'fixed', value: 9 }, 4)).toBe(4);
    expect(countForMode({ type: 'percent', value: 30 }, 4)).toBe(2); // ceil(1.2)
    expect(countForMode({ type: 'percent', value: 30 }, 10)).toBe(3); // exactly 3, no float ceil to 4
    expect(countForMode({ type: 'percent', value: 1 }, 3)).toBe(1); // at least one
    expect(countForMode({ type: 'percent', value: 100 }, 7)).toBe(7);
    expect(countForMode({ type: 'one' }, 0)).toBe(0);
    expect(countForMode({ type: 'percent', value: 50 }, 0)).toBe(0);
  });
});

describe('seeded choice', () => {
  const pods = Array.from({ length: 20 }, (_, i) => `pod-${String(i).padStart(2, '0')}`);
  it('mulberry32 is a deterministic sequence in [0,1)', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const xs = Array.from({ length: 100 }, () => a());
    expect(Array.from({ length: 100 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBe(100);
  });
  it('same seed + same pods → same choice; different seeds differ', () => {
    const one = chooseSeeded(pods, 5, 1234);
    expect(chooseSeeded(pods, 5, 1234)).toEqual(one);
    expect(new Set(one).size).toBe(5);
    expect(one.every((p) => pods.includes(p))).toBe(true);
    const others = [1, 2, 3, 4, 5].map((s) => chooseSeeded(pods, 5, s).join());
    expect(new Set([one.join(), ...others]).size).toBeGreaterThan(1);
    expect(chooseSeeded(pods, 50, 1).length).toBe(20);
    expect(pods[0]).toBe('pod-00'); // input untouched
  });
  it('choices spread over all pods across seeds', () => {
    const hits = new Map<string, number>();
    for (let s = 0; s < 2000; s++) for (const p of chooseSeeded(pods, 1, s)) hits.set(p, (hits.get(p) ?? 0) + 1);
    expect(hits.size).toBe(20);
    for (const n of hits.values()) expect(n).toBeGreaterThan(40); // ~100 each
  });
});

describe('loadKubeConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-kc-'));
  const yaml = (server: string, ctx = 'a') =>
    `apiVersion: v1
kind: Config
current-context: ${ctx}
clusters: [{ name: c1, cluster: { server: "${server}" } }, { name: c2, cluster: { server: "https://other:6443" } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: a, context: { cluster: c1, user: u } }, { name: b, context: { cluster: c2, user: u } }]
`;
  const file = join(dir, 'kc.yaml');
  writeFileSync(file, yaml('https://one:6443'));
  const env = { HOME: join(dir, 'nohome') };
  it('explicit file, with a context', () => {
    expect(loadKubeConfig({ kubeconfig: file, env }).getCurrentCluster()?.server).toBe('https://one:6443');
    expect(loadKubeConfig({ kubeconfig: file, context: 'b', env }).getCurrentCluster()?.server).toBe('https://other:6443');
  });
  it('unknown context and missing file are clear errors', () => {
    expect(() => loadKubeConfig({ kubeconfig: file, context: 'zzz', env })).toThrow(/context "zzz" is not in .*known: a, b/);
    expect(() => loadKubeConfig({ kubeconfig: join(dir, 'missing'), env })).toThrow(/does not exist/);
  });
  it('KUBECONFIG when no file is given', () => {
    expect(loadKubeConfig({ env: { ...env, KUBECONFIG: file } }).getCurrentCluster()?.server).toBe('https://one:6443');
  });
  it('~/.kube/config last, and a clear error when there is nothing', () => {
    expect(() => loadKubeConfig({ env, serviceAccountDir: join(dir, 'no-sa') })).toThrow(/no Kubernetes configuration found/);
    const home = join(dir, 'home');
    const kube = join(home, '.kube');
    mkdirSync(kube, { recursive: true });
    writeFileSync(join(kube, 'config'), yaml('https://home:6443'));
    expect(loadKubeConfig({ env: { HOME: home }, serviceAccountDir: join(dir, 'no-sa') }).getCurrentCluster()?.server).toBe('https://home:6443');
  });
});
