// Typed failures of the Git source, so callers (reconcile loop, /readyz, PR plan) can report
// them without digging into isomorphic-git or Node error shapes.

export type SourceErrorKind =
  | 'auth' // 401/403: token missing, wrong or without access
  | 'network' // connection refused/reset, DNS, timeout, 5xx
  | 'not-found' // branch, ref or repository does not exist
  | 'backoff' // a previous failure is still backing off; nothing was attempted
  | 'protocol'; // anything else (bad server response, corrupt pack, ...)

export class SourceError extends Error {
  override readonly name = 'SourceError';
  constructor(
    readonly kind: SourceErrorKind,
    message: string,
    readonly details: { status?: number; url?: string; retryAt?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: details.cause });
  }
  get status(): number | undefined {
    return this.details.status;
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET']);

/** Maps an isomorphic-git / Node error to a SourceError; `what` says what was being done. */
export function toSourceError(err: unknown, what: string, url: string): SourceError {
  if (err instanceof SourceError) return err;
  const e = err as { code?: string; message?: string; data?: { statusCode?: number }; cause?: { code?: string } };
  const safeUrl = redact(url);
  const status = e?.data?.statusCode;
  if (e?.code === 'HttpError' && typeof status === 'number') {
    if (status === 401 || status === 403) return new SourceError('auth', `${what}: ${safeUrl} refused the credentials (HTTP ${status})`, { status, url: safeUrl, cause: err });
    if (status === 404) return new SourceError('not-found', `${what}: ${safeUrl} not found (HTTP 404)`, { status, url: safeUrl, cause: err });
    if (status >= 500 || status === 429 || status === 408) return new SourceError('network', `${what}: ${safeUrl} answered HTTP ${status}`, { status, url: safeUrl, cause: err });
    return new SourceError('protocol', `${what}: ${safeUrl} answered HTTP ${status}`, { status, url: safeUrl, cause: err });
  }
  const code = e?.code ?? e?.cause?.code;
  if (code && NETWORK_CODES.has(code)) return new SourceError('network', `${what}: cannot reach ${safeUrl} (${code})`, { url: safeUrl, cause: err });
  if (/timed out|socket hang up/i.test(e?.message ?? '')) return new SourceError('network', `${what}: ${safeUrl}: ${e?.message}`, { url: safeUrl, cause: err });
  if (e?.code === 'NotFoundError') return new SourceError('not-found', `${what}: ${e.message ?? 'not found'}`, { url: safeUrl, cause: err });
  if (e?.code === 'UserCanceledError') return new SourceError('auth', `${what}: ${safeUrl} refused the credentials`, { url: safeUrl, cause: err });
  return new SourceError('protocol', `${what}: ${e?.message ?? String(err)}`, { url: safeUrl, cause: err });
}

/** Never log a token that was written into the URL. */
export function redact(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//***@');
}
