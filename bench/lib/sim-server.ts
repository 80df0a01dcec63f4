// Child process for benches: a simulator seeded with PODS pods (namespaces of 5 Deployments × 100
// replicas), so the measured process holds only what it lists and watches. Prints one JSON line
// {url, seedS, pods} when listening, and exits when its stdin closes.
import { startSimulator, type TopologyFile } from '../../src/sim/index.js';

const pods = Number(process.env.PODS ?? 100_000);
export const APPS = ['web', 'api', 'worker', 'cache', 'db'];
const perNs = APPS.length * 100;
const namespaces = Array.from({ length: Math.max(1, Math.round(pods / perNs)) }, (_, i) => ({ name: `team-${String(i).padStart(3, '0')}`, labels: { 'faultline.dev/chaos': 'enabled' } }));
const topology: TopologyFile = {
  name: 'bench-pods',
  nodes: Array.from({ length: Math.max(10, Math.round(pods / 110)) }, (_, i) => ({ name: `node-${i + 1}` })),
  namespaces,
  workloads: namespaces.flatMap((ns) => APPS.map((app) => ({ namespace: ns.name, kind: 'Deployment' as const, name: app, replicas: 100, labels: { app, tier: app === 'db' || app === 'cache' ? 'data' : 'app' } }))),
};
const t0 = performance.now();
const sim = await startSimulator({ topology });
const seedS = (performance.now() - t0) / 1000;
let running = 0;
for (const p of sim.store.scan('pods')) if ((p.status as { phase?: string } | undefined)?.phase === 'Running') running++;
process.stdout.write(JSON.stringify({ url: sim.url, kubeconfig: sim.kubeconfigYaml(), seedS, pods: running, namespaces: namespaces.length }) + '\n');
process.stdin.resume();
process.stdin.on('end', () => void sim.close().then(() => process.exit(0)));
