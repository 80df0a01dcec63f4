import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

// Bearer-token checks for the API, the dashboard's writes and /queues. 401: no or wrong
// credentials. 403: writes are disabled because no API token is configured.
// The token may also come from the `faultline_token` cookie (the dashboard sets it, SameSite=Strict)
// because EventSource and bull-board's page cannot send headers. A cookie rides along on requests
// other sites make, so it authorises a write only on a same-origin request.
export interface AuthOptions {
  apiToken?: string;
  readRequiresToken: boolean;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time comparison on fixed-length digests, so length leaks nothing either. */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export function presentedToken(req: FastifyRequest, access: 'read' | 'write' = 'read'): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  if (access === 'write' && !sameOrigin(req)) return undefined;
  const cookie = req.headers.cookie;
  const m = cookie ? /(?:^|;\s*)faultline_token=([^;]+)/.exec(cookie) : null;
  return m?.[1] ? decodeURIComponent(m[1]) : undefined;
}

/** True when the browser says the request comes from this site (Fetch metadata, or Origin = Host). */
function sameOrigin(req: FastifyRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site) return site === 'same-origin';
  const origin = req.headers.origin;
  if (!origin || !req.headers.host) return false;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export function requireToken(opts: AuthOptions, access: 'read' | 'write') {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (access === 'read' && !opts.readRequiresToken) return;
    // Safe methods only read, whatever route they are on; everything else is a write.
    const needs = access === 'write' || !['GET', 'HEAD', 'OPTIONS'].includes(req.method) ? 'write' : 'read';
    if (!opts.apiToken) {
      await reply.code(403).send({ error: { code: 'forbidden', message: 'no API token is configured: this endpoint is disabled' } });
      return;
    }
    const token = presentedToken(req, needs);
    if (!token || !tokenMatches(token, opts.apiToken)) {
      await reply
        .code(401)
        .header('WWW-Authenticate', 'Bearer realm="faultline"')
        .send({ error: { code: 'unauthorized', message: 'a valid bearer token is required' } });
    }
  };
}
