// container-kill: an ephemeral container joins the target container's PID namespace
// (targetContainerName) and signals its PID 1; the kubelet restarts the container.
// Caveat (kernel): inside a PID namespace, init only receives signals it has a handler for, so
// SIGTERM works for apps that handle it, while SIGKILL to PID 1 from within is dropped. The
// driver reports what it sent; the run record's probes/recovery show what actually happened.
import type { TargetRef } from '../runs/types.js';
import { ephemeralContainer, ephemeralContainerName, scriptCommand } from './inpod.js';
import { apis, RUN_ANNOTATION, strategicPatch } from './k8s.js';
import { FaultParamError, enumParam } from './params.js';
import type { FaultContext, FaultDriver } from './types.js';

/** $1 SIGNAL (KILL|TERM) */
export const CONTAINER_KILL_SCRIPT = 'kill -s "$1" 1';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function args(ctx: Pick<FaultContext, 'params'>): { container: string; signal: string } {
  const container = ctx.params.container;
  if (typeof container !== 'string' || !DNS_LABEL.test(container)) throw new FaultParamError('container', 'expected a container name (DNS-1123 label)');
  const signal = enumParam(ctx.params, 'signal', ['SIGKILL', 'SIGTERM'] as const, 'SIGKILL');
  return { container, signal: signal === 'SIGKILL' ? 'KILL' : 'TERM' };
}

export const containerKill: FaultDriver = {
  type: 'container-kill',
  async prepare(ctx) {
    const { container } = args(ctx);
    for (const p of ctx.targets.pods) {
      if (!p.containers.includes(container)) throw new Error(`pod ${p.namespace}/${p.name} has no container ${container} (has ${p.containers.join(', ')})`);
    }
    const touched: TargetRef[] = ctx.targets.pods.map((p) => ({
      kind: 'Pod', namespace: p.namespace, name: p.name, ...(p.owner ? { owner: `${p.owner.kind}/${p.owner.name}` } : {}),
    }));
    return {
      runId: ctx.runId, experiment: ctx.experiment, fault: 'container-kill', touched,
      revertData: { container, ephemeral: ephemeralContainerName(ctx.runId), pods: ctx.targets.pods.map((p) => ({ namespace: p.namespace, name: p.name, uid: p.uid })) },
      expiresAt: new Date().toISOString(),
    };
  },
  async inject(ctx) {
    const { container, signal } = args(ctx);
    const { core } = apis(ctx.kc);
    const command = scriptCommand(CONTAINER_KILL_SCRIPT, [signal]);
    for (const p of ctx.targets.pods) {
      const ec = ephemeralContainer({ runId: ctx.runId, image: ctx.injectorImage, targetContainer: container, command, netAdmin: false });
      // KILL capability is needed to signal a process of another user in the shared namespace.
      ec.securityContext = { allowPrivilegeEscalation: false, capabilities: { add: ['KILL'], drop: ['ALL'] } };
      await core.patchNamespacedPodEphemeralcontainers({ namespace: p.namespace, name: p.name, body: { spec: { ephemeralContainers: [ec] } } }, strategicPatch());
      await core.patchNamespacedPod({ namespace: p.namespace, name: p.name, body: { metadata: { annotations: { [RUN_ANNOTATION]: ctx.runId } } } }, strategicPatch())
        .catch((err: unknown) => ctx.log.warn({ err, pod: p.name }, 'could not annotate pod'));
      ctx.log.info({ pod: `${p.namespace}/${p.name}`, container, signal }, 'signal sent to container PID 1');
    }
  },
  async revert(_kc, injection, log) {
    log.info({ pods: injection.touched.length }, 'container-kill: nothing to revert (the kubelet restarts the container)');
  },
};
