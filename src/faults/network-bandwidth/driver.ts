// network-bandwidth: a tc token bucket (tbf) on the pod's interface, from an ephemeral container.
// The rate is passed to tc as a whole number of kbit/s, computed here from the validated text.
import { inPodDriver } from '../inpod.js';
import { TC_HANDLE, TC_UNDO, heldScript } from '../inpod-scripts.js';
import { interfaceParam, intParam, rateKbitParam } from '../params.js';

/** The rate as whole kbit/s (the shared tc-units check, params.ts). */
export const rateKbit = (params: Record<string, unknown>): string => rateKbitParam(params);

/** network-bandwidth (tbf): $4 IFACE, $5 RATE_KBIT, $6 BURST_BYTES, $7 LIMIT_BYTES */
export const NETWORK_BANDWIDTH_SCRIPT = heldScript(
  'IFACE="$1"; RATE="$2"; BURST="$3"; LIMIT="$4"',
  TC_UNDO,
  `tc qdisc add dev "$IFACE" root handle ${TC_HANDLE} tbf rate "\${RATE}kbit" burst "$BURST" limit "$LIMIT" 2>>"$ERR" || fail "tc qdisc add"`,
);

export const networkBandwidth = inPodDriver('network-bandwidth', {
  script: NETWORK_BANDWIDTH_SCRIPT,
  cleanable: true,
  refuseHostNetwork: true,
  args: ({ params }) => [
    interfaceParam(params),
    rateKbit(params),
    intParam(params, 'buffer', 1600, 1_073_741_824, 32_768),
    intParam(params, 'limit', 1600, 1_073_741_824, 1_048_576),
  ],
});
