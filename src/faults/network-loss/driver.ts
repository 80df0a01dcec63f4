// network-loss: tc netem loss on the pod's interface, from an ephemeral container.
import { inPodDriver, NETWORK_LOSS_SCRIPT } from '../inpod.js';
import { interfaceParam, intParam, numberParam } from '../params.js';

export const networkLoss = inPodDriver('network-loss', {
  script: NETWORK_LOSS_SCRIPT,
  cleanable: true,
  refuseHostNetwork: true,
  args: ({ params }) => [
    interfaceParam(params),
    numberParam(params, 'percent', 0.1, 100),
    intParam(params, 'correlation', 0, 100, 0),
  ],
});
