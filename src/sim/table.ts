// Server-side printing (meta.k8s.io Table), which `kubectl get` asks for.
import type { ResourceDef } from './resources.js';
import type { KObject } from './types.js';
import { columnValue } from './crd.js';

export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept);
}

function age(ts: string | undefined): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

type Column = { name: string; type: string; cell: (o: KObject) => string | number };

function podColumns(): Column[] {
  const st = (o: KObject) => (o.status ?? {}) as { phase?: string; containerStatuses?: { ready?: boolean; restartCount?: number }[] };
  return [
    { name: 'Ready', type: 'string', cell: (o) => `${(st(o).containerStatuses ?? []).filter((c) => c.ready).length}/${((o.spec?.containers ?? []) as unknown[]).length}` },
    { name: 'Status', type: 'string', cell: (o) => (o.metadata.deletionTimestamp ? 'Terminating' : st(o).phase ?? 'Pending') },
    { name: 'Restarts', type: 'integer', cell: (o) => (st(o).containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0) },
    { name: 'Node', type: 'string', cell: (o) => String(o.spec?.nodeName ?? '<none>') },
  ];
}

/** A CRD's additionalPrinterColumns: dates as ages, absent values as null (kubectl prints <none>). */
function customColumns(def: ResourceDef, version: string | undefined): Column[] {
  const cols = def.custom?.versions[version ?? def.versions[0]!]?.columns ?? [];
  return cols.filter((c) => c.jsonPath !== '.metadata.creationTimestamp' || c.name !== 'Age').map((c) => ({
    name: c.name, type: c.type === 'date' ? 'string' : c.type,
    cell: (o: KObject) => {
      const v = columnValue(o, c.jsonPath);
      if (v === undefined || v === null) return null as unknown as string;
      return c.type === 'date' ? age(String(v)) : typeof v === 'object' ? JSON.stringify(v) : (v as string | number);
    },
  }));
}

function columnsFor(def: ResourceDef, version?: string): Column[] {
  const status = (o: KObject) => (o.status ?? {}) as Record<string, number | string | undefined>;
  if (def.custom) return customColumns(def, version);
  switch (def.kind) {
    case 'Pod': return podColumns();
    case 'Deployment':
    case 'StatefulSet':
      return [{ name: 'Ready', type: 'string', cell: (o) => `${status(o).readyReplicas ?? 0}/${String(o.spec?.replicas ?? 1)}` }];
    case 'ReplicaSet':
      return [
        { name: 'Desired', type: 'integer', cell: (o) => Number(o.spec?.replicas ?? 1) },
        { name: 'Ready', type: 'integer', cell: (o) => Number(status(o).readyReplicas ?? 0) },
      ];
    case 'Node':
      return [{ name: 'Status', type: 'string', cell: (o) => (o.spec?.unschedulable ? 'Ready,SchedulingDisabled' : 'Ready') }];
    case 'Namespace':
      return [{ name: 'Status', type: 'string', cell: (o) => String(status(o).phase ?? 'Active') }];
    case 'PodDisruptionBudget':
      return [{ name: 'Allowed Disruptions', type: 'integer', cell: (o) => Number(status(o).disruptionsAllowed ?? 0) }];
    default:
      return [];
  }
}

export function toTable(def: ResourceDef, items: KObject[], resourceVersion: string, version?: string): object {
  const cols: Column[] = [
    { name: 'Name', type: 'string', cell: (o) => o.metadata.name },
    ...columnsFor(def, version),
    { name: 'Age', type: 'string', cell: (o) => age(o.metadata.creationTimestamp) },
  ];
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion },
    columnDefinitions: cols.map((c, i) => ({ name: c.name, type: c.type, format: i === 0 ? 'name' : '', description: c.name, priority: 0 })),
    rows: items.map((o) => ({
      cells: cols.map((c) => c.cell(o)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}
