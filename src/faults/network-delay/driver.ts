// network-delay: tc netem delay on the pod's interface, from an ephemeral container.
import { inPodDriver, NETWORK_DELAY_SCRIPT } from '../inpod.js';
import { durationMsParam, interfaceParam, intParam } from '../params.js';

export const networkDelay = inPodDriver('network-delay', {
  script: NETWORK_DELAY_SCRIPT,
  cleanable: true,
  refuseHostNetwork: true,
  args: ({ params }) => [
    interfaceParam(params),
    durationMsParam(params, 'latency', 1, 10_000),
    durationMsParam(params, 'jitter', 0, 10_000, '0ms'),
    intParam(params, 'correlation', 0, 100, 0),
  ],
});
