// Child process for the watch-cache bench: measures one way of holding the simulator's pods, in a
// process of its own so RSS figures do not mix. MODE=resolver: createTargetResolver (list + watch
// over HTTP through client-node), then many resolutions. MODE=bare: the same pods fetched as JSON
// and kept as plain objects (the floor), then a bare Array.filter per selector.
// Prints one JSON line of figures.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { KubeConfig } from '@kubernetes/client-node';
import { createTargetResolver } from '../../src/cluster/index.js';
import type { Target } from '../../src/experiments/model.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const settle = async (): Promise<number> => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage().rss;
};

const mode = process.env.MODE ?? 'resolver';
const url = process.env.SIM_URL!;
const nsCount = Number(process.env.NAMESPACES);
const RUNS = Number(process.env.RUNS ?? 5000);
const APPS = ['web', 'api', 'worker', 'cache', 'db'];

/** Many selectors: matchLabels on one app or one tier, matchExpressions In / NotIn / Exists, every mode. */
function target(i: number): Target {
  const namespace = `team-${String((i * 7919) % nsCount).padStart(3, '0')}`;
  const app = APPS[i % APPS.length]!;
  const selectors: Target['selector'][] = [
    { matchLabels: { app } },
    { matchLabels: { tier: i % 2 ? 'data' : 'app' } },
    { matchExpressions: [{ key: 'app', operator: 'In', values: [app, APPS[(i + 1) % APPS.length]!] }] },
    { matchExpressions: [{ key: 'app', operator: 'NotIn', values: [app] }, { key: 'tier', operator: 'Exists' }] },
  ];
  const modes: Target['mode'][] = [{ type: 'one' }, { type: 'all' }, { type: 'fixed', value: 3 }, { type: 'percent', value: 30 }];
  return { namespace, selector: selectors[i % selectors.length]!, mode: modes[Math.floor(i / 4) % modes.length]! } as Target;
}

function pct(samples: number[], p: number): number {
  const s = samples.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)]!;
}

type Bare = { metadata: { namespace: string; labels?: Record<string, string> }; status?: { conditions?: { type: string; status: string }[] } };
function bareMatch(t: Target, labels: Record<string, string> = {}): boolean {
  for (const [k, v] of Object.entries(t.selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of t.selector.matchExpressions ?? []) {
    const has = e.key in labels;
    if (e.operator === 'In' && !(has && e.values!.includes(labels[e.key]!))) return false;
    if (e.operator === 'NotIn' && has && e.values!.includes(labels[e.key]!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

const before = await settle();
const t0 = performance.now();
const lat: number[] = [];
let pods: number;
let hits = 0;
let keep: unknown;
if (mode === 'resolver') {
  const kc = new KubeConfig();
  kc.loadFromString(process.env.KUBECONFIG_YAML!);
  const resolver = createTargetResolver(kc);
  await resolver.ready();
  pods = resolver.podCount();
  const syncS = (performance.now() - t0) / 1000;
  const after = await settle();
  for (let i = 0; i < RUNS; i++) {
    const t = target(i);
    const s = performance.now();
    const r = resolver.resolve(t, i);
    resolver.namespaceLabels(t.namespace);
    resolver.disruptionBudgets(t.namespace, r.pods);
    lat.push(performance.now() - s);
    hits += r.pods.length;
  }
  resolver.close();
  process.stdout.write(JSON.stringify({ pods, syncS, addedRssMB: (after - before) / 2 ** 20, p50: pct(lat, 0.5), p99: pct(lat, 0.99), hits }) + '\n');
} else {
  const res = await fetch(`${url}/api/v1/pods`, { headers: { authorization: 'Bearer faultline-sim' } });
  const list = (await res.json()) as { items: Bare[] };
  const all = list.items;
  keep = all;
  pods = all.length;
  const after = await settle();
  const byNs = new Map<string, Bare[]>();
  for (const p of all) byNs.set(p.metadata.namespace, [...(byNs.get(p.metadata.namespace) ?? []), p]);
  const nsLat: number[] = [];
  const ready = (p: Bare): boolean => !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  for (let i = 0; i < RUNS; i++) {
    const t = target(i);
    const s = performance.now();
    hits -= (byNs.get(t.namespace) ?? []).filter((p) => bareMatch(t, p.metadata.labels) && ready(p)).length;
    nsLat.push(performance.now() - s);
  }
  for (let i = 0; i < RUNS; i++) {
    const t = target(i);
    const s = performance.now();
    const out = all.filter((p) => p.metadata.namespace === t.namespace && bareMatch(t, p.metadata.labels) && !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    lat.push(performance.now() - s);
    hits += out.length;
  }
  // hits: the full scan and the namespace scan must find the same pods (0 when they agree)
  process.stdout.write(JSON.stringify({ pods, addedRssMB: (after - before) / 2 ** 20, p50: pct(lat, 0.5), p99: pct(lat, 0.99), nsP50: pct(nsLat, 0.5), nsP99: pct(nsLat, 0.99), hits, kept: (keep as unknown[]).length }) + '\n');
}
process.exit(0);
