// Pieces the faults' params schemas share (JSON Schema fragments and patterns). Pure.
import { DURATION_PATTERN } from '../experiments/duration.js';

export const DNS1123_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';
export const DNS1123_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
export const BANDWIDTH_RATE_PATTERN = '^[1-9][0-9]{0,9}(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$';
export const MEMORY_SIZE_PATTERN = '^[1-9][0-9]{0,5}(Mi|Gi)$';

// `durationRange` is a Faultline keyword (registered with ajv): [min, max] as durations.
export const duration = (min: string, max: string, extra: object = {}) => ({
  type: 'string',
  pattern: DURATION_PATTERN,
  durationRange: [min, max],
  ...extra,
});
export const iface = { type: 'string', pattern: '^[a-z][a-z0-9]{0,14}$', default: 'eth0', description: 'network interface in the pod' };
export const correlation = { type: 'integer', minimum: 0, maximum: 100, default: 0 };
export const obj = (properties: Record<string, object>, required: string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...(required.length ? { required } : {}),
});

/** Parses a memory-stress size (e.g. 256Mi, 2Gi) to MiB. */
export function memorySizeMi(size: string): number {
  const m = /^([1-9][0-9]{0,5})(Mi|Gi)$/.exec(size);
  if (!m) throw new Error(`invalid size ${JSON.stringify(size)}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}
