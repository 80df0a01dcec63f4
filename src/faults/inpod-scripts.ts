// The injector's shell scripts (busybox sh in deploy/agent). Constant text: parameters arrive as
// positional arguments after strict validation, never inside the script.
//
// Every script takes the same first three arguments: $1 MODE (apply | clean), $2 NOT_AFTER (epoch
// seconds: an injector that starts later than this refuses to apply, so a slow image pull cannot
// inject after the run has given up), $3 DURATION (seconds). Then the fault's own arguments.
//
// Protocol (read by the controller): the script writes one line to RESULT_FILE, which is also the
// container's terminationMessagePath: "starting", then "applied" or "failed: <step>: <tool's own
// error>", finally "reverted". Exit 0 after a clean revert, 3 after a failure (cleaned up).
// Anything else (137: SIGKILL) means the cleanup may not have run: revert starts a cleanup
// container (MODE=clean), which removes leftovers by name.
//
// Expiry that survives kill -9 of the main shell: a watchdog subshell (its own process, which the
// kernel keeps when its parent dies) sleeps DURATION+3 s and then undoes the fault. The main shell
// ends it on a normal finish. Caveat: containerd kills every process of a container whose main
// process died when the container has no PID namespace of its own, which is the case with
// targetContainerName; there the revert's cleanup container does the undo.

export const RESULT_FILE = '/tmp/faultline.result';
export const PID_FILE = '/tmp/faultline.pid';
/** tc handle of Faultline's root qdisc: how a leftover is found by name. */
export const TC_HANDLE = 'fa17:';
/** Seconds the watchdog waits beyond DURATION before it undoes the fault itself. */
export const WATCHDOG_GRACE_S = 3;

const COMMON = `set -u
set -f
MODE="$1"; NOT_AFTER="$2"; DURATION="$3"
shift 3
RESULT=${RESULT_FILE}
ERR=/tmp/faultline.err
HOLD=""; WATCHDOG=""
: > "$ERR"
report() { printf '%s\\n' "$*" > "$RESULT"; echo "faultline: $*"; }
finish() {
  trap - EXIT INT TERM HUP
  [ -n "$HOLD" ] && kill "$HOLD" 2>/dev/null
  [ -n "$WATCHDOG" ] && kill "$WATCHDOG" 2>/dev/null
  undo
  report reverted
  exit 0
}
fail() {
  trap - EXIT INT TERM HUP
  WHY=$(tail -n 3 "$ERR" 2>/dev/null | tr '\\n' ' ')
  cat "$ERR" >&2
  undo
  report "failed: $1: \${WHY:-no error output}"
  exit 3
}
`;

const START = `echo $$ > ${PID_FILE}
trap finish EXIT INT TERM HUP
report starting
undo
if [ "$MODE" = clean ]; then finish; fi
[ "$(date +%s)" -le "$NOT_AFTER" ] || { echo "started after the run's start deadline $NOT_AFTER" > "$ERR"; fail start; }
`;

const HOLD = `report applied
( trap 'kill "$W" 2>/dev/null; exit 0' TERM
  sleep "$((DURATION + ${WATCHDOG_GRACE_S}))" & W=$!
  wait "$W" && { undo; report reverted; } ) &
WATCHDOG=$!
sleep "$DURATION" &
HOLD=$!
wait "$HOLD"
finish
`;

const script = (vars: string, undo: string, apply: string): string =>
  `${COMMON}${vars}\nundo() {\n${undo}\n  true\n}\n${START}${apply}\n${HOLD}`;

const tcUndo = `  tc qdisc show dev "$IFACE" 2>/dev/null | grep -q "^qdisc [a-z_]* ${TC_HANDLE} root" && tc qdisc del dev "$IFACE" root 2>>"$ERR"`;

/** network-delay: $4 IFACE, $5 DELAY_MS, $6 JITTER_MS, $7 CORRELATION_PCT */
export const NETWORK_DELAY_SCRIPT = script(
  'IFACE="$1"; DELAY="$2"; JITTER="$3"; CORR="$4"',
  tcUndo,
  `tc qdisc add dev "$IFACE" root handle ${TC_HANDLE} netem delay "\${DELAY}ms" "\${JITTER}ms" "\${CORR}%" 2>>"$ERR" || fail "tc qdisc add"`,
);

/** network-loss: $4 IFACE, $5 LOSS_PCT, $6 CORRELATION_PCT */
export const NETWORK_LOSS_SCRIPT = script(
  'IFACE="$1"; LOSS="$2"; CORR="$3"',
  tcUndo,
  `tc qdisc add dev "$IFACE" root handle ${TC_HANDLE} netem loss "\${LOSS}%" "\${CORR}%" 2>>"$ERR" || fail "tc qdisc add"`,
);

/** network-corrupt: $4 IFACE, $5 CORRUPT_PCT, $6 CORRELATION_PCT */
export const NETWORK_CORRUPT_SCRIPT = script(
  'IFACE="$1"; PCT="$2"; CORR="$3"',
  tcUndo,
  `tc qdisc add dev "$IFACE" root handle ${TC_HANDLE} netem corrupt "\${PCT}%" "\${CORR}%" 2>>"$ERR" || fail "tc qdisc add"`,
);

/** network-duplicate: $4 IFACE, $5 DUPLICATE_PCT, $6 CORRELATION_PCT */
export const NETWORK_DUPLICATE_SCRIPT = script(
  'IFACE="$1"; PCT="$2"; CORR="$3"',
  tcUndo,
  `tc qdisc add dev "$IFACE" root handle ${TC_HANDLE} netem duplicate "\${PCT}%" "\${CORR}%" 2>>"$ERR" || fail "tc qdisc add"`,
);

/** network-bandwidth (tbf): $4 IFACE, $5 RATE_KBIT, $6 BURST_BYTES, $7 LIMIT_BYTES */
export const NETWORK_BANDWIDTH_SCRIPT = script(
  'IFACE="$1"; RATE="$2"; BURST="$3"; LIMIT="$4"',
  tcUndo,
  `tc qdisc add dev "$IFACE" root handle ${TC_HANDLE} tbf rate "\${RATE}kbit" burst "$BURST" limit "$LIMIT" 2>>"$ERR" || fail "tc qdisc add"`,
);

/** network-partition: $4 IFACE, $5 DIRECTION, $6 PORTS ("80,443" or "-"), $7 CHAIN SUFFIX, $8… CIDRs */
export const NETWORK_PARTITION_SCRIPT = script(
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

// stress-ng ends by itself (--timeout), so a leftover needs no cleanup by name; it must start
// in a writable directory (--temp-path) and is checked to be alive before "applied".
const stressUndo = '  [ -n "$STRESS" ] && kill "$STRESS" 2>/dev/null';
const stressStarted = `STRESS=$!
sleep 1
kill -0 "$STRESS" 2>/dev/null || { wait "$STRESS"; STRESS=""; fail stress-ng; }`;

/** cpu-stress: $4 WORKERS, $5 LOAD_PCT */
export const CPU_STRESS_SCRIPT = script(
  'WORKERS="$1"; LOAD="$2"; STRESS=""',
  stressUndo,
  `stress-ng --temp-path /tmp --cpu "$WORKERS" --cpu-load "$LOAD" --timeout "\${DURATION}s" 2>>"$ERR" &
${stressStarted}`,
);

/** memory-stress: $4 WORKERS, $5 MiB in total (stress-ng splits --vm-bytes across its workers) */
export const MEMORY_STRESS_SCRIPT = script(
  'WORKERS="$1"; SIZE="$2"; STRESS=""',
  stressUndo,
  `stress-ng --temp-path /tmp --vm "$WORKERS" --vm-bytes "\${SIZE}m" --vm-keep --timeout "\${DURATION}s" 2>>"$ERR" &
${stressStarted}`,
);

/**
 * container-kill: $4 SIGNAL. One shot: signal the target container's main process (PID 1 of the
 * PID namespace the injector joins through targetContainerName), report, exit. The controller
 * then checks the container's restartCount.
 */
export const CONTAINER_KILL_SCRIPT = `${COMMON}SIG="$1"
undo() { true; }
${START}kill -s "$SIG" 1 2>>"$ERR" || fail kill
trap - EXIT INT TERM HUP
report applied
`;

export const ABORT_COMMAND: readonly string[] = ['/bin/sh', '-c', `kill -TERM "$(cat ${PID_FILE})"`];
export const READ_RESULT_COMMAND: readonly string[] = ['cat', RESULT_FILE];
