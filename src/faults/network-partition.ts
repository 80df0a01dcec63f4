// network-partition: iptables DROP rules for the given CIDRs (and ports) in run-specific chains.
import { inPodDriver, NETWORK_PARTITION_SCRIPT } from './inpod.js';
import { shortRunId } from './k8s.js';
import { cidrsParam, durationSeconds, enumParam, interfaceParam, portsParam } from './params.js';

export const networkPartition = inPodDriver('network-partition', {
  script: NETWORK_PARTITION_SCRIPT,
  netAdmin: true,
  args: ({ params, durationMs, runId }) => [
    interfaceParam(params),
    enumParam(params, 'direction', ['egress', 'ingress', 'both'] as const, 'both'),
    durationSeconds(durationMs),
    portsParam(params),
    shortRunId(runId),
    ...cidrsParam(params),
  ],
});
