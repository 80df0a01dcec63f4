// cpu-stress: stress-ng CPU workers in the pod's cgroup, from an ephemeral container.
import { CPU_STRESS_SCRIPT, inPodDriver } from '../inpod.js';
import { intParam } from '../params.js';

export const cpuStress = inPodDriver('cpu-stress', {
  script: CPU_STRESS_SCRIPT,
  cleanable: false, // stress-ng ends by itself (--timeout)
  refuseHostNetwork: true,
  args: ({ params }) => [intParam(params, 'workers', 1, 64, 1), intParam(params, 'load', 1, 100, 100)],
});
