// network-corrupt: tc netem corrupt on the pod's interface, from an ephemeral container.
import { inPodDriver } from '../inpod.js';
import { TC_HANDLE, TC_UNDO, heldScript } from '../inpod-scripts.js';
import { interfaceParam, intParam, numberParam } from '../params.js';

/** network-corrupt: $4 IFACE, $5 CORRUPT_PCT, $6 CORRELATION_PCT */
export const NETWORK_CORRUPT_SCRIPT = heldScript(
  'IFACE="$1"; PCT="$2"; CORR="$3"',
  TC_UNDO,
  `tc qdisc add dev "$IFACE" root handle ${TC_HANDLE} netem corrupt "\${PCT}%" "\${CORR}%" 2>>"$ERR" || fail "tc qdisc add"`,
);

export const networkCorrupt = inPodDriver('network-corrupt', {
  script: NETWORK_CORRUPT_SCRIPT,
  cleanable: true,
  refuseHostNetwork: true,
  args: ({ params }) => [interfaceParam(params), numberParam(params, 'percent', 0.1, 100), intParam(params, 'correlation', 0, 100, 0)],
});
