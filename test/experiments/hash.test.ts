import { describe, expect, it } from 'vitest';
import { parseDuration, specHash } from '../../src/experiments/index.js';
import { baseDoc, loadDoc, loadText } from './helpers.js';

const BLOCK = `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata:
  name: checkout-delay
spec:
  description: one wording
  fault:
    type: network-delay
    params:
      latency: 1s
  target:
    namespace: shop
    selector:
      matchLabels:
        app: checkout
      matchExpressions:
        - key: tier
          operator: In
          values: [web, api]
        - key: canary
          operator: DoesNotExist
    mode:
      type: percent
      value: 50
  duration: 5m
  steadyState:
    probes:
      - name: a
        kubernetes: { namespace: shop, kind: Deployment, name: checkout, minReadyReplicas: 2 }
      - name: b
        http: { url: "http://x/", expectStatus: [204, 200] }
`;

// Same meaning: flow style, other key order, other duration spellings, defaults written out,
// set-like lists reordered, probes reordered, description changed, quoted scalars.
const FLOW = `{ "kind": "ChaosExperiment", apiVersion: 'faultline.dev/v1alpha1', metadata: { name: checkout-delay },
  spec: { duration: "300s", description: "another wording", suspend: false,
    target: { mode: { value: 50, type: percent }, namespace: shop,
      selector: { matchExpressions: [ { operator: DoesNotExist, key: canary }, { values: [api, web, api], operator: In, key: tier } ], matchLabels: { app: checkout } } },
    fault: { params: { interface: eth0, latency: 1000ms, jitter: 0ms, correlation: 0 }, type: network-delay },
    steadyState: { probes: [
      { name: b, interval: 5s, failureThreshold: 3, http: { expectStatus: [200, 204], url: "http://x/" } },
      { name: a, kubernetes: { minReadyReplicas: 2, name: checkout, kind: Deployment, namespace: shop }, interval: 5000ms } ] } } }
`;

describe('spec hash', () => {
  it('is the same for the same meaning whatever the YAML style, key order or spelling', () => {
    const a = loadText(BLOCK);
    const b = loadText(FLOW);
    expect(a.problems).toEqual([]);
    expect(b.problems).toEqual([]);
    expect(a.experiments[0]!.specHash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.experiments[0]!.specHash).toBe(a.experiments[0]!.specHash);
    expect(specHash(b.experiments[0]!.experiment)).toBe(a.experiments[0]!.specHash);
  });

  it('changes when the meaning changes', () => {
    const base = loadText(BLOCK).experiments[0]!.specHash;
    for (const [from, to] of [
      ['latency: 1s', 'latency: 2s'],
      ['value: 50', 'value: 40'],
      ['duration: 5m', 'duration: 6m'],
      ['app: checkout', 'app: cart'],
      ['operator: DoesNotExist', 'operator: Exists'],
      ['minReadyReplicas: 2', 'minReadyReplicas: 3'],
    ] as const) {
      const changed = loadText(BLOCK.replace(from, to));
      expect(changed.problems, from).toEqual([]);
      expect(changed.experiments[0]!.specHash, `${from} → ${to}`).not.toBe(base);
    }
  });

  it('does not change when only suspend or notify change (pausing is not a new revision)', () => {
    const base = loadText(BLOCK);
    const withSuspend = loadText(BLOCK.replace('  duration: 5m', '  duration: 5m\n  suspend: true\n  notify: { slack: { channel: "#chaos" } }'));
    expect(withSuspend.problems).toEqual([]);
    expect(withSuspend.experiments[0]!.experiment.spec.suspend).toBe(true);
    expect(withSuspend.experiments[0]!.specHash).toBe(base.experiments[0]!.specHash);
  });

  it('fills defaults in the normalised form', () => {
    const d = baseDoc();
    d.spec.fault = { type: 'network-delay', params: { latency: '10ms' } };
    delete d.spec.target.mode;
    const e = loadDoc(d).experiments[0]!.experiment;
    expect(e.spec.fault.params).toEqual({ latency: '10ms', jitter: '0ms', correlation: 0, interface: 'eth0' });
    expect(e.spec.target.mode).toEqual({ type: 'one' });
    expect(e.spec.suspend).toBe(false);
    expect(e.spec.steadyState!.probes[0]).toMatchObject({ interval: '5s', failureThreshold: 3 });
    expect(e.spec.duration).toBe('30s'); // kept as written
  });
});

describe('parseDuration', () => {
  it('reads the documented forms', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1h2m3s4ms')).toBe(3_723_004);
    expect(parseDuration('0ms')).toBe(0);
  });
  it('throws on anything else', () => {
    for (const bad of ['', '5', 's', '1.5s', '5m1h', '-1s', '1d', ' 5s', '5 s', '1ms1s']) {
      expect(() => parseDuration(bad), bad).toThrow(/invalid duration/);
    }
  });
});

describe('fast and full parse paths', () => {
  it('give the same experiment, hash and line for the same document', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const dir = new URL('../../experiments/', import.meta.url);
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.yaml'))) {
      const text = readFileSync(new URL(name, dir), 'utf8');
      // an unused anchor changes nothing in meaning but sends the file down the full path
      const anchored = text.replace(/^kind: ChaosExperiment$/gm, 'kind: &k ChaosExperiment');
      expect(anchored, name).not.toBe(text);
      const fast = loadText(text, name);
      const full = loadText(anchored, name);
      expect(full.problems).toEqual([]);
      expect(full.experiments, name).toEqual(fast.experiments);
    }
  });
});
