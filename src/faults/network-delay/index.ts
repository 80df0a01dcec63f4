// network-delay: tc netem delay on the pod's interface.
import { defineFault } from '../definition.js';
import { correlation, duration, iface, obj } from '../schema-parts.js';
import { NET_TC } from '../inpod-needs.js';

export const networkDelay = defineFault({
  type: 'network-delay',
  scope: 'pods',
  description: 'Adds latency to the selected pods\' outgoing traffic (tc netem).',
  docs: '`tc netem delay` in an ephemeral container sharing the pod\'s network namespace',
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
  driver: async () => (await import('./driver.js')).networkDelay,
});
