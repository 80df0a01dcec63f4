// http probe: status in expectStatus (default 2xx), optional body regex, latency ≤ maxLatency.
import { parseDuration } from '../experiments/duration.js';
import type { HttpProbe } from '../experiments/model.js';
import type { ProbeResult } from './types.js';

const MAX_BODY = 1024 * 1024;

export async function checkHttp(p: HttpProbe, opts: { fetch?: typeof fetch; signal?: AbortSignal } = {}): Promise<ProbeResult> {
  const started = performance.now();
  const timeoutMs = p.timeout ? parseDuration(p.timeout) : 5000;
  const signals = [AbortSignal.timeout(timeoutMs), ...(opts.signal ? [opts.signal] : [])];
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const res = await (opts.fetch ?? fetch)(p.url, { method: p.method ?? 'GET', signal: AbortSignal.any(signals), redirect: 'manual' });
    const body = p.bodyMatch && p.method !== 'HEAD' ? (await res.text()).slice(0, MAX_BODY) : (await res.body?.cancel(), '');
    const latencyMs = elapsed();
    const okStatus = p.expectStatus?.length ? p.expectStatus.includes(res.status) : res.status >= 200 && res.status < 300;
    if (!okStatus) return { ok: false, latencyMs, error: `status ${res.status}, expected ${p.expectStatus?.join('|') ?? '2xx'}` };
    if (p.bodyMatch && !new RegExp(p.bodyMatch).test(body)) return { ok: false, latencyMs, error: `body does not match /${p.bodyMatch}/` };
    if (p.maxLatency && latencyMs > parseDuration(p.maxLatency)) return { ok: false, latencyMs, error: `latency ${latencyMs}ms over ${p.maxLatency}` };
    return { ok: true, latencyMs };
  } catch (err) {
    const e = err as Error;
    const timedOut = e.name === 'TimeoutError' || (e.name === 'AbortError' && !opts.signal?.aborted);
    return { ok: false, latencyMs: elapsed(), error: timedOut ? `timed out after ${timeoutMs}ms` : `request failed: ${e.message}` };
  }
}
