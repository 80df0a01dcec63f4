// Shared shapes of the simulator. Objects are kept as plain JSON, the way the API server sees them.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  generateName?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** A stored Kubernetes object: JSON with metadata, anything else is resource-specific. */
export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  // Resource bodies are free-form JSON; each controller reads the fields it needs.
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [key: string]: unknown;
}

export type JsonObject = Record<string, unknown>;

/** Seed topology: plain manifests grouped by kind, read from YAML. */
export interface SimTopology {
  name?: string;
  nodes?: { name: string; labels?: Record<string, string>; unschedulable?: boolean }[];
  namespaces?: { name: string; labels?: Record<string, string> }[];
  /** Any objects (Deployments, StatefulSets, PDBs, VirtualServices, ...) as full manifests. */
  objects?: KObject[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  resource: string; // resource key, e.g. "apps/deployments"
  rv: number;
  object: KObject;
  /** Previous state for MODIFIED, to turn selector transitions into ADDED/DELETED. */
  old?: KObject;
}
