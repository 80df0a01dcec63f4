// http-fault: Istio VirtualService abort/delay; revert restores the original http routes.
import { defineFault } from '../definition.js';
import { DNS1123_SUBDOMAIN_PATTERN, duration, obj } from '../schema-parts.js';

function httpPercent(part: unknown): number {
  const p = (part as { percent?: unknown } | undefined)?.percent;
  return typeof p === 'number' && p > 0 ? p : 0;
}

export const httpFault = defineFault({
  type: 'http-fault',
  scope: 'service',
  description: 'Injects aborts or delays into an Istio VirtualService\'s http routes; revert restores them.',
  docs: 'patches an Istio VirtualService\'s routes; the original routes are restored',
  paramsSchema: obj(
    {
      virtualService: { type: 'string', maxLength: 253, pattern: DNS1123_SUBDOMAIN_PATTERN },
      abort: obj(
        {
          httpStatus: { type: 'integer', minimum: 200, maximum: 599 },
          percent: { type: 'number', minimum: 0, maximum: 100 },
        },
        ['httpStatus', 'percent'],
      ),
      delay: obj(
        { fixedDelay: duration('1ms', '60s'), percent: { type: 'number', minimum: 0, maximum: 100 } },
        ['fixedDelay', 'percent'],
      ),
    },
    ['virtualService'],
  ),
  checkParams: (params) => params.abort === undefined && params.delay === undefined
    ? [{ pointer: '', message: 'http-fault needs at least one of abort, delay' }]
    : [],
  // One run at a time per VirtualService, whichever pods it selects.
  lockKeys: (params) => (typeof params.virtualService === 'string' ? [`VirtualService/${params.virtualService}`] : []),
  // Traffic, not pods: the share of requests through the VirtualService that may be affected
  // (abort and delay may hit different requests, so they add up), as pod-equivalents.
  blastRadius: (params, chosen) => {
    const share = Math.min(100, httpPercent(params.abort) + httpPercent(params.delay));
    return chosen.map((b) => ({ ...b, hit: Math.ceil((share * b.ready) / 100), percent: share }));
  },
  disruption: { exempt: 'http-fault changes routing only; no pod is disrupted' },
  driver: async () => (await import('./driver.js')).httpFault,
});
