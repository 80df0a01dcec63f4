// The fault registry as data: each fault type's parameter schema (JSON Schema, bounded, no extra
// fields), what it acts on, and a one-line description. The experiment schema embeds these.
import { DURATION_PATTERN } from './duration.js';
import type { FaultType } from './model.js';

export const DNS1123_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';
export const DNS1123_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
export const BANDWIDTH_RATE_PATTERN = '^[1-9][0-9]{0,9}(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$';
export const MEMORY_SIZE_PATTERN = '^[1-9][0-9]{0,5}(Mi|Gi)$';

export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';
export const POD_SECURITY_LABEL = 'pod-security.kubernetes.io/enforce';

/** What an in-pod fault's injector (ephemeral container) gets, and so which namespaces admit it. */
export interface InjectorNeeds {
  /** Linux capabilities added after `drop: [ALL]`. */
  capabilities: string[];
  /** 0 where the kernel only honours the capabilities for root (no_new_privs ignores file caps). */
  runAsUser: number;
  /** The strictest Pod Security level (namespace label pod-security.kubernetes.io/enforce) that admits it. */
  podSecurity: PodSecurityLevel;
}

export interface FaultInfo {
  paramsSchema: object;
  scope: 'pods' | 'workload' | 'node' | 'service';
  description: string;
  /** In-pod faults only. */
  injector?: InjectorNeeds;
  /** Rules the schema cannot say, with the reason (pointer relative to the params). */
  checkParams?(params: Record<string, unknown>): { pointer: string; message: string }[];
}

/** Injector user when no capability needs root (the image's non-root user). */
export const INJECTOR_NONROOT_UID = 65532;
const NET_TC: InjectorNeeds = { capabilities: ['NET_ADMIN'], runAsUser: 0, podSecurity: 'privileged' };
const STRESS: InjectorNeeds = { capabilities: [], runAsUser: INJECTOR_NONROOT_UID, podSecurity: 'restricted' };

// `durationRange` is a Faultline keyword (registered with ajv): [min, max] as durations.
const duration = (min: string, max: string, extra: object = {}) => ({
  type: 'string',
  pattern: DURATION_PATTERN,
  durationRange: [min, max],
  ...extra,
});
const iface = { type: 'string', pattern: '^[a-z][a-z0-9]{0,14}$', default: 'eth0', description: 'network interface in the pod' };
const correlation = { type: 'integer', minimum: 0, maximum: 100, default: 0 };
const obj = (properties: Record<string, object>, required: string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...(required.length ? { required } : {}),
});

export const FAULT_CATALOG: Record<FaultType, FaultInfo> = {
  'pod-kill': {
    scope: 'pods',
    description: 'Deletes the selected pods; their controllers recreate them.',
    paramsSchema: obj({ gracePeriodSeconds: { type: 'integer', minimum: 0, maximum: 3600, default: 0 } }),
  },
  'container-kill': {
    scope: 'pods',
    description: 'Sends SIGTERM to one container\'s main process in each selected pod; the run checks that the kubelet restarted it.',
    // KILL: the app usually runs as another user. Root: non-root gets no added capability.
    injector: { capabilities: ['KILL'], runAsUser: 0, podSecurity: 'baseline' },
    paramsSchema: obj(
      {
        container: { type: 'string', maxLength: 63, pattern: DNS1123_LABEL_PATTERN },
        signal: { enum: ['SIGTERM', 'SIGKILL'], default: 'SIGTERM' },
      },
      ['container'],
    ),
    checkParams: (params) => params.signal === 'SIGKILL'
      ? [{ pointer: '/signal', message: 'SIGKILL cannot be delivered from inside the pod: the kernel drops SIGKILL sent to a PID namespace\'s init (the container\'s main process) by a process in that namespace; use SIGTERM, or pod-kill' }]
      : [],
  },
  'pod-failure': {
    scope: 'pods',
    description: 'Runs a pause image in every container of the selected pods; revert restores the original images.',
    paramsSchema: obj({}),
  },
  'network-delay': {
    scope: 'pods',
    description: 'Adds latency to the selected pods\' outgoing traffic (tc netem).',
    injector: NET_TC,
    paramsSchema: obj(
      {
        latency: duration('1ms', '10s'),
        jitter: duration('0ms', '10s', { default: '0ms' }),
        correlation,
        interface: iface,
      },
      ['latency'],
    ),
  },
  'network-loss': {
    scope: 'pods',
    description: 'Drops a share of the selected pods\' packets (tc netem).',
    injector: NET_TC,
    paramsSchema: obj(
      { percent: { type: 'number', minimum: 0.1, maximum: 100 }, correlation, interface: iface },
      ['percent'],
    ),
  },
  'network-corrupt': {
    scope: 'pods',
    description: 'Corrupts a share of the selected pods\' outgoing packets (tc netem).',
    injector: NET_TC,
    paramsSchema: obj({ percent: { type: 'number', minimum: 0.1, maximum: 100 }, correlation, interface: iface }, ['percent']),
  },
  'network-duplicate': {
    scope: 'pods',
    description: 'Duplicates a share of the selected pods\' outgoing packets (tc netem).',
    injector: NET_TC,
    paramsSchema: obj({ percent: { type: 'number', minimum: 0.1, maximum: 100 }, correlation, interface: iface }, ['percent']),
  },
  'network-bandwidth': {
    scope: 'pods',
    description: 'Limits the selected pods\' outgoing bandwidth (tc tbf).',
    injector: NET_TC,
    paramsSchema: obj(
      {
        rate: { type: 'string', pattern: BANDWIDTH_RATE_PATTERN, description: 'e.g. 1mbit, 500kbit, 1mbps (tc units: bit = bits/s, bps = bytes/s)' },
        buffer: { type: 'integer', minimum: 1600, maximum: 1_073_741_824, default: 32_768, description: 'bucket size (burst) in bytes' },
        limit: { type: 'integer', minimum: 1600, maximum: 1_073_741_824, default: 1_048_576, description: 'bytes queued before packets are dropped' },
        interface: iface,
      },
      ['rate'],
    ),
  },
  'network-partition': {
    scope: 'pods',
    description: 'Cuts the selected pods off from the given CIDRs (and ports).',
    // iptables opens raw netlink/packet sockets (NET_RAW) besides changing rules (NET_ADMIN).
    injector: { capabilities: ['NET_ADMIN', 'NET_RAW'], runAsUser: 0, podSecurity: 'privileged' },
    paramsSchema: obj(
      {
        direction: { enum: ['egress', 'ingress', 'both'], default: 'both' },
        cidrs: { type: 'array', minItems: 1, maxItems: 32, items: { type: 'string', maxLength: 43, format: 'cidr' } },
        ports: { type: 'array', maxItems: 32, uniqueItems: true, items: { type: 'integer', minimum: 1, maximum: 65535 } },
        interface: iface,
      },
      ['cidrs'],
    ),
  },
  'cpu-stress': {
    scope: 'pods',
    description: 'Burns CPU inside the selected pods\' cgroup.',
    injector: STRESS,
    paramsSchema: obj({
      workers: { type: 'integer', minimum: 1, maximum: 64, default: 1 },
      load: { type: 'integer', minimum: 1, maximum: 100, default: 100 },
    }),
  },
  'memory-stress': {
    scope: 'pods',
    description: 'Allocates memory inside the selected pods\' cgroup (size in total, across the workers).',
    injector: STRESS,
    paramsSchema: obj(
      {
        size: { type: 'string', pattern: MEMORY_SIZE_PATTERN, memoryMaxMi: 65536 },
        workers: { type: 'integer', minimum: 1, maximum: 16, default: 1 },
      },
      ['size'],
    ),
  },
  'scale-down': {
    scope: 'workload',
    description: 'Scales the workloads owning the selected pods down; revert restores the replicas.',
    paramsSchema: obj({ replicas: { type: 'integer', minimum: 0, maximum: 1000, default: 0 } }),
  },
  'node-cordon': {
    scope: 'node',
    description: 'Cordons the nodes running the selected pods; revert uncordons them.',
    paramsSchema: obj({}),
  },
  'http-fault': {
    scope: 'service',
    description: 'Injects aborts or delays into an Istio VirtualService\'s http routes; revert restores them.',
    paramsSchema: obj(
      {
        virtualService: { type: 'string', maxLength: 253, pattern: DNS1123_SUBDOMAIN_PATTERN },
        abort: obj(
          {
            httpStatus: { type: 'integer', minimum: 200, maximum: 599 },
            percent: { type: 'number', minimum: 0, maximum: 100 },
          },
          ['httpStatus', 'percent'],
        ),
        delay: obj(
          { fixedDelay: duration('1ms', '60s'), percent: { type: 'number', minimum: 0, maximum: 100 } },
          ['fixedDelay', 'percent'],
        ),
      },
      ['virtualService'],
    ),
  },
};

/** Parses a memory-stress size (e.g. 256Mi, 2Gi) to MiB. */
export function memorySizeMi(size: string): number {
  const m = /^([1-9][0-9]{0,5})(Mi|Gi)$/.exec(size);
  if (!m) throw new Error(`invalid size ${JSON.stringify(size)}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}
