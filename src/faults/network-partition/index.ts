// network-partition: iptables DROP rules for the given CIDRs (and ports), in run-specific chains.
import { defineFault } from '../definition.js';
import { iface, obj } from '../schema-parts.js';

export const networkPartition = defineFault({
  type: 'network-partition',
  scope: 'pods',
  description: 'Cuts the selected pods off from the given CIDRs (and ports).',
  docs: 'iptables DROP rules for the given CIDRs/ports, in `FL-` chains',
  // iptables opens raw netlink/packet sockets (NET_RAW) besides changing rules (NET_ADMIN).
  injector: { capabilities: ['NET_ADMIN', 'NET_RAW'], runAsUser: 0, podSecurity: 'privileged' },
  paramsSchema: obj(
    {
      direction: { enum: ['egress', 'ingress', 'both'], default: 'both' },
      cidrs: { type: 'array', minItems: 1, maxItems: 32, items: { type: 'string', maxLength: 43, format: 'cidr' } },
      ports: { type: 'array', maxItems: 32, uniqueItems: true, items: { type: 'integer', minimum: 1, maximum: 65535 } },
      interface: iface,
    },
    ['cidrs'],
  ),
  driver: async () => (await import('./driver.js')).networkPartition,
});
