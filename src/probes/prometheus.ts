// prometheus probe: an instant query that must return exactly one sample, compared to a threshold.
import { parseDuration } from '../experiments/duration.js';
import type { PrometheusProbe } from '../experiments/model.js';
import type { ProbeResult } from './types.js';

const OPS: Record<PrometheusProbe['op'], (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b, '<=': (a, b) => a <= b, '>': (a, b) => a > b, '>=': (a, b) => a >= b, '==': (a, b) => a === b, '!=': (a, b) => a !== b,
};

interface QueryResponse {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: { value?: [number, string] }[] | [number, string] };
}

export async function checkPrometheus(p: PrometheusProbe, opts: { fetch?: typeof fetch; signal?: AbortSignal; exposeResponses?: boolean } = {}): Promise<ProbeResult> {
  const started = performance.now();
  const timeoutMs = p.timeout ? parseDuration(p.timeout) : 5000;
  const elapsed = () => Math.round(performance.now() - started);
  // What the far side said reaches the file's author (run records, PR comments) only when
  // config allows it: otherwise a probe would read internal content out for them.
  const quote = (text: string, hidden: string) => (opts.exposeResponses ? text : hidden);
  try {
    const url = new URL('api/v1/query', p.url.endsWith('/') ? p.url : `${p.url}/`);
    url.searchParams.set('query', p.query);
    const res = await (opts.fetch ?? fetch)(url, {
      signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(opts.signal ? [opts.signal] : [])]),
      headers: { accept: 'application/json' },
    });
    const body = (await res.json().catch(() => ({ status: 'error' }))) as QueryResponse;
    const latencyMs = elapsed();
    if (!res.ok || body.status !== 'success') return { ok: false, latencyMs, error: `query failed: ${quote(body.error ?? `status ${res.status}`, `status ${res.status}`)}` };
    let raw: string | undefined;
    if (body.data?.resultType === 'vector') {
      const result = body.data.result as { value?: [number, string] }[];
      if (result.length !== 1) return { ok: false, latencyMs, error: `expected one sample, got ${result.length}` };
      raw = result[0]!.value?.[1];
    } else if (body.data?.resultType === 'scalar') {
      raw = (body.data.result as [number, string])[1];
    } else {
      return { ok: false, latencyMs, error: `expected an instant vector, got ${quote(String(body.data?.resultType ?? 'nothing'), 'something else')}` };
    }
    const value = Number(raw);
    if (raw === undefined || Number.isNaN(value)) return { ok: false, latencyMs, error: `sample is not a number${quote(`: ${String(raw)}`, '')}` };
    if (!OPS[p.op](value, p.threshold)) return { ok: false, latencyMs, error: `${quote(String(value), 'the sample')} ${p.op} ${p.threshold} is false` };
    return { ok: true, latencyMs };
  } catch (err) {
    const e = err as Error;
    return { ok: false, latencyMs: elapsed(), error: e.name === 'TimeoutError' ? `timed out after ${timeoutMs}ms` : `query failed: ${e.message}` };
  }
}
