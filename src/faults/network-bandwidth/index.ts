// network-bandwidth: a tc token bucket (tbf) on the pod's interface.
import { defineFault } from '../definition.js';
import { NET_TC } from '../inpod-needs.js';
import { BANDWIDTH_RATE_PATTERN, iface, obj } from '../schema-parts.js';

export const networkBandwidth = defineFault({
  type: 'network-bandwidth',
  scope: 'pods',
  description: 'Limits the selected pods\' outgoing bandwidth (tc tbf).',
  docs: 'a tc token bucket (tbf) on the pod\'s interface; `rate` in tc units (`1mbit`, `500kbit`, `1mbps` = bytes/s), `buffer` and `limit` in bytes',
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
  driver: async () => (await import('./driver.js')).networkBandwidth,
});
