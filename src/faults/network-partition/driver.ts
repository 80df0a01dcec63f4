// network-partition: iptables DROP rules for the given CIDRs (and ports) in run-specific chains.
import { chooseSeeded, countForMode } from '../../cluster/choose.js';
import { selectorToString } from '../../cluster/selector.js';
import type { LabelSelector, TargetMode } from '../../experiments/model.js';
import { inPodDriver } from '../inpod.js';
import { heldScript } from '../inpod-scripts.js';
import { apis, shortRunId } from '../k8s.js';
import { cidr, cidrsParam, enumParam, FaultParamError, interfaceParam, portsParam } from '../params.js';
import type { FaultContext } from '../types.js';
import { MAX_PEER_IPS } from './index.js';

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
    ...(params.cidrs === undefined ? [] : cidrsParam(params)),
  ],
  resolve: resolvePeers,
});

export interface ResolvedPeers {
  namespace: string;
  selector: string;
  pods: { name: string; ips: string[] }[];
  of?: number; // running pods the mode chose among (absent for mode all)
}

/**
 * peers → the IPs of the running pods the selector picks now, as /32 (/128) CIDRs after the
 * others. A selector that picks no pod with an IP refuses the run: there would be nothing to cut.
 */
async function resolvePeers(ctx: FaultContext): Promise<{ args: string[]; record: Record<string, unknown>; note: string } | undefined> {
  const peers = ctx.params.peers as { namespace?: string; selector?: LabelSelector; mode?: TargetMode } | undefined;
  if (!peers) {
    if (ctx.params.cidrs === undefined) throw new FaultParamError('cidrs', 'network-partition needs cidrs or peers');
    return undefined;
  }
  const namespace = peers.namespace ?? ctx.namespace;
  if (!namespace) throw new FaultParamError('peers.namespace', 'no namespace for the peers');
  const selector = selectorToString(peers.selector ?? {});
  const list = await apis(ctx.kc).core.listNamespacedPod({ namespace, labelSelector: selector });
  const running = list.items
    .filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running')
    .map((p) => ({ name: p.metadata!.name!, ips: (p.status?.podIPs?.map((x) => x.ip) ?? [p.status?.podIP]).filter((ip): ip is string => !!ip) }))
    .filter((p) => p.ips.length > 0)
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  // the mode picks among them as a target's mode picks pods, reproducibly with the run's seed
  const mode = peers.mode ?? { type: 'all' };
  const pods = mode.type === 'all' ? running : chooseSeeded(running, countForMode(mode, running.length), ctx.targets.seed).sort((a, b) => (a.name < b.name ? -1 : 1));
  const ips = [...new Set(pods.flatMap((p) => p.ips))];
  const where = `peers ${namespace}/${selector || '(every pod)'}`;
  if (ips.length === 0) throw new Error(`${where} picks no running pod with an IP: nothing to cut the targets off from`);
  if (ips.length > MAX_PEER_IPS) throw new Error(`${where} picks ${ips.length} pod IPs, over the ${MAX_PEER_IPS} one run may cut`);
  const args = ips.map((ip, i) => cidr(ip.includes(':') ? `${ip}/128` : `${ip}/32`, `peers[${i}]`));
  const record: ResolvedPeers = { namespace, selector, pods, ...(mode.type === 'all' ? {} : { of: running.length }) };
  ctx.log.info({ peers: pods.map((p) => `${p.name}=${p.ips.join('/')}`), namespace }, 'partition peers resolved');
  const chose = mode.type === 'all' ? '' : ` (mode ${mode.type}${'value' in mode ? ` ${mode.value}` : ''}: ${pods.length} of ${running.length})`;
  return { args, record: { peers: record }, note: `${where}${chose} resolved to ${pods.map((p) => `${p.name} ${p.ips.join(' ')}`).join(', ')}` };
}
