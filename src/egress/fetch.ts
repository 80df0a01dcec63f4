// The fetch that URLs from experiment files go through. Every connection (redirects included)
// passes the policy on its host name and then on the address DNS actually returned; the socket
// goes to that checked address, so a name that re-resolves elsewhere (rebinding) gains nothing.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { bareHost, parseAddress, type EgressPolicy } from './policy.js';

export class EgressRefused extends Error {
  constructor(readonly url: string, readonly reason: string) {
    super(`egress refused: ${reason}`);
    this.name = 'EgressRefused';
  }
}

const RESERVED_TTL_MS = 30_000;

/** Addresses of reserved endpoints that are known by name (Redis by service name...). */
function reservedResolver(policy: EgressPolicy): () => Promise<{ address: string; port?: number; what: string }[]> {
  let cached: { at: number; list: Promise<{ address: string; port?: number; what: string }[]> } | undefined;
  return () => {
    if (cached && Date.now() - cached.at < RESERVED_TTL_MS) return cached.list;
    const list = Promise.all(
      policy.reservedNames().map(async (r) => {
        const found = await lookup(r.host, { all: true }).catch(() => []);
        return found.map((a) => ({ address: a.address, ...(r.port !== undefined ? { port: r.port } : {}), what: r.what }));
      }),
    ).then((x) => x.flat());
    cached = { at: Date.now(), list };
    return list;
  };
}

/** The first resolved address the policy allows; refuses if any resolved address is refused. */
type Lookup = (host: string) => Promise<{ address: string }[]>;
const systemLookup: Lookup = (host) => lookup(host, { all: true, verbatim: true });

export async function resolveAllowed(policy: EgressPolicy, hostname: string, port: number, reserved: { address: string; port?: number; what: string }[], resolve: Lookup = systemLookup): Promise<string> {
  const host = bareHost(hostname);
  const literal = parseAddress(host);
  if (literal) {
    const bad = policy.checkAddress(literal.toString(), port, reserved) ?? (policy.inAllowedCidr(literal) ? undefined : `address ${literal.toString()} is not in egress.allowCidrs`);
    if (bad) throw new EgressRefused(hostname, bad);
    return literal.toString();
  }
  const named = policy.checkUrl(`http://${host}:${port}/`);
  if (named) throw new EgressRefused(hostname, named);
  const found = await resolve(host);
  if (!found.length) throw new EgressRefused(hostname, `${host} did not resolve`);
  for (const a of found) {
    const bad = policy.checkAddress(a.address, port, reserved);
    if (bad) throw new EgressRefused(hostname, `${host} resolves to ${bad}`);
  }
  return found[0]!.address;
}

export type GuardedFetch = typeof fetch & { close(): Promise<void> };

/** A fetch bound to the policy: refusals are thrown as EgressRefused before any byte is sent. */
export function guardedFetch(policy: EgressPolicy, opts: { connectTimeoutMs?: number; lookup?: Lookup } = {}): GuardedFetch {
  const base = buildConnector({ timeout: opts.connectTimeoutMs ?? 10_000 });
  const reservedNow = reservedResolver(policy);
  const agent = new Agent({
    connect(options, callback) {
      const port = Number(options.port) || (options.protocol === 'https:' ? 443 : 80);
      reservedNow()
        .then((reserved) => resolveAllowed(policy, options.hostname, port, reserved, opts.lookup))
        .then(
          (address) => {
            const servername = isIP(bareHost(options.hostname)) ? undefined : bareHost(options.hostname);
            base({ ...options, hostname: address, ...(servername ? { servername } : {}) }, callback);
          },
          (err: unknown) => callback(err as Error, null),
        );
    },
  });
  const f = (async (input: string | URL | Request, init?: RequestInit) => {
    if (typeof input === 'object' && 'method' in input) throw new TypeError('guarded fetch takes a URL, not a Request');
    const url = String(input);
    const bad = policy.checkUrl(url);
    if (bad) throw new EgressRefused(url, bad);
    try {
      // Redirects are not followed: a redirect is a new destination the file did not name.
      return (await undiciFetch(url, { ...(init as object), redirect: 'manual', dispatcher: agent })) as unknown as Response;
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof EgressRefused) throw cause;
      throw err;
    }
  }) as unknown as GuardedFetch;
  f.close = () => agent.close();
  return f;
}
