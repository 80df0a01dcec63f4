// network-corrupt: tc netem corrupt on the pod's interface.
import { defineFault } from '../definition.js';
import { NET_TC } from '../inpod-needs.js';
import { correlation, iface, obj } from '../schema-parts.js';

export const networkCorrupt = defineFault({
  type: 'network-corrupt',
  scope: 'pods',
  description: 'Corrupts a share of the selected pods\' outgoing packets (tc netem).',
  docs: '`tc netem corrupt` on the pod\'s interface',
  injector: NET_TC,
  paramsSchema: obj({ percent: { type: 'number', minimum: 0.1, maximum: 100 }, correlation, interface: iface }, ['percent']),
  driver: async () => (await import('./driver.js')).networkCorrupt,
});
