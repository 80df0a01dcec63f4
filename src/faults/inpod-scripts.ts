// The injector's shell protocol (busybox sh in deploy/agent), shared by the in-pod faults; each
// fault's own script is in its driver. Constant text: parameters arrive as positional arguments
// after strict validation, never inside the script.
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

/** A held fault's script: its variables, its undo (by name), its apply; then hold, watchdog, finish. */
export const heldScript = (vars: string, undo: string, apply: string): string =>
  `${COMMON}${vars}\nundo() {\n${undo}\n  true\n}\n${START}${apply}\n${HOLD}`;

/** Removes Faultline's root qdisc (by its handle) from $IFACE. */
export const TC_UNDO = `  tc qdisc show dev "$IFACE" 2>/dev/null | grep -q "^qdisc [a-z_]* ${TC_HANDLE} root" && tc qdisc del dev "$IFACE" root 2>>"$ERR"`;

// stress-ng ends by itself (--timeout), so a leftover needs no cleanup by name; it must start
// in a writable directory (--temp-path) and is checked to be alive before "applied".
export const STRESS_UNDO = '  [ -n "$STRESS" ] && kill "$STRESS" 2>/dev/null';
export const STRESS_STARTED = `STRESS=$!
sleep 1
kill -0 "$STRESS" 2>/dev/null || { wait "$STRESS"; STRESS=""; fail stress-ng; }`;

/** A one-shot script (over once applied): its variables and its action; no hold, no undo. */
export const oneShotScript = (vars: string, action: string): string => `${COMMON}${vars}
undo() { true; }
${START}${action}
trap - EXIT INT TERM HUP
report applied
`;

export const ABORT_COMMAND: readonly string[] = ['/bin/sh', '-c', `kill -TERM "$(cat ${PID_FILE})"`];
export const READ_RESULT_COMMAND: readonly string[] = ['cat', RESULT_FILE];
