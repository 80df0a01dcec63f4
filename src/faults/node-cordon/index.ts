// node-cordon: cordons the nodes running the chosen pods; revert uncordons those it cordoned.
import { defineFault } from '../definition.js';
import { obj } from '../schema-parts.js';

export const nodeCordon = defineFault({
  type: 'node-cordon',
  scope: 'node',
  description: 'Cordons the nodes running the selected pods; revert uncordons them.',
  docs: 'cordons the nodes running the chosen pods; only those Faultline cordoned are uncordoned',
  paramsSchema: obj({}),
  driver: async () => (await import('./driver.js')).nodeCordon,
});
