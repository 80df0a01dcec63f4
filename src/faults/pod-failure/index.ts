// pod-failure: every container of the chosen pods runs a pause image until revert.
import { defineFault } from '../definition.js';
import { obj } from '../schema-parts.js';

export const podFailure = defineFault({
  type: 'pod-failure',
  scope: 'pods',
  description: 'Runs a pause image in every container of the selected pods; revert restores the original images.',
  docs: 'every container and init container of the chosen pods runs a pause image (`registry.k8s.io/pause:3.9`); the pods stay; revert restores the original images, recorded in the ledger and on the pod',
  paramsSchema: obj({}),
  driver: async () => (await import('./driver.js')).podFailure,
});
