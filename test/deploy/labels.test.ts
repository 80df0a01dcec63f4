// Every object in deploy/ (and every pod template) carries the recommended app.kubernetes.io/*
// labels, the controller's version label is package.json's, and the controller's replicas spread
// over nodes and zones with a selector that matches its own pods.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allManifests, name, ROOT, type ManifestDoc } from './manifests.js';

type Labels = Record<string, string>;
const RECOMMENDED = ['name', 'instance', 'version', 'component', 'part-of', 'managed-by'].map((l) => `app.kubernetes.io/${l}`);
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const labelsOf = (o: Record<string, unknown> | undefined) => ((o?.metadata as { labels?: Labels } | undefined)?.labels ?? {});
const template = (d: ManifestDoc) => ((d.obj.spec as { template?: Record<string, unknown> } | undefined)?.template);

/** Recommended labels missing on objects and pod templates, one line each. */
export function missingLabels(docs: ManifestDoc[]): string[] {
  const out: string[] = [];
  for (const d of docs) {
    const places: [string, Labels][] = [[name(d), labelsOf(d.obj)]];
    const t = template(d);
    if (t) places.push([`${name(d)} pod template`, labelsOf(t)]);
    for (const [where, labels] of places) {
      const missing = RECOMMENDED.filter((l) => !labels[l]);
      if (missing.length) out.push(`${where}: no ${missing.join(', ')}`);
      if (typeof labels['app.kubernetes.io/version'] !== 'string' && labels['app.kubernetes.io/version'] !== undefined) out.push(`${where}: app.kubernetes.io/version is not a string`);
    }
  }
  return out;
}

describe('recommended labels', () => {
  const docs = allManifests();

  it('every object and pod template in deploy/ has name, instance, version, component, part-of, managed-by', () => {
    expect(docs.length).toBeGreaterThanOrEqual(15);
    expect(missingLabels(docs)).toEqual([]);
  });

  it('the controller objects carry the package version and part-of faultline', () => {
    const controller = docs.filter((d) => labelsOf(d.obj)['app.kubernetes.io/component'] === 'controller');
    expect(controller.map((d) => d.obj.kind)).toEqual(expect.arrayContaining(['Deployment', 'Service', 'ServiceAccount', 'ClusterRole', 'ConfigMap']));
    for (const d of controller) expect(labelsOf(d.obj)['app.kubernetes.io/version'], name(d)).toBe(version);
    for (const d of docs) expect(labelsOf(d.obj)['app.kubernetes.io/part-of'], name(d)).toBe('faultline');
  });

  it('a missing label is named with the object', () => {
    const bad: ManifestDoc = { file: 'deploy/x.yaml', index: 0, obj: { kind: 'ConfigMap', metadata: { name: 'x', labels: { 'app.kubernetes.io/name': 'x' } } } };
    expect(missingLabels([bad])).toEqual(['deploy/x.yaml#0 ConfigMap/x: no app.kubernetes.io/instance, app.kubernetes.io/version, app.kubernetes.io/component, app.kubernetes.io/part-of, app.kubernetes.io/managed-by']);
  });
});

describe('the controller replicas spread', () => {
  it('over zones and nodes, with selectors that match the pod template', () => {
    const dep = allManifests().find((d) => d.obj.kind === 'Deployment' && labelsOf(d.obj)['app.kubernetes.io/component'] === 'controller')!;
    const spec = dep.obj.spec as { replicas: number; template: { metadata: { labels: Labels }; spec: { topologySpreadConstraints?: { topologyKey: string; maxSkew: number; whenUnsatisfiable: string; labelSelector: { matchLabels: Labels } }[] } } };
    expect(spec.replicas).toBeGreaterThan(1);
    const tsc = spec.template.spec.topologySpreadConstraints ?? [];
    expect(tsc.map((c) => c.topologyKey).sort()).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    for (const c of tsc) {
      expect(c.maxSkew).toBe(1);
      expect(Object.keys(c.labelSelector.matchLabels).length).toBeGreaterThan(0);
      for (const [k, v] of Object.entries(c.labelSelector.matchLabels)) expect(spec.template.metadata.labels[k], k).toBe(v);
    }
  });
});
