// network-duplicate: tc netem duplicate on the pod's interface.
import { defineFault } from '../definition.js';
import { NET_TC } from '../inpod-needs.js';
import { correlation, iface, obj } from '../schema-parts.js';

export const networkDuplicate = defineFault({
  type: 'network-duplicate',
  scope: 'pods',
  description: 'Duplicates a share of the selected pods\' outgoing packets (tc netem).',
  docs: '`tc netem duplicate` on the pod\'s interface',
  injector: NET_TC,
  paramsSchema: obj({ percent: { type: 'number', minimum: 0.1, maximum: 100 }, correlation, interface: iface }, ['percent']),
  driver: async () => (await import('./driver.js')).networkDuplicate,
});
