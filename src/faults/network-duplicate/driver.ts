// network-duplicate: tc netem duplicate on the pod's interface, from an ephemeral container.
import { inPodDriver } from '../inpod.js';
import { TC_HANDLE, TC_UNDO, heldScript } from '../inpod-scripts.js';
import { interfaceParam, intParam, numberParam } from '../params.js';

/** network-duplicate: $4 IFACE, $5 DUPLICATE_PCT, $6 CORRELATION_PCT */
export const NETWORK_DUPLICATE_SCRIPT = heldScript(
  'IFACE="$1"; PCT="$2"; CORR="$3"',
  TC_UNDO,
  `tc qdisc add dev "$IFACE" root handle ${TC_HANDLE} netem duplicate "\${PCT}%" "\${CORR}%" 2>>"$ERR" || fail "tc qdisc add"`,
);

export const networkDuplicate = inPodDriver('network-duplicate', {
  script: NETWORK_DUPLICATE_SCRIPT,
  cleanable: true,
  refuseHostNetwork: true,
  args: ({ params }) => [interfaceParam(params), numberParam(params, 'percent', 0.1, 100), intParam(params, 'correlation', 0, 100, 0)],
});
