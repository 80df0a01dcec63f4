// In-pod faults run in an ephemeral container added to each target pod: it shares the pod's
// network namespace and cgroup, brings its own tools (the injector image), and arms its own
// expiry, so a dead controller cannot leave tc rules, iptables rules or stress behind.
//
// The command is an argv array: ['/bin/sh', '-c', SCRIPT, 'faultline', ...args]. SCRIPT is a
// constant of this file (nothing is ever interpolated into it); the parameters arrive as $1, $2…
// after strict validation in TypeScript, and every argument must also match SAFE_ARG_RE.
//
// Abort: the script writes its PID to /tmp/faultline.pid in its own filesystem; an exec into the
// ephemeral container sends it TERM, the trap cleans up. (Not `kill 1`: with targetContainerName
// the container joins the app's PID namespace, where PID 1 is the application.)
import type { V1EphemeralContainer, V1Pod } from '@kubernetes/client-node';
import type { FaultType } from '../experiments/model.js';
import type { TargetRef } from '../runs/types.js';
import { apis, execIn, isNotFound, RUN_ANNOTATION, shortRunId, strategicPatch } from './k8s.js';
import { SAFE_ARG_RE } from './params.js';
import type { FaultContext, FaultDriver } from './types.js';

export const SCRIPT_ARGV0 = 'faultline';
export const PID_FILE = '/tmp/faultline.pid';
export const ABORT_COMMAND: readonly string[] = ['/bin/sh', '-c', 'kill -TERM "$(cat /tmp/faultline.pid)"'];

// Shared prologue: PID file, traps, and a sleeper that ends the fault when the duration is over.
const PROLOGUE = `set -u
echo $$ > /tmp/faultline.pid
SLEEPER=""
trap cleanup EXIT
trap 'exit 143' INT TERM HUP
`;
const EPILOGUE = `sleep "$DURATION" &
SLEEPER=$!
wait "$SLEEPER"
`;
const stopSleeper = `[ -n "$SLEEPER" ] && kill "$SLEEPER" 2>/dev/null`;

/** $1 IFACE, $2 DELAY_MS, $3 JITTER_MS, $4 CORRELATION_PCT, $5 DURATION_S */
export const NETWORK_DELAY_SCRIPT = `IFACE="$1"; DELAY="$2"; JITTER="$3"; CORR="$4"; DURATION="$5"
APPLIED=""
cleanup() {
  trap - EXIT INT TERM HUP
  ${stopSleeper}
  [ -n "$APPLIED" ] && tc qdisc del dev "$IFACE" root netem
  true
}
${PROLOGUE}tc qdisc add dev "$IFACE" root netem delay "\${DELAY}ms" "\${JITTER}ms" "\${CORR}%" || exit 1
APPLIED=1
${EPILOGUE}`;

/** $1 IFACE, $2 LOSS_PCT, $3 CORRELATION_PCT, $4 DURATION_S */
export const NETWORK_LOSS_SCRIPT = `IFACE="$1"; LOSS="$2"; CORR="$3"; DURATION="$4"
APPLIED=""
cleanup() {
  trap - EXIT INT TERM HUP
  ${stopSleeper}
  [ -n "$APPLIED" ] && tc qdisc del dev "$IFACE" root netem
  true
}
${PROLOGUE}tc qdisc add dev "$IFACE" root netem loss "\${LOSS}%" "\${CORR}%" || exit 1
APPLIED=1
${EPILOGUE}`;

/** $1 IFACE, $2 DIRECTION, $3 DURATION_S, $4 PORTS ("80,443" or "-"), $5 CHAIN SUFFIX, $6… CIDRs */
export const NETWORK_PARTITION_SCRIPT = `IFACE="$1"; DIRECTION="$2"; DURATION="$3"; PORTS="$4"; SUFFIX="$5"
shift 5
IN="FL-IN-$SUFFIX"; OUT="FL-OUT-$SUFFIX"; TABLES=""
cleanup() {
  trap - EXIT INT TERM HUP
  ${stopSleeper}
  for t in $TABLES; do
    "$t" -D INPUT -i "$IFACE" -j "$IN" 2>/dev/null
    "$t" -D OUTPUT -o "$IFACE" -j "$OUT" 2>/dev/null
    "$t" -F "$IN" 2>/dev/null; "$t" -X "$IN" 2>/dev/null
    "$t" -F "$OUT" 2>/dev/null; "$t" -X "$OUT" 2>/dev/null
  done
  true
}
chains() {
  case " $TABLES " in *" $1 "*) return 0;; esac
  TABLES="$TABLES $1"
  "$1" -N "$IN" || exit 1
  "$1" -N "$OUT" || exit 1
  "$1" -I INPUT -i "$IFACE" -j "$IN" || exit 1
  "$1" -I OUTPUT -o "$IFACE" -j "$OUT" || exit 1
}
drop() {
  if [ "$PORTS" = "-" ]; then
    "$1" -A "$2" "$3" "$4" -j DROP || exit 1
  else
    for p in $(echo "$PORTS" | tr ',' ' '); do
      for proto in tcp udp; do "$1" -A "$2" "$3" "$4" -p "$proto" --dport "$p" -j DROP || exit 1; done
    done
  fi
}
${PROLOGUE}for c in "$@"; do
  case "$c" in *:*) t=ip6tables;; *) t=iptables;; esac
  chains "$t"
  case "$DIRECTION" in egress|both) drop "$t" "$OUT" -d "$c";; esac
  case "$DIRECTION" in ingress|both) drop "$t" "$IN" -s "$c";; esac
done
${EPILOGUE}`;

const stressCleanup = `STRESS=""
cleanup() {
  trap - EXIT INT TERM HUP
  ${stopSleeper}
  [ -n "$STRESS" ] && kill "$STRESS" 2>/dev/null
  true
}`;

/** $1 WORKERS, $2 LOAD_PCT, $3 DURATION_S */
export const CPU_STRESS_SCRIPT = `WORKERS="$1"; LOAD="$2"; DURATION="$3"
${stressCleanup}
${PROLOGUE}stress-ng --cpu "$WORKERS" --cpu-load "$LOAD" --timeout "\${DURATION}s" &
STRESS=$!
${EPILOGUE}`;

/** $1 WORKERS, $2 MiB PER WORKER, $3 DURATION_S */
export const MEMORY_STRESS_SCRIPT = `WORKERS="$1"; SIZE="$2"; DURATION="$3"
${stressCleanup}
${PROLOGUE}stress-ng --vm "$WORKERS" --vm-bytes "\${SIZE}m" --vm-keep --timeout "\${DURATION}s" &
STRESS=$!
${EPILOGUE}`;

/** The argv of an injected container: a constant script and validated positional arguments. */
export function scriptCommand(script: string, args: string[]): string[] {
  for (const a of args) {
    if (!SAFE_ARG_RE.test(a)) throw new Error(`refusing to build a command with argument ${JSON.stringify(a).slice(0, 60)}`);
  }
  return ['/bin/sh', '-c', script, SCRIPT_ARGV0, ...args];
}

export interface InPodSpec {
  script: string;
  /** Validated positional arguments (throws on bad params). */
  args(ctx: Pick<FaultContext, 'params' | 'durationMs' | 'runId'>): string[];
  netAdmin: boolean;
}

interface InPodRevertData extends Record<string, unknown> {
  container: string;
  pods: { namespace: string; name: string; uid: string }[];
}

export function ephemeralContainerName(runId: string): string {
  return `faultline-${shortRunId(runId)}`;
}

/** The ephemeral container spec for a fault (exported for tests and `faultline plan`). */
export function ephemeralContainer(opts: { runId: string; image: string; targetContainer: string; command: string[]; netAdmin: boolean }): V1EphemeralContainer {
  return {
    name: ephemeralContainerName(opts.runId),
    image: opts.image,
    command: opts.command,
    targetContainerName: opts.targetContainer,
    imagePullPolicy: 'IfNotPresent',
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { add: opts.netAdmin ? ['NET_ADMIN'] : [], drop: ['ALL'] },
    },
  };
}

export function inPodDriver(type: FaultType, spec: InPodSpec): FaultDriver {
  return {
    type,
    async prepare(ctx) {
      const args = spec.args(ctx); // validate before anything is recorded
      scriptCommand(spec.script, args);
      const pods = ctx.targets.pods.map((p) => ({ namespace: p.namespace, name: p.name, uid: p.uid }));
      const touched: TargetRef[] = ctx.targets.pods.map((p) => ({
        kind: 'Pod', namespace: p.namespace, name: p.name, ...(p.owner ? { owner: `${p.owner.kind}/${p.owner.name}` } : {}),
      }));
      const revertData: InPodRevertData = { container: ephemeralContainerName(ctx.runId), pods };
      return {
        runId: ctx.runId, experiment: ctx.experiment, fault: type, touched, revertData,
        expiresAt: new Date(Date.now() + ctx.durationMs + 60_000).toISOString(),
      };
    },
    async inject(ctx, _injection) {
      const { core } = apis(ctx.kc);
      const command = scriptCommand(spec.script, spec.args(ctx));
      for (const target of ctx.targets.pods) {
        const app = target.containers[0];
        if (!app) throw new Error(`pod ${target.namespace}/${target.name} has no containers`);
        const container = ephemeralContainer({ runId: ctx.runId, image: ctx.injectorImage, targetContainer: app, command, netAdmin: spec.netAdmin });
        const pod = await core.readNamespacedPod({ namespace: target.namespace, name: target.name });
        if (pod.metadata?.uid !== target.uid) throw new Error(`pod ${target.namespace}/${target.name} was replaced before injection`);
        await core.patchNamespacedPodEphemeralcontainers(
          { namespace: target.namespace, name: target.name, body: { spec: { ephemeralContainers: [container] } } },
          strategicPatch(),
        );
        await core.patchNamespacedPod(
          { namespace: target.namespace, name: target.name, body: { metadata: { annotations: { [RUN_ANNOTATION]: ctx.runId } } } },
          strategicPatch(),
        ).catch((err: unknown) => ctx.log.warn({ err, pod: target.name }, 'could not annotate pod'));
        ctx.log.info({ pod: `${target.namespace}/${target.name}`, container: container.name, fault: type }, 'ephemeral fault container added');
      }
    },
    async revert(kc, injection, log) {
      const data = injection.revertData as InPodRevertData;
      const { core } = apis(kc);
      for (const p of data.pods) {
        let pod: V1Pod;
        try {
          pod = await core.readNamespacedPod({ namespace: p.namespace, name: p.name });
        } catch (err) {
          if (isNotFound(err)) continue; // the pod is gone, and its fault with it
          throw err;
        }
        if (pod.metadata?.uid !== p.uid) continue;
        const st = pod.status?.ephemeralContainerStatuses?.find((c) => c.name === data.container);
        const added = pod.spec?.ephemeralContainers?.some((c) => c.name === data.container);
        if (added && (!st || st.state?.running || st.state?.waiting)) {
          if (st?.state?.running) {
            const r = await execIn(kc, p.namespace, p.name, data.container, [...ABORT_COMMAND]);
            if (!r.ok) throw new Error(`abort in ${p.namespace}/${p.name}/${data.container} failed: ${r.status.message ?? r.stderr}`);
            log.info({ pod: `${p.namespace}/${p.name}`, container: data.container }, 'ephemeral fault container ended early');
          } else {
            // not started yet: it will expire on its own; say so rather than pretend
            log.warn({ pod: `${p.namespace}/${p.name}`, container: data.container }, 'fault container not running yet; it expires on its own');
          }
        }
        if (pod.metadata?.annotations?.[RUN_ANNOTATION] === injection.runId) {
          await core.patchNamespacedPod(
            { namespace: p.namespace, name: p.name, body: { metadata: { annotations: { [RUN_ANNOTATION]: null } } } },
            strategicPatch(),
          ).catch((err: unknown) => { if (!isNotFound(err)) throw err; });
        }
      }
    },
  };
}
