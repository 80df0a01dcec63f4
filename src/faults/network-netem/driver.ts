// network-netem: one tc netem qdisc with several effects, from an ephemeral container. The
// script builds tc's argument list with `set --` from fixed positional arguments ("-" for an
// effect not given): every value reaches tc as one argument, never as shell text.
import { inPodDriver } from '../inpod.js';
import { TC_HANDLE, TC_UNDO, heldScript } from '../inpod-scripts.js';
import { durationMsParam, interfaceParam, intParam, numberParam, rateKbitParam } from '../params.js';

/**
 * network-netem: $1 IFACE, $2 DELAY_MS, $3 JITTER_MS, $4 DELAY_CORR, $5 REORDER_PCT, $6 REORDER_CORR,
 * $7 LOSS_PCT, $8 LOSS_CORR, $9 CORRUPT_PCT, then (after shift) DUP_PCT, DUP_CORR, CORRUPT_CORR, RATE_KBIT
 */
export const NETWORK_NETEM_SCRIPT = heldScript(
  `IFACE="$1"; DELAY="$2"; JITTER="$3"; DCORR="$4"; REORDER="$5"; RCORR="$6"; LOSS="$7"; LCORR="$8"; CORRUPT="$9"
shift 9
DUP="$1"; DUPCORR="$2"; CCORR="$3"; RATE="$4"`,
  TC_UNDO,
  `set --
[ "$DELAY" = - ] || set -- "$@" delay "\${DELAY}ms" "\${JITTER}ms" "\${DCORR}%"
[ "$REORDER" = - ] || set -- "$@" reorder "\${REORDER}%" "\${RCORR}%"
[ "$LOSS" = - ] || set -- "$@" loss "\${LOSS}%" "\${LCORR}%"
[ "$CORRUPT" = - ] || set -- "$@" corrupt "\${CORRUPT}%" "\${CCORR}%"
[ "$DUP" = - ] || set -- "$@" duplicate "\${DUP}%" "\${DUPCORR}%"
[ "$RATE" = - ] || set -- "$@" rate "\${RATE}kbit"
tc qdisc add dev "$IFACE" root handle ${TC_HANDLE} netem "$@" 2>>"$ERR" || fail "tc qdisc add"`,
);

type Obj = Record<string, unknown>;
const ABSENT = '-';
const block = (params: Obj, name: string): Obj | undefined => {
  const v = params[name];
  return typeof v === 'object' && v !== null ? (v as Obj) : undefined;
};
/** percent and correlation of a share block, or "-" "-" when it is not given. */
const shareArgs = (b: Obj | undefined): [string, string] =>
  b ? [numberParam(b, 'percent', 0.1, 100), intParam(b, 'correlation', 0, 100, 0)] : [ABSENT, ABSENT];

/** The script's arguments after MODE, NOT_AFTER and DURATION (exported for tests). */
export function netemArgs(params: Obj): string[] {
  const delay = block(params, 'delay');
  const reorder = delay ? block(delay, 'reorder') : undefined;
  const [loss, lossCorr] = shareArgs(block(params, 'loss'));
  const [corrupt, corruptCorr] = shareArgs(block(params, 'corrupt'));
  const [dup, dupCorr] = shareArgs(block(params, 'duplicate'));
  const [re, reCorr] = shareArgs(reorder);
  const args = [
    interfaceParam(params),
    ...(delay ? [durationMsParam(delay, 'latency', 1, 10_000), durationMsParam(delay, 'jitter', 0, 10_000, '0ms'), intParam(delay, 'correlation', 0, 100, 0)] : [ABSENT, ABSENT, ABSENT]),
    re, reCorr, loss, lossCorr, corrupt, dup, dupCorr, corruptCorr,
    params.rate === undefined ? ABSENT : rateKbitParam(params),
  ];
  if (args.slice(1).every((a) => a === ABSENT)) throw new Error('network-netem needs at least one effect');
  return args;
}

export const networkNetem = inPodDriver('network-netem', {
  script: NETWORK_NETEM_SCRIPT,
  cleanable: true,
  refuseHostNetwork: true,
  args: ({ params }) => netemArgs(params),
});
