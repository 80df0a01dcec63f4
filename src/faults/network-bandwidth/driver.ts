// network-bandwidth: a tc token bucket (tbf) on the pod's interface, from an ephemeral container.
// The rate is passed to tc as a whole number of kbit/s, computed here from the validated text.
import { inPodDriver } from '../inpod.js';
import { TC_HANDLE, TC_UNDO, heldScript } from '../inpod-scripts.js';
import { FaultParamError, interfaceParam, intParam } from '../params.js';

// tc's units: bit = bits per second, bps = bytes per second.
const BITS_PER_UNIT: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9 };

export function rateKbit(params: Record<string, unknown>): string {
  const m = typeof params.rate === 'string' ? /^([1-9][0-9]{0,9})(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$/.exec(params.rate) : null;
  const kbit = m ? (Number(m[1]) * BITS_PER_UNIT[m[2]!]!) / 1000 : NaN;
  if (!Number.isInteger(kbit) || kbit < 1 || kbit > 100_000_000) throw new FaultParamError('rate', `must be a whole number of kbit/s from 1kbit to 100gbit, not ${JSON.stringify(params.rate)}`);
  return String(kbit);
}

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
