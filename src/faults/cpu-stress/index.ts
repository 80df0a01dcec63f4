// cpu-stress: stress-ng CPU workers in the pod's cgroup.
import { defineFault } from '../definition.js';
import { STRESS } from '../inpod-needs.js';
import { obj } from '../schema-parts.js';

export const cpuStress = defineFault({
  type: 'cpu-stress',
  scope: 'pods',
  description: 'Burns CPU inside the selected pods\' cgroup.',
  docs: '`stress-ng --cpu` in the pod\'s cgroup',
  injector: STRESS,
  paramsSchema: obj({
    workers: { type: 'integer', minimum: 1, maximum: 64, default: 1 },
    load: { type: 'integer', minimum: 1, maximum: 100, default: 100 },
  }),
  driver: async () => (await import('./driver.js')).cpuStress,
});
