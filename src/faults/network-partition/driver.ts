// network-partition: iptables DROP rules for the given CIDRs (and ports) in run-specific chains.
import { inPodDriver, NETWORK_PARTITION_SCRIPT } from '../inpod.js';
import { shortRunId } from '../k8s.js';
import { cidrsParam, enumParam, interfaceParam, portsParam } from '../params.js';

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
