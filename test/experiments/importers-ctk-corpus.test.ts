// Chaos Toolkit's own experiments (../shared/corpus/ctk): every terminate_pods experiment, with
// the environment values its configuration asks for given explicitly, as `faultline import --set`
// gives them. Hypotheses that cannot be kept refuse the experiment by name.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadExperimentFiles } from '../../src/experiments/index.js';
import type { LoadResult } from '../../src/experiments/model.js';
import { CORPUS, corpusFiles, NO_CORPUS } from './corpus.js';

const files = NO_CORPUS ? [] : corpusFiles('ctk', /\.(json|ya?ml)$/i).filter((f) => readFileSync(f, 'utf8').includes('terminate_pods'));
const env = { APPLICATION_ENTRYPOINT_URL: 'http://app.shop.svc/', POD_LABEL: 'app=web', POD_NAMESPACE: 'shop', SUPERPOWER_URL: 'http://superpower.mucon.svc/' };
const load = (f: string, importEnv: Record<string, string> = env): LoadResult =>
  loadExperimentFiles([{ path: f.slice(CORPUS.length), content: readFileSync(f) }], { importEnv });
const rel = (f: string) => f.slice(CORPUS.length);

describe.skipIf(NO_CORPUS)('Chaos Toolkit corpus', () => {
  const results = new Map(files.map((f) => [rel(f), load(f)]));

  it('prints every terminate_pods experiment and what became of it', () => {
    expect(files.length).toBe(6);
    const ok = [...results.values()].filter((r) => r.experiments.length).length;
    process.stdout.write(
      `Chaos Toolkit corpus: ${ok} of ${files.length} terminate_pods experiments accepted\n` +
        [...results].map(([f, r]) => `  ${f}: ${r.experiments.length ? `ok ${r.experiments.map((e) => e.experiment.metadata.name).join(', ')}` : `refused: ${r.problems.map((p) => p.message).join(' | ')}`}`).join('\n') + '\n',
    );
  });

  it('maps terminate_pods and the http hypothesis as Chaos Toolkit means them', () => {
    const r = results.get('ctk/pg/kubernetes-pack/kill-pods-experiment.json')!;
    expect(r.problems).toEqual([]);
    const spec = r.experiments[0]!.experiment.spec;
    expect(spec.fault).toEqual({ type: 'pod-kill', params: { gracePeriodSeconds: 30} }); // grace_period -1: the pod's own, 30s by default
    expect(spec.target).toEqual({ namespace: 'shop', selector: { matchLabels: { app: 'web' } }, mode: { type: 'fixed', value: 2 } });
    expect(spec.duration).toBe('30s');
    expect(spec.steadyState!.probes).toEqual([
      { name: 'application-must-respond-normally', http: { url: 'http://app.shop.svc/', method: 'GET', expectStatus: [200], timeout: '500ms' }, interval: '5s', failureThreshold: 3 },
    ]);
    // the operator's ConfigMap: only label_selector given; ns default, qty 1
    const cm = results.get('ctk/docs/operator--1.yaml')!;
    expect(cm.experiments.map((e) => e.experiment.spec.target)).toEqual([{ namespace: 'default', selector: { matchLabels: { app: 'producer' } }, mode: { type: 'one' } }]);
  });

  it('refuses an environment reference nobody resolved, naming the variable', () => {
    const r = load(`${CORPUS}ctk/pg/kubernetes-pack/kill-pods-experiment.json`, {});
    expect(r.experiments).toEqual([]);
    expect(r.problems.map((p) => p.message)).toContainEqual(expect.stringMatching(/\$\{pod_label_selector\} comes from the environment variable POD_LABEL, .*--set POD_LABEL=VALUE/));
    for (const p of r.problems) expect(p.message).not.toMatch(/undefined/);
  });
});
