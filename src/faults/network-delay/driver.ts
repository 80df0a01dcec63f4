// network-delay: tc netem delay on the pod's interface, from an ephemeral container.
import { inPodDriver } from '../inpod.js';
import { TC_HANDLE, TC_UNDO, heldScript } from '../inpod-scripts.js';
import { durationMsParam, interfaceParam, intParam } from '../params.js';

/** network-delay: $4 IFACE, $5 DELAY_MS, $6 JITTER_MS, $7 CORRELATION_PCT */
export const NETWORK_DELAY_SCRIPT = heldScript(
  'IFACE="$1"; DELAY="$2"; JITTER="$3"; CORR="$4"',
  TC_UNDO,
  `tc qdisc add dev "$IFACE" root handle ${TC_HANDLE} netem delay "\${DELAY}ms" "\${JITTER}ms" "\${CORR}%" 2>>"$ERR" || fail "tc qdisc add"`,
);

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
