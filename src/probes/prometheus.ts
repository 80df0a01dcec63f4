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

export interface QueryOptions {
  fetch?: typeof fetch;
  signal?: AbortSignal;
  exposeResponses?: boolean;
}

/** An instant query's single sample, or why there is none (workflow assertions read the value itself). */
export async function queryPrometheus(p: { url: string; query: string; timeout?: string }, opts: QueryOptions = {}): Promise<{ value: number; latencyMs: number } | { error: string; latencyMs: number }> {
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
    if (!res.ok || body.status !== 'success') return { latencyMs, error: `query failed: ${quote(body.error ?? `status ${res.status}`, `status ${res.status}`)}` };
    let raw: string | undefined;
    if (body.data?.resultType === 'vector') {
      const result = body.data.result as { value?: [number, string] }[];
      if (result.length !== 1) return { latencyMs, error: `expected one sample, got ${result.length}` };
      raw = result[0]!.value?.[1];
    } else if (body.data?.resultType === 'scalar') {
      raw = (body.data.result as [number, string])[1];
    } else {
      return { latencyMs, error: `expected an instant vector, got ${quote(String(body.data?.resultType ?? 'nothing'), 'something else')}` };
    }
    const value = Number(raw);
    if (raw === undefined || Number.isNaN(value)) return { latencyMs, error: `sample is not a number${quote(`: ${String(raw)}`, '')}` };
    return { value, latencyMs };
  } catch (err) {
    const e = err as Error;
    return { latencyMs: elapsed(), error: e.name === 'TimeoutError' ? `timed out after ${timeoutMs}ms` : `query failed: ${e.message}` };
  }
}

export async function checkPrometheus(p: PrometheusProbe, opts: QueryOptions = {}): Promise<ProbeResult> {
  const r = await queryPrometheus(p, opts);
  if ('error' in r) return { ok: false, latencyMs: r.latencyMs, error: r.error };
  if (!OPS[p.op](r.value, p.threshold)) return { ok: false, latencyMs: r.latencyMs, error: `${opts.exposeResponses ? String(r.value) : 'the sample'} ${p.op} ${p.threshold} is false` };
  return { ok: true, latencyMs: r.latencyMs };
}
