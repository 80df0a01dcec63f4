// pod-kill: deletes the chosen pods; their controllers recreate them.
import { defineFault } from '../definition.js';
import { obj } from '../schema-parts.js';

export const podKill = defineFault({
  type: 'pod-kill',
  scope: 'pods',
  description: 'Deletes the selected pods; their controllers recreate them.',
  paramsSchema: obj({ gracePeriodSeconds: { type: 'integer', minimum: 0, maximum: 3600, default: 0 } }),
  // Killed pods must be gone before their workload counts as recovered.
  instant: { replacesPods: true },
  driver: async () => (await import('./driver.js')).podKill,
});
