// memory-stress: stress-ng vm workers holding `size` in total (stress-ng splits --vm-bytes across them).
import { inPodDriver, MEMORY_STRESS_SCRIPT } from '../inpod.js';
import { intParam, memoryMiParam } from '../params.js';

export const memoryStress = inPodDriver('memory-stress', {
  script: MEMORY_STRESS_SCRIPT,
  cleanable: false, // stress-ng ends by itself (--timeout)
  refuseHostNetwork: true,
  args: ({ params }) => [intParam(params, 'workers', 1, 16, 1), String(memoryMiParam(params))],
});
