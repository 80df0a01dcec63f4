// memory-stress: stress-ng vm workers holding `size` in total.
import { defineFault } from '../definition.js';
import { STRESS } from '../inpod-needs.js';
import { MEMORY_SIZE_PATTERN, obj } from '../schema-parts.js';

export const memoryStress = defineFault({
  type: 'memory-stress',
  scope: 'pods',
  description: 'Allocates memory inside the selected pods\' cgroup (size in total, across the workers).',
  docs: '`stress-ng --vm` in the pod\'s cgroup; `size` is the total, split across the workers',
  injector: STRESS,
  paramsSchema: obj(
    {
      size: { type: 'string', pattern: MEMORY_SIZE_PATTERN, memoryMaxMi: 65536 },
      workers: { type: 'integer', minimum: 1, maximum: 16, default: 1 },
    },
    ['size'],
  ),
  driver: async () => (await import('./driver.js')).memoryStress,
});
