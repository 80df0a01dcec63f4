// network-netem: one tc netem qdisc combining delay (with reorder), loss, corrupt, duplicate and
// a rate on the pod's interface: what Chaos Mesh's netem action does in one go.
import { defineFault } from '../definition.js';
import { NET_TC } from '../inpod-needs.js';
import { BANDWIDTH_RATE_PATTERN, correlation, duration, iface, obj } from '../schema-parts.js';

const share = (what: string) => obj({ percent: { type: 'number', minimum: 0.1, maximum: 100, description: `share of packets ${what}` }, correlation }, ['percent']);
export const NETEM_EFFECTS = ['delay', 'loss', 'corrupt', 'duplicate', 'rate'] as const;

export const networkNetem = defineFault({
  type: 'network-netem',
  scope: 'pods',
  description: 'Shapes the selected pods\' outgoing traffic with several netem effects at once (delay, reorder, loss, corrupt, duplicate, rate).',
  docs: 'one `tc netem` qdisc with every effect given: `delay {latency, jitter, correlation, reorder {percent, correlation}}`, `loss`, `corrupt`, `duplicate` (each `{percent, correlation}`) and `rate` (tc units, as network-bandwidth\'s); at least one',
  injector: NET_TC,
  paramsSchema: obj({
    delay: obj(
      {
        latency: duration('1ms', '10s'),
        jitter: duration('0ms', '10s', { default: '0ms' }),
        correlation,
        // netem sends this share of packets at once, the rest delayed: reordering needs a delay
        reorder: share('sent without the delay (reordered)'),
      },
      ['latency'],
    ),
    loss: share('dropped'),
    corrupt: share('corrupted'),
    duplicate: share('duplicated'),
    rate: { type: 'string', pattern: BANDWIDTH_RATE_PATTERN, description: 'netem rate, e.g. 1mbit, 500kbit, 1mbps (tc units: bit = bits/s, bps = bytes/s)' },
    interface: iface,
  }),
  checkParams: (params) =>
    NETEM_EFFECTS.some((k) => params[k] !== undefined) ? [] : [{ pointer: '', message: `network-netem needs at least one of ${NETEM_EFFECTS.join(', ')}` }],
  driver: async () => (await import('./driver.js')).networkNetem,
});
