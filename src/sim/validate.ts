// Admission checks: 400 for bodies a real server could not decode, 422 for invalid objects.
import { badRequest, invalid, type StatusCause } from './errors.js';
import type { ResourceDef } from './resources.js';
import { fromLabelSelectorObject, matchLabels } from './selectors.js';
import type { KObject } from './types.js';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
// metav1.MicroTime only decodes RFC3339 with exactly six fractional digits.
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;

function checkMicroTime(def: ResourceDef, value: unknown): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'string' || !MICRO_TIME.test(value)) {
    throw badRequest(`${def.kind} in version "${def.versions[0]}" cannot be handled as a ${def.kind}: parsing time "${String(value)}" as "2006-01-02T15:04:05.000000Z07:00": cannot parse as MicroTime`);
  }
}

/** Decoding problems (400), before any validation. */
export function checkDecodable(def: ResourceDef, obj: KObject): void {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw badRequest('the body of the request must be a JSON object');
  if (!obj.metadata || typeof obj.metadata !== 'object') obj.metadata = { name: '' };
  if (def.kind === 'Lease') {
    const spec = (obj.spec ?? {}) as { acquireTime?: unknown; renewTime?: unknown };
    checkMicroTime(def, spec.acquireTime);
    checkMicroTime(def, spec.renewTime);
  }
  if (def.kind === 'Secret' && obj.stringData && typeof obj.stringData === 'object') {
    // As the API server does: stringData is write-only, merged into data (base64) over the same keys.
    const data = { ...((obj.data ?? {}) as Record<string, string>) };
    for (const [k, v] of Object.entries(obj.stringData as Record<string, unknown>)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    obj.data = data;
    delete obj.stringData;
  }
  if (def.kind === 'Event') {
    checkMicroTime(def, obj.eventTime);
    checkMicroTime(def, (obj.series as { lastObservedTime?: unknown } | undefined)?.lastObservedTime);
  }
}

function podSpecCauses(spec: Record<string, unknown> | undefined, prefix: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const containers = (spec?.containers ?? []) as { name?: string; image?: string }[];
  if (!Array.isArray(containers) || containers.length === 0) {
    causes.push({ reason: 'FieldValueRequired', field: `${prefix}.containers`, message: 'Required value' });
  }
  const names = new Set<string>();
  const all = [...(Array.isArray(containers) ? containers : []), ...((spec?.initContainers ?? []) as { name?: string; image?: string }[])];
  all.forEach((c, i) => {
    if (!c.name) causes.push({ reason: 'FieldValueRequired', field: `${prefix}.containers[${i}].name`, message: 'Required value' });
    else if (!DNS1123_LABEL.test(c.name)) causes.push({ field: `${prefix}.containers[${i}].name`, message: `Invalid value: "${c.name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'` });
    else if (names.has(c.name)) causes.push({ reason: 'FieldValueDuplicate', field: `${prefix}.containers[${i}].name`, message: `Duplicate value: "${c.name}"` });
    if (c.name) names.add(c.name);
    if (!c.image) causes.push({ reason: 'FieldValueRequired', field: `${prefix}.containers[${i}].image`, message: 'Required value' });
  });
  const regular = new Set(names);
  ((spec?.ephemeralContainers ?? []) as (Record<string, unknown> & { name?: string; image?: string; targetContainerName?: string })[]).forEach((c, i) => {
    const field = `${prefix}.ephemeralContainers[${i}]`;
    if (!c.name) causes.push({ reason: 'FieldValueRequired', field: `${field}.name`, message: 'Required value' });
    else if (names.has(c.name)) causes.push({ reason: 'FieldValueDuplicate', field: `${field}.name`, message: `Duplicate value: "${c.name}"` });
    if (c.name) names.add(c.name);
    if (!c.image) causes.push({ reason: 'FieldValueRequired', field: `${field}.image`, message: 'Required value' });
    // as the real server: these make no sense for a container added to a running pod
    for (const k of ['ports', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'resources', 'resizePolicy']) {
      const v = c[k];
      if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0) && !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)) {
        causes.push({ reason: 'FieldValueForbidden', field: `${field}.${k}`, message: 'Forbidden: cannot be set for an Ephemeral Container' });
      }
    }
    if (c.targetContainerName !== undefined && !regular.has(c.targetContainerName)) {
      causes.push({ reason: 'FieldValueNotFound', field: `${field}.targetContainerName`, message: `Not found: "${c.targetContainerName}"` });
    }
  });
  return causes;
}

/** Object validation (422 Invalid with field causes). */
/** Which endpoint a write came through: a pod's spec changes only through its subresources. */
export type WriteTarget = 'main' | 'status' | 'ephemeralcontainers';

const POD_UPDATE_FORBIDDEN = 'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** JSON with sorted keys and no null/undefined members: equal for equal objects however serialised. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined && (v as Record<string, unknown>)[k] !== null)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** A pod spec change the main endpoint refuses (everything but images, activeDeadlineSeconds, added tolerations). */
function podSpecChanged(before: unknown, after: unknown): boolean {
  type C = { image?: string };
  type S = { containers?: C[]; initContainers?: C[]; activeDeadlineSeconds?: number; tolerations?: unknown[]; terminationGracePeriodSeconds?: number };
  const norm = (s: S | undefined, tolerations: number) => {
    const { activeDeadlineSeconds: _a, tolerations: t, ...rest } = s ?? {};
    return canonical({
      ...rest,
      containers: (rest.containers ?? []).map((c) => ({ ...c, image: undefined })),
      initContainers: (rest.initContainers ?? []).map((c) => ({ ...c, image: undefined })),
      tolerations: (t ?? []).slice(0, tolerations),
    });
  };
  const n = ((before as S | undefined)?.tolerations ?? []).length;
  return norm(before as S, n) !== norm(after as S, n);
}

export function validate(def: ResourceDef, obj: KObject, old?: KObject, target: WriteTarget = 'main'): void {
  const causes: StatusCause[] = [];
  const meta = obj.metadata;
  const nameRe = def.plural === 'namespaces' ? DNS1123_LABEL : DNS1123_SUBDOMAIN;
  if (!meta.name && !meta.generateName) {
    causes.push({ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' });
  } else if (meta.name && (!nameRe.test(meta.name) || meta.name.length > (def.plural === 'namespaces' ? 63 : 253))) {
    causes.push({ field: 'metadata.name', message: `Invalid value: "${meta.name}": a lowercase RFC 1123 ${def.plural === 'namespaces' ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.'` });
  }
  for (const [k, v] of Object.entries(meta.labels ?? {})) {
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) causes.push({ field: `metadata.labels`, message: `Invalid value: "${String(v)}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.' (key ${k})` });
  }
  const spec = obj.spec as Record<string, unknown> | undefined;
  switch (def.kind) {
    case 'Pod': {
      causes.push(...podSpecCauses(spec, 'spec'));
      if (old && target === 'main' && podSpecChanged(old.spec, spec)) {
        causes.push({ reason: 'FieldValueForbidden', field: 'spec', message: POD_UPDATE_FORBIDDEN });
      }
      if (old && target === 'ephemeralcontainers') {
        const was = new Map(((old.spec?.ephemeralContainers ?? []) as { name: string }[]).map((c) => [c.name, JSON.stringify(c)]));
        ((spec?.ephemeralContainers ?? []) as { name: string }[]).forEach((c, i) => {
          if (was.has(c.name) && was.get(c.name) !== JSON.stringify(c)) {
            causes.push({ reason: 'FieldValueForbidden', field: `spec.ephemeralContainers[${i}]`, message: 'Forbidden: existing ephemeral containers may not be changed' });
          }
        });
      }
      if (old) {
        const before = ((old.spec?.ephemeralContainers ?? []) as { name: string }[]).map((c) => c.name);
        const after = ((spec?.ephemeralContainers ?? []) as { name: string }[]).map((c) => c.name);
        if (before.some((n) => !after.includes(n))) {
          causes.push({ reason: 'FieldValueForbidden', field: 'spec.ephemeralContainers', message: 'Forbidden: existing ephemeral containers may not be removed' });
        }
      }
      break;
    }
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet': {
      const replicas = spec?.replicas;
      if (replicas !== undefined && (!Number.isInteger(replicas) || (replicas as number) < 0)) {
        causes.push({ field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` });
      }
      const template = spec?.template as { metadata?: { labels?: Record<string, string> }; spec?: Record<string, unknown> } | undefined;
      if (!spec?.selector) causes.push({ reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' });
      else if (!matchLabels(fromLabelSelectorObject(spec.selector), template?.metadata?.labels)) {
        causes.push({ field: 'spec.template.metadata.labels', message: 'Invalid value: `selector` does not match template `labels`' });
      }
      causes.push(...podSpecCauses(template?.spec, 'spec.template.spec'));
      break;
    }
    case 'PodDisruptionBudget':
      if (spec?.minAvailable !== undefined && spec?.maxUnavailable !== undefined) {
        causes.push({ field: 'spec', message: 'Invalid value: minAvailable and maxUnavailable cannot be both set' });
      }
      break;
    case 'Lease': {
      const d = (spec as { leaseDurationSeconds?: unknown } | undefined)?.leaseDurationSeconds;
      if (d !== undefined && (!Number.isInteger(d) || (d as number) <= 0)) causes.push({ field: 'spec.leaseDurationSeconds', message: 'Invalid value: must be greater than 0' });
      break;
    }
  }
  if (causes.length) throw invalid(def.group, def.kind, meta.name || meta.generateName || '', causes);
}
