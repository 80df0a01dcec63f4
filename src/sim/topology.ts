// Seed topologies: nodes, namespaces, workloads in a short form, and any other manifests.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { Controllers } from './controllers.js';
import type { SimStore } from './store.js';
import type { KObject, SimTopology } from './types.js';

export const SHOP_TOPOLOGY_PATH = fileURLToPath(new URL('./topologies/shop.yaml', import.meta.url));

/** A workload in short form; expands to a Deployment or StatefulSet manifest. */
export interface WorkloadSpec {
  namespace: string;
  kind: 'Deployment' | 'StatefulSet';
  name: string;
  replicas?: number;
  labels?: Record<string, string>;
  image?: string;
  terminationGracePeriodSeconds?: number;
}

export type TopologyFile = SimTopology & { workloads?: WorkloadSpec[] };

export function loadTopologyFile(path: string): TopologyFile {
  const doc = parse(readFileSync(path, 'utf8')) as TopologyFile | null;
  if (!doc || typeof doc !== 'object') throw new Error(`topology ${path}: not a YAML mapping`);
  return doc;
}

export function workloadManifest(w: WorkloadSpec): KObject {
  const labels = w.labels ?? { app: w.name };
  return {
    apiVersion: 'apps/v1', kind: w.kind,
    metadata: { name: w.name, namespace: w.namespace, labels },
    spec: {
      replicas: w.replicas ?? 1,
      selector: { matchLabels: labels },
      ...(w.kind === 'StatefulSet' ? { serviceName: w.name } : {}),
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: w.terminationGracePeriodSeconds ?? 30,
          containers: [{ name: w.name, image: w.image ?? `registry.example/${w.name}:1.0`, ports: [{ containerPort: 8080, protocol: 'TCP' }] }],
        },
      },
    },
  };
}

function nodeManifest(n: NonNullable<SimTopology['nodes']>[number], index: number): KObject {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...(n.labels ?? {}) } },
    spec: n.unschedulable ? { unschedulable: true } : {},
    status: {
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
      addresses: [{ type: 'InternalIP', address: `10.0.0.${index + 10}` }, { type: 'Hostname', address: n.name }],
      capacity: { cpu: '4', memory: '16Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '16Gi', pods: '110' },
      nodeInfo: { kubeletVersion: 'v1.32.0', containerRuntimeVersion: 'containerd://2.0.0', operatingSystem: 'linux', architecture: 'amd64' },
    },
  };
}

const BUILTIN_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Writes a topology into the store with controllers settled: every pod exists and is Ready on return. */
export function seedTopology(store: SimStore, controllers: Controllers, topo: TopologyFile): void {
  controllers.settleNow(() => {
    (topo.nodes ?? []).forEach((n, i) => store.put(nodeManifest(n, i)));
    const nsList = [...(topo.namespaces ?? [])];
    for (const name of BUILTIN_NAMESPACES) if (!nsList.some((n) => n.name === name)) nsList.push({ name });
    for (const ns of nsList) {
      store.put({ apiVersion: 'v1', kind: 'Namespace',
        metadata: { name: ns.name, labels: { 'kubernetes.io/metadata.name': ns.name, ...(ns.labels ?? {}) } },
        spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
    }
    for (const w of topo.workloads ?? []) store.put(workloadManifest(w));
    for (const o of topo.objects ?? []) store.put(o);
  });
}
