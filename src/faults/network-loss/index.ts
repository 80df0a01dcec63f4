// network-loss: tc netem loss on the pod's interface.
import { defineFault } from '../definition.js';
import { NET_TC } from '../inpod-needs.js';
import { correlation, iface, obj } from '../schema-parts.js';

export const networkLoss = defineFault({
  type: 'network-loss',
  scope: 'pods',
  description: 'Drops a share of the selected pods\' packets (tc netem).',
  docs: '`tc netem loss`',
  injector: NET_TC,
  paramsSchema: obj({ percent: { type: 'number', minimum: 0.1, maximum: 100 }, correlation, interface: iface }, ['percent']),
  driver: async () => (await import('./driver.js')).networkLoss,
});
