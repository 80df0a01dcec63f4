// container-kill: an injector joins the target container's PID namespace (targetContainerName)
// and sends SIGTERM to its PID 1, the container's main process. The run counts it only when the
// pod status shows the container restarted (restartCount went up).
// Kernel facts: a process inside a PID namespace cannot SIGKILL that namespace's init (dropped),
// and SIGTERM reaches it only if the app handles TERM; an app that ignores it is reported as not
// restarted, honestly. SIGKILL is refused by validate (see index.ts).
import { inPodDriver } from '../inpod.js';
import { oneShotScript } from '../inpod-scripts.js';
import { FaultParamError, enumParam } from '../params.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function container(params: Record<string, unknown>): string {
  const c = params.container;
  if (typeof c !== 'string' || !DNS_LABEL.test(c)) throw new FaultParamError('container', 'expected a container name (DNS-1123 label)');
  return c;
}

/**
 * container-kill: $4 SIGNAL. One shot: signal the target container's main process (PID 1 of the
 * PID namespace the injector joins through targetContainerName), report, exit. The controller
 * then checks the container's restartCount.
 */
export const CONTAINER_KILL_SCRIPT = oneShotScript('SIG="$1"', 'kill -s "$SIG" 1 2>>"$ERR" || fail kill');

export const containerKill = inPodDriver('container-kill', {
  script: CONTAINER_KILL_SCRIPT,
  cleanable: false,
  refuseHostNetwork: false,
  args: ({ params }) => {
    container(params);
    enumParam(params, 'signal', ['SIGTERM'] as const, 'SIGTERM');
    return ['TERM'];
  },
  targetContainer: ({ params }, containers) => {
    const c = container(params);
    if (!containers.includes(c)) throw new Error(`a target pod has no container ${c} (has ${containers.join(', ')})`);
    return c;
  },
  verify: (pod, data) => {
    const p = data.pods.find((x) => x.name === pod.metadata?.name && x.namespace === pod.metadata?.namespace);
    const st = pod.status?.containerStatuses?.find((c) => c.name === p?.target);
    if (!p || !st) return `container ${p?.target ?? '?'} has no status`;
    if ((st.restartCount ?? 0) > (p.restarts ?? 0)) return 'ok';
    return `pending: SIGTERM sent, but container ${p.target} has not restarted (restartCount still ${st.restartCount ?? 0}); its main process may ignore SIGTERM`;
  },
});
