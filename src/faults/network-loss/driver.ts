// network-loss: tc netem loss on the pod's interface, from an ephemeral container.
import { inPodDriver } from '../inpod.js';
import { TC_HANDLE, TC_UNDO, heldScript } from '../inpod-scripts.js';
import { interfaceParam, intParam, numberParam } from '../params.js';

/** network-loss: $4 IFACE, $5 LOSS_PCT, $6 CORRELATION_PCT */
export const NETWORK_LOSS_SCRIPT = heldScript(
  'IFACE="$1"; LOSS="$2"; CORR="$3"',
  TC_UNDO,
  `tc qdisc add dev "$IFACE" root handle ${TC_HANDLE} netem loss "\${LOSS}%" "\${CORR}%" 2>>"$ERR" || fail "tc qdisc add"`,
);

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
