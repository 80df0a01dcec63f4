// The resource table: what the simulator serves and how discovery describes it. The built-in
// resources are fixed; a CustomResourceDefinition adds one (src/sim/crd.ts), per simulator.

import type { CustomResourceInfo } from './crd.js';

export interface ResourceDef {
  group: string; // '' for the core group
  versions: string[]; // first is the preferred (storage) version
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  /** Resource has a status subresource: the main endpoint ignores status writes. */
  status?: boolean;
  subresources?: { name: string; kind: string; group?: string; version?: string; verbs: string[] }[];
  verbs?: string[];
  /** A custom resource: its CRD's schema, printer columns (src/sim/crd.ts). */
  custom?: CustomResourceInfo;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCES: ResourceDef[] = [
  { group: '', versions: ['v1'], plural: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, shortNames: ['ns'], status: true,
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
  { group: '', versions: ['v1'], plural: 'nodes', singular: 'node', kind: 'Node', namespaced: false, shortNames: ['no'], status: true },
  { group: '', versions: ['v1'], plural: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, shortNames: ['po'], status: true,
    subresources: [
      { name: 'ephemeralcontainers', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
      { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
    ] },
  { group: '', versions: ['v1'], plural: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] },
  { group: '', versions: ['v1'], plural: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true },
  { group: '', versions: ['v1'], plural: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'] },
  { group: 'events.k8s.io', versions: ['v1'], plural: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'] },
  { group: 'apps', versions: ['v1'], plural: 'deployments', singular: 'deployment', kind: 'Deployment', namespaced: true, shortNames: ['deploy'], status: true,
    subresources: [{ name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] }] },
  { group: 'apps', versions: ['v1'], plural: 'statefulsets', singular: 'statefulset', kind: 'StatefulSet', namespaced: true, shortNames: ['sts'], status: true,
    subresources: [{ name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] }] },
  { group: 'apps', versions: ['v1'], plural: 'replicasets', singular: 'replicaset', kind: 'ReplicaSet', namespaced: true, shortNames: ['rs'], status: true,
    subresources: [{ name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] }] },
  { group: 'policy', versions: ['v1'], plural: 'poddisruptionbudgets', singular: 'poddisruptionbudget', kind: 'PodDisruptionBudget', namespaced: true, shortNames: ['pdb'], status: true },
  { group: 'coordination.k8s.io', versions: ['v1'], plural: 'leases', singular: 'lease', kind: 'Lease', namespaced: true },
  { group: 'networking.istio.io', versions: ['v1beta1', 'v1'], plural: 'virtualservices', singular: 'virtualservice', kind: 'VirtualService', namespaced: true, shortNames: ['vs'] },
  { group: 'apiextensions.k8s.io', versions: ['v1'], plural: 'customresourcedefinitions', singular: 'customresourcedefinition', kind: 'CustomResourceDefinition', namespaced: false, shortNames: ['crd', 'crds'], status: true },
  { group: 'admissionregistration.k8s.io', versions: ['v1'], plural: 'validatingwebhookconfigurations', singular: 'validatingwebhookconfiguration', kind: 'ValidatingWebhookConfiguration', namespaced: false },
];

/** Storage key of a resource (versions share storage). */
export function resourceKey(def: Pick<ResourceDef, 'group' | 'plural'>): string {
  return def.group ? `${def.group}/${def.plural}` : def.plural;
}

export function apiVersionOf(def: ResourceDef, version = def.versions[0]!): string {
  return def.group ? `${def.group}/${version}` : version;
}

export function verbsOf(def: ResourceDef): string[] {
  return def.verbs ?? ALL_VERBS;
}

/** What one simulator serves: the built-ins plus the custom resources its CRDs define. */
export class ResourceTable {
  private defs: ResourceDef[] = [...RESOURCES];

  all(): readonly ResourceDef[] {
    return this.defs;
  }

  find(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.defs.find((r) => r.group === group && r.plural === plural && r.versions.includes(version));
  }

  byKey(key: string): ResourceDef {
    const def = this.defs.find((r) => resourceKey(r) === key);
    if (!def) throw new Error(`unknown resource ${key}`);
    return def;
  }

  byKind(apiVersion: string, kind: string): ResourceDef | undefined {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    return this.defs.find((r) => r.group === group && r.kind === kind && r.versions.includes(version!));
  }

  /** Adds or replaces a custom resource (a CRD was created or changed). */
  set(def: ResourceDef): void {
    this.defs = [...this.defs.filter((r) => resourceKey(r) !== resourceKey(def)), def];
  }

  /** Stops serving a custom resource (its CRD was deleted). */
  remove(key: string): void {
    this.defs = this.defs.filter((r) => !r.custom || resourceKey(r) !== key);
  }

  /** Groups in discovery order, each with its versions. */
  groups(): { name: string; versions: string[] }[] {
    const out: { name: string; versions: string[] }[] = [];
    for (const r of this.defs) {
      if (!r.group) continue;
      let g = out.find((x) => x.name === r.group);
      if (!g) out.push((g = { name: r.group, versions: [] }));
      for (const v of r.versions) if (!g.versions.includes(v)) g.versions.push(v);
    }
    return out;
  }
}
