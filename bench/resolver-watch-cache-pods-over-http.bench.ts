// The resolver's watch cache at 100,000 pods (BENCH_PODS to change), the real path: a simulator
// in its own process serves the pods over HTTP; a second process runs createTargetResolver (list +
// watch through client-node) and resolves many selectors (matchLabels, In, NotIn, Exists; every
// mode; with namespace labels and PDBs). Floors, measured in the same run in a third process:
// the same pods fetched as bare JSON objects (RSS), and a bare Array.filter over them (latency,
// over the namespace's pods and over all pods).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { BenchResult } from './types.js';

const PODS = Number(process.env.BENCH_PODS ?? 100_000);
const NODE = 'node_modules/.bin/node';

async function firstLine(child: ChildProcess, what: string): Promise<Record<string, unknown>> {
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const rl = createInterface({ input: child.stdout! });
  const line = await Promise.race([
    once(rl, 'line').then(([l]) => l as string),
    once(child, 'exit').then(([code]) => { throw new Error(`${what} exited ${String(code)}: ${err.slice(-2000)}`); }),
  ]);
  return JSON.parse(line) as Record<string, unknown>;
}

async function probe(mode: string, sim: Record<string, unknown>): Promise<Record<string, number>> {
  const child = spawn(NODE, ['--import', 'tsx', 'bench/lib/cache-probe.ts'], {
    env: { ...process.env, MODE: mode, SIM_URL: String(sim.url), KUBECONFIG_YAML: String(sim.kubeconfig), NAMESPACES: String(sim.namespaces) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = (await firstLine(child, `probe ${mode}`)) as Record<string, number>;
  await once(child, 'exit');
  return out;
}

export default async function (): Promise<BenchResult[]> {
  const simChild = spawn(NODE, ['--import', 'tsx', 'bench/lib/sim-server.ts'], { env: { ...process.env, PODS: String(PODS) }, stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    const sim = await firstLine(simChild, 'simulator');
    const bare = await probe('bare', sim);
    const cache = await probe('resolver', sim);
    if (cache.pods !== sim.pods || bare.pods !== sim.pods) throw new Error(`pod counts differ: sim ${String(sim.pods)}, resolver ${cache.pods}, bare ${bare.pods}`);
    if (bare.hits !== 0) throw new Error('bare scans disagree');
    const n = Number(sim.pods);
    return [
      { name: 'watch cache: pods Running in the simulator', value: n, unit: 'pods', note: `${String(sim.namespaces)} namespaces; seeded in ${Number(sim.seedS).toFixed(1)} s; resolver synced (list + watch over HTTP) in ${cache.syncS!.toFixed(1)} s` },
      { name: 'watch cache: added RSS, resolver', value: cache.addedRssMB!, unit: 'MB', target: '<= 250 MB at 100,000 pods', note: `${((cache.addedRssMB! * 2 ** 20) / n).toFixed(0)} B/pod` },
      { name: 'watch cache: added RSS, floor (same pods as bare JSON objects)', value: bare.addedRssMB!, unit: 'MB', note: `${((bare.addedRssMB! * 2 ** 20) / n).toFixed(0)} B/pod` },
      { name: 'watch cache: resolve p50', value: cache.p50!, unit: 'ms', note: `${5000} resolutions over 16 selector×mode shapes, with namespace labels and PDBs` },
      { name: 'watch cache: resolve p99', value: cache.p99!, unit: 'ms', target: '<= 2 ms' },
      { name: 'watch cache: floor p50 / p99, bare Array.filter over the namespace\'s pods', value: bare.nsP50!, unit: 'ms', note: `p99 ${bare.nsP99!.toFixed(3)} ms` },
      { name: 'watch cache: bare Array.filter over all pods p50 / p99', value: bare.p50!, unit: 'ms', note: `p99 ${bare.p99!.toFixed(3)} ms` },
    ];
  } finally {
    simChild.stdin?.end();
    await Promise.race([once(simChild, 'exit'), new Promise((r) => setTimeout(r, 5000))]);
    if (simChild.exitCode === null) simChild.kill('SIGKILL');
  }
}
