// network-corrupt: tc netem corrupt on the pod's interface, from an ephemeral container.
import { inPodDriver, NETWORK_CORRUPT_SCRIPT } from '../inpod.js';
import { interfaceParam, intParam, numberParam } from '../params.js';

export const networkCorrupt = inPodDriver('network-corrupt', {
  script: NETWORK_CORRUPT_SCRIPT,
  cleanable: true,
  refuseHostNetwork: true,
  args: ({ params }) => [interfaceParam(params), numberParam(params, 'percent', 0.1, 100), intParam(params, 'correlation', 0, 100, 0)],
});
