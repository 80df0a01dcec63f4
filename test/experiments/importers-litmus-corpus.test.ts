// Litmus's chart hub (../shared/corpus/litmus): each fault's engine.yaml loaded together with its
// fault.yaml (the ChaosExperiment whose env gives the defaults). The hub's engines are templates
// with an empty appinfo, which Litmus itself refuses; they are measured as they are and once more
// with the target filled in, and the meaning of what is accepted is checked by hand.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperimentFiles } from '../../src/experiments/index.js';
import type { LoadResult } from '../../src/experiments/model.js';
import { CORPUS, corpusFiles, NO_CORPUS } from './corpus.js';

// The hub's experiments that have a Faultline fault (node-drain evicts pods: no equivalent).
const MAPPED = ['pod-delete', 'container-kill', 'pod-network-latency', 'pod-network-loss', 'pod-network-partition', 'pod-cpu-hog', 'pod-cpu-hog-exec', 'pod-memory-hog', 'pod-memory-hog-exec'];
const engines = NO_CORPUS ? [] : corpusFiles('litmus').filter((f) => f.endsWith('/engine.yaml'));
const faultOf = (engine: string) => engine.split('/').at(-2)!;

function load(engine: string, fill: boolean): LoadResult {
  let text = readFileSync(engine, 'utf8');
  if (fill) text = text.replace(/applabel: (''|"")/, "applabel: 'app=demo'").replace(/appns: (''|"")/, "appns: 'demo'");
  const files = [{ path: engine.slice(CORPUS.length), content: new TextEncoder().encode(text) }];
  const def = join(engine, '../fault.yaml');
  if (existsSync(def)) files.push({ path: def.slice(CORPUS.length), content: readFileSync(def) });
  return loadExperimentFiles(files);
}

describe.skipIf(NO_CORPUS)('Litmus chart hub', () => {
  const asIs = new Map(engines.map((e) => [faultOf(e), load(e, false)]));
  const filled = new Map(engines.map((e) => [faultOf(e), load(e, true)]));

  it('prints what is accepted, as the hub has them and with the target filled in', () => {
    const mapped = engines.map(faultOf).filter((f) => MAPPED.includes(f));
    expect(mapped.sort()).toEqual([...MAPPED].sort());
    const line = (m: Map<string, LoadResult>, f: string) => {
      const r = m.get(f)!;
      return r.experiments.length ? `ok ${r.experiments[0]!.experiment.spec.fault.type}` : `refused: ${r.problems.map((p) => p.message).join(' | ')}`;
    };
    const okFilled = mapped.filter((f) => filled.get(f)!.experiments.length).length;
    const okAsIs = mapped.filter((f) => asIs.get(f)!.experiments.length).length;
    process.stdout.write(
      `Litmus hub: ${engines.length} ChaosEngines, ${mapped.length} of a mapped experiment; accepted as they are: ${okAsIs}; with appinfo filled in: ${okFilled} of ${mapped.length}\n` +
        engines.map((e) => `  ${faultOf(e)}: ${line(filled, faultOf(e))}`).join('\n') + '\n',
    );
  });

  it('refuses the templates by name, as Litmus would, never printing undefined', () => {
    for (const [fault, r] of asIs) {
      expect(r.experiments, fault).toEqual([]);
      expect(r.problems.length, fault).toBeGreaterThan(0);
      for (const p of r.problems) {
        expect(p.message).toMatch(/^(litmuschaos\.io\/v1alpha1 ChaosEngine|unsupported document)/);
        expect(p.message).not.toMatch(/undefined/);
      }
    }
    expect(asIs.get('pod-cpu-hog')!.problems.map((p) => p.message)).toEqual([expect.stringMatching(/appinfo\.applabel and TARGET_PODS are both empty: Litmus itself refuses this/)]);
  });

  it('means what Litmus means once the target is given', () => {
    const spec = (f: string) => {
      const r = filled.get(f)!;
      expect(r.problems, f).toEqual([]);
      return r.experiments[0]!.experiment.spec;
    };
    const target = { namespace: 'demo', selector: { matchLabels: { app: 'demo' } }, mode: { type: 'one' } }; // PODS_AFFECTED_PERC '' → one pod
    expect(spec('pod-network-latency')).toMatchObject({ fault: { type: 'network-delay', params: { latency: '2000ms', jitter: '0ms', interface: 'eth0' } }, target, duration: '60s' });
    expect(spec('pod-network-loss')).toMatchObject({ fault: { type: 'network-loss', params: { percent: 100, interface: 'eth0' } }, target, duration: '60s' });
    expect(spec('pod-cpu-hog')).toMatchObject({ fault: { type: 'cpu-stress', params: { workers: 1, load: 100 } }, target, duration: '60s' });
    expect(spec('pod-cpu-hog-exec')).toMatchObject({ fault: { type: 'cpu-stress', params: { workers: 1, load: 100 } }, target, duration: '60s' });
    expect(spec('pod-memory-hog')).toMatchObject({ fault: { type: 'memory-stress', params: { size: '500Mi', workers: 1 } }, target, duration: '60s' });
    expect(spec('pod-memory-hog-exec')).toMatchObject({ fault: { type: 'memory-stress', params: { size: '500Mi', workers: 1 } }, target, duration: '60s' });
    const why = (f: string) => filled.get(f)!.problems.map((p) => p.message).join('\n');
    expect(why('pod-delete')).toMatch(/CHAOS_INTERVAL 10s within TOTAL_CHAOS_DURATION 30s repeats the kill 3 times/);
    expect(why('container-kill')).toMatch(/TARGET_CONTAINER is empty/);
    expect(why('pod-network-partition')).toMatch(/without DESTINATION_IPS Litmus isolates the pod/);
    expect(why('node-drain')).toMatch(/experiment "node-drain" has no Faultline equivalent/);
  });
});
