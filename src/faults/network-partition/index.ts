// network-partition: iptables DROP rules for the given CIDRs (and ports), in run-specific chains.
// The peers may be given as pods instead (or as well): a selector resolved to the pods' IPs when
// the run injects, recorded in the ledger with the rest of what the run applied.
import { defineFault } from '../definition.js';
import { DNS1123_LABEL_PATTERN, iface, obj } from '../schema-parts.js';

/** Peer pod IPs one run may cut: each is a rule per direction and port in every target pod. */
export const MAX_PEER_IPS = 256;

type Peers = { namespace?: string };

export const networkPartition = defineFault({
  type: 'network-partition',
  scope: 'pods',
  description: 'Cuts the selected pods off from the given CIDRs (and ports), or from the pods a peer selector picks.',
  docs: `iptables DROP rules for the given CIDRs/ports, in \`FL-\` chains. \`peers: {namespace, selector}\` cuts the pods off from other pods: the selector (and \`mode\`, as a target's, default all, chosen with the run's seed) is resolved to those pods' IPs when the run injects (at most ${MAX_PEER_IPS}), the IPs are recorded in the ledger and the run's timeline, and only the target pods get rules (the peers are read, never changed); a peer namespace that is protected refuses the run as a protected target namespace does. A peer that starts after injection is not cut`,
  // iptables opens raw netlink/packet sockets (NET_RAW) besides changing rules (NET_ADMIN).
  injector: { capabilities: ['NET_ADMIN', 'NET_RAW'], runAsUser: 0, podSecurity: 'privileged' },
  paramsSchema: obj({
    direction: { enum: ['egress', 'ingress', 'both'], default: 'both' },
    cidrs: { type: 'array', minItems: 1, maxItems: 32, items: { type: 'string', maxLength: 43, format: 'cidr' } },
    peers: obj(
      {
        namespace: { type: 'string', maxLength: 63, pattern: DNS1123_LABEL_PATTERN, description: 'namespace of the peer pods (default: the target namespace)' },
        selector: { $ref: '#/$defs/selector' },
        // which of the matching pods, as a target's mode (default all); chosen with the run's seed
        mode: obj({ type: { enum: ['one', 'all', 'fixed', 'percent'] }, value: { type: 'number', minimum: 1, maximum: 100000 } }, ['type']),
      },
      ['selector'],
    ),
    ports: { type: 'array', maxItems: 32, uniqueItems: true, items: { type: 'integer', minimum: 1, maximum: 65535 } },
    interface: iface,
  }),
  checkParams: (params) => {
    if (params.cidrs === undefined && params.peers === undefined) return [{ pointer: '', message: 'network-partition needs cidrs, peers, or both (what to cut the pods off from)' }];
    const mode = (params.peers as { mode?: { type: string; value?: number } } | undefined)?.mode;
    if (mode && (mode.type === 'fixed' || mode.type === 'percent') !== (mode.value !== undefined)) {
      return [{ pointer: '/peers/mode', message: mode.value === undefined ? `mode ${mode.type} needs a value` : `mode ${mode.type} takes no value` }];
    }
    if (mode?.type === 'percent' && mode.value! > 100) return [{ pointer: '/peers/mode/value', message: 'a percentage is at most 100' }];
    return [];
  },
  peerNamespaces: (params, targetNamespace) => (params.peers ? [(params.peers as Peers).namespace ?? targetNamespace] : []),
  driver: async () => (await import('./driver.js')).networkPartition,
});
