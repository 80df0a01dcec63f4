// Backoff shared by the host adapters and notifiers: 5xx, 429 and rate-limited 403 are retried,
// honouring Retry-After and x-ratelimit-reset; anything else fails at once.
import type { RetryOptions } from './types.js';
import { HostResponseError } from './response.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export type Headers = Record<string, string | undefined>;

export function isRateLimited(status: number, headers: Headers): boolean {
  if (status === 429) return true;
  if (status !== 403) return false;
  return (
    headers['retry-after'] !== undefined ||
    headers['x-ratelimit-remaining'] === '0' ||
    headers['ratelimit-remaining'] === '0' // GitLab
  );
}

export function isRetryable(status: number | undefined, headers: Headers): boolean {
  if (status === undefined) return true; // network error, timeout
  return status >= 500 || isRateLimited(status, headers);
}

/** The wait the server asked for, in ms, if it said. */
export function requestedDelayMs(headers: Headers, now = Date.now()): number | undefined {
  const after = headers['retry-after'];
  if (after !== undefined) {
    const secs = Number(after);
    if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
    const at = Date.parse(after);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  const reset = headers['x-ratelimit-reset'] ?? headers['ratelimit-reset'];
  if (reset !== undefined && (headers['x-ratelimit-remaining'] ?? headers['ratelimit-remaining']) === '0') {
    const secs = Number(reset);
    if (Number.isFinite(secs)) return Math.max(0, secs * 1000 - now);
  }
  return undefined;
}

interface Classified {
  status: number | undefined;
  headers: Headers;
}

/** Run `fn` with bounded retries; `classify` extracts status and headers from a thrown error. */
export async function withRetry<T>(fn: (signal: AbortSignal) => Promise<T>, classify: (err: unknown) => Classified, opts: RetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, opts.attempts ?? 5);
  const base = opts.baseDelayMs ?? 500;
  const cap = opts.maxDelayMs ?? 60_000;
  const timeout = opts.timeoutMs ?? 15_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(AbortSignal.timeout(timeout));
    } catch (err) {
      // A malformed answer is not a passing failure: asking again would only repeat it.
      if (err instanceof HostResponseError) throw err;
      const { status, headers } = classify(err);
      if (attempt >= attempts || !isRetryable(status, headers)) throw err;
      const backoff = base * 2 ** (attempt - 1);
      const wait = requestedDelayMs(headers) ?? backoff / 2 + Math.random() * backoff;
      await new Promise((resolve) => setTimeout(resolve, Math.min(cap, wait)));
    }
  }
}

export function classifyHttpError(err: unknown): Classified {
  if (err instanceof HttpError) return { status: err.status, headers: err.headers };
  return { status: undefined, headers: {} };
}

/**
 * fetch + JSON with HttpError on non-2xx, retried. For the REST hosts without an SDK. `data` is
 * unknown: callers check it with their host's schema (schema.ts) before reading a field. A body
 * that is not JSON is a HostResponseError naming `init.host` and `init.endpoint`.
 */
export async function requestJson(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: unknown; host?: string; endpoint?: string; maxBytes?: number },
  opts: RetryOptions = {},
): Promise<{ status: number; data: unknown; headers: Record<string, string> }> {
  return withRetry(
    async (signal) => {
      const res = await fetch(url, {
        method: init.method,
        headers: { accept: 'application/json', ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
        signal,
      });
      const headers = Object.fromEntries(res.headers.entries());
      const host = init.host ?? new URL(url).host;
      const endpoint = init.endpoint ?? `${init.method} ${new URL(url).pathname}`;
      const max = init.maxBytes ?? MAX_RESPONSE_BYTES;
      const text = await readCapped(res, max);
      if (text === undefined) throw new HostResponseError(host, endpoint, '', `is larger than ${max} bytes`);
      if (!res.ok) throw new HttpError(res.status, headers, `${init.method} ${new URL(url).pathname}: ${res.status} ${text.slice(0, 200)}`);
      let data: unknown;
      try {
        data = text ? (JSON.parse(text) as unknown) : undefined;
      } catch {
        throw new HostResponseError(host, endpoint, '', 'is not JSON');
      }
      return { status: res.status, data, headers };
    },
    classifyHttpError,
    opts,
  );
}

// A page of 100 GitLab notes at their 1,000,000-character cap is the largest honest answer.
const MAX_RESPONSE_BYTES = 128 * 1024 * 1024;

/** The body as text, or undefined once it passes `max` bytes (the rest is not read). */
async function readCapped(res: Response, max: number): Promise<string | undefined> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Cut a one-line description to `max` characters without splitting a surrogate pair. */
export function shorten(text: string, max: number): string {
  const chars = [...text.replace(/\s+/g, ' ').trim()];
  return chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('')}…`;
}

/** `load` once and keep its answer; a failure is not kept, so the next call asks again. */
export function cachedUntilFailure<T>(load: () => Promise<T>): () => Promise<T> {
  let kept: Promise<T> | undefined;
  return () => {
    kept ??= load().catch((err: unknown) => {
      kept = undefined;
      throw err;
    });
    return kept;
  };
}
