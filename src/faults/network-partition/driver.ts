// network-partition: iptables DROP rules for the given CIDRs (and ports) in run-specific chains.
import { inPodDriver } from '../inpod.js';
import { heldScript } from '../inpod-scripts.js';
import { shortRunId } from '../k8s.js';
import { cidrsParam, enumParam, interfaceParam, portsParam } from '../params.js';

/** network-partition: $4 IFACE, $5 DIRECTION, $6 PORTS ("80,443" or "-"), $7 CHAIN SUFFIX, $8… CIDRs */
export const NETWORK_PARTITION_SCRIPT = heldScript(
  `IFACE="$1"; DIRECTION="$2"; PORTS="$3"; SUFFIX="$4"
shift 4
IN="FL-IN-$SUFFIX"; OUT="FL-OUT-$SUFFIX"; TABLES=""
chains() {
  case " $TABLES " in *" $1 "*) return 0;; esac
  TABLES="$TABLES $1"
  "$1" -w -N "$IN" 2>>"$ERR" && "$1" -w -N "$OUT" 2>>"$ERR" \\
    && "$1" -w -I INPUT -i "$IFACE" -j "$IN" 2>>"$ERR" && "$1" -w -I OUTPUT -o "$IFACE" -j "$OUT" 2>>"$ERR" || fail "$1 chains"
}
drop() {
  if [ "$PORTS" = "-" ]; then
    "$1" -w -A "$2" "$3" "$4" -j DROP 2>>"$ERR" || fail "$1 rule"
  else
    for p in $(echo "$PORTS" | tr ',' ' '); do
      for proto in tcp udp; do "$1" -w -A "$2" "$3" "$4" -p "$proto" --dport "$p" -j DROP 2>>"$ERR" || fail "$1 rule"; done
    done
  fi
}`,
  // every Faultline chain, of this run or an earlier one whose injector was killed
  `  for t in iptables ip6tables; do
    command -v "$t" >/dev/null 2>&1 || continue
    "$t" -w -S 2>/dev/null | grep -E '^-A (INPUT|OUTPUT) .*-j FL-(IN|OUT)-[0-9a-f]+$' | while read -r _ rule; do "$t" -w -D $rule 2>>"$ERR"; done
    "$t" -w -S 2>/dev/null | grep -E '^-N FL-(IN|OUT)-[0-9a-f]+$' | while read -r _ c; do "$t" -w -F "$c" 2>>"$ERR"; "$t" -w -X "$c" 2>>"$ERR"; done
  done`,
  `for c in "$@"; do
  case "$c" in *:*) t=ip6tables;; *) t=iptables;; esac
  chains "$t"
  case "$DIRECTION" in egress|both) drop "$t" "$OUT" -d "$c";; esac
  case "$DIRECTION" in ingress|both) drop "$t" "$IN" -s "$c";; esac
done`,
);

export const networkPartition = inPodDriver('network-partition', {
  script: NETWORK_PARTITION_SCRIPT,
  cleanable: true,
  refuseHostNetwork: true,
  args: ({ params, runId }) => [
    interfaceParam(params),
    enumParam(params, 'direction', ['egress', 'ingress', 'both'] as const, 'both'),
    portsParam(params),
    shortRunId(runId),
    ...cidrsParam(params),
  ],
});
