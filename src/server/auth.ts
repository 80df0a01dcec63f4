import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

// Bearer-token checks for the API, the dashboard's writes and /queues. 401: no or wrong
// credentials. 403: writes are disabled because no API token is configured.
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

export function presentedToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  const cookie = req.headers.cookie;
  const m = cookie ? /(?:^|;\s*)faultline_token=([^;]+)/.exec(cookie) : null;
  return m?.[1] ? decodeURIComponent(m[1]) : undefined;
}

export function requireToken(opts: AuthOptions, access: 'read' | 'write') {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (access === 'read' && !opts.readRequiresToken) return;
    if (!opts.apiToken) {
      await reply.code(403).send({ error: { code: 'forbidden', message: 'no API token is configured: this endpoint is disabled' } });
      return;
    }
    const token = presentedToken(req);
    if (!token || !tokenMatches(token, opts.apiToken)) {
      await reply
        .code(401)
        .header('WWW-Authenticate', 'Bearer realm="faultline"')
        .send({ error: { code: 'unauthorized', message: 'a valid bearer token is required' } });
    }
  };
}
