// Egress policy for URLs that come from experiment files (probes, notify webhooks): a file may
// only reach what controller config allows. Checked twice: on the URL text at validate/plan time,
// and on every resolved address at connect time (dispatcher.ts), so DNS rebinding gains nothing.
import { networkInterfaces } from 'node:os';
import ipaddr from 'ipaddr.js';

export interface EgressConfig {
  /** Host names a file may name: exact, or "*.suffix" for any name under suffix. */
  allowHosts: string[];
  /** Address ranges a file may reach (also how loopback stand-ins are allowed, explicitly). */
  allowCidrs: string[];
  /** Whether probe errors may quote what the far side answered (default false). */
  exposeResponses: boolean;
}

export const DEFAULT_EGRESS: EgressConfig = { allowHosts: ['*.svc', '*.svc.cluster.local'], allowCidrs: [], exposeResponses: false };

/** Something of the controller's own that no file may reach; port absent = every port. */
export interface ReservedEndpoint {
  host: string;
  port?: number;
  what: string;
}

type Addr = ipaddr.IPv4 | ipaddr.IPv6;

// Never reachable, whatever the allow lists say.
const METADATA = ['169.254.169.254', 'fd00:ec2::254', '100.100.100.200'];
// Refused unless an allowCidrs entry names them explicitly.
const BLOCKED_RANGES = new Set(['unspecified', 'loopback', 'linkLocal', 'broadcast', 'multicast', 'reserved', 'carrierGradeNat']);
const API_SERVER_NAMES = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];

/** "[::1]" / "Host." → "::1" / "host". */
export function bareHost(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
}

/** The address, with IPv4-mapped IPv6 (::ffff:127.0.0.1) turned back into IPv4, or undefined. */
export function parseAddress(host: string): Addr | undefined {
  const h = bareHost(host);
  if (!ipaddr.isValid(h)) return undefined;
  // ipaddr accepts forms (octal, short) that URL parsing has already normalised; only trust
  // what parses the same way strictly.
  if (!ipaddr.IPv6.isValid(h) && !ipaddr.IPv4.isValidFourPartDecimal(h)) return undefined;
  return ipaddr.process(h);
}

function defaultPort(protocol: string): number {
  return protocol === 'https:' ? 443 : 80;
}

function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) {
    const a = parseAddress(i.address);
    if (a) out.add(a.toString());
  }
  return out;
}

export class EgressPolicy {
  private readonly cidrs: [Addr, number][];
  private readonly reserved: ReservedEndpoint[];

  constructor(readonly config: EgressConfig, reserved: ReservedEndpoint[] = []) {
    this.cidrs = config.allowCidrs.map((c) => ipaddr.parseCIDR(c.includes('/') ? c : `${c}/${c.includes(':') ? 128 : 32}`));
    this.reserved = [...reserved, ...API_SERVER_NAMES.map((host) => ({ host, what: 'the Kubernetes API server' }))];
  }

  /** Adds an endpoint once it is known (the controller's port when it listened on port 0). */
  reserve(endpoint: ReservedEndpoint): void {
    this.reserved.push(endpoint);
  }

  get exposeResponses(): boolean {
    return this.config.exposeResponses;
  }

  /** Why the URL may not be fetched, judged on its text alone; undefined when allowed. */
  checkUrl(raw: string): string | undefined {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return `"${raw}" is not a valid URL`;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.protocol} URLs are not allowed (only http and https)`;
    if (url.username || url.password) return 'URLs with credentials are not allowed';
    const host = bareHost(url.hostname);
    const port = url.port ? Number(url.port) : defaultPort(url.protocol);
    const addr = parseAddress(host);
    if (addr) {
      const bad = this.checkAddress(addr.toString(), port);
      if (bad) return bad;
      if (!this.inAllowedCidr(addr)) return `address ${addr.toString()} is not in egress.allowCidrs (${this.config.allowCidrs.join(', ') || 'none'})`;
      return undefined;
    }
    const reserved = this.reservedName(host, port);
    if (reserved) return `${host}:${port} is ${reserved.what}`;
    if (host === 'localhost' || host.endsWith('.localhost')) {
      const bad = this.checkAddress('127.0.0.1', port);
      if (bad) return bad;
      return undefined;
    }
    if (!this.hostAllowed(host)) return `host ${host} is not in egress.allowHosts (${this.config.allowHosts.join(', ') || 'none'})`;
    return undefined;
  }

  /** Why a connection to this address and port is refused; undefined when allowed. */
  checkAddress(address: string, port: number, reservedAddresses: { address: string; port?: number; what: string }[] = []): string | undefined {
    const addr = parseAddress(address);
    if (!addr) return `"${address}" is not an IP address`;
    const text = addr.toString();
    if (METADATA.some((m) => parseAddress(m)!.toString() === text)) return `address ${text} is a cloud metadata endpoint`;
    for (const r of [...this.reserved, ...reservedAddresses]) {
      const ra = 'address' in r ? parseAddress(r.address) : parseAddress(r.host);
      if (ra && ra.toString() === text && (r.port === undefined || r.port === port)) return `${text}:${port} is ${r.what}`;
    }
    const range = addr.range();
    const own = this.reserved.filter((r) => r.host === 'self' && r.port === port);
    if (own.length && (range === 'loopback' || range === 'unspecified' || localAddresses().has(text))) return `${text}:${port} is ${own[0]!.what}`;
    if (BLOCKED_RANGES.has(range) && !this.inAllowedCidr(addr)) return `address ${text} is ${article(range)} address (allow it explicitly in egress.allowCidrs)`;
    return undefined;
  }

  /** Reserved endpoints named by host (Redis by name, the API server) for connect-time lookup. */
  reservedNames(): ReservedEndpoint[] {
    return this.reserved.filter((r) => r.host !== 'self' && !parseAddress(r.host));
  }

  hostAllowed(host: string): boolean {
    const h = bareHost(host);
    return this.config.allowHosts.some((p) => {
      const pat = bareHost(p);
      return pat.startsWith('*.') ? h.endsWith(pat.slice(1)) && h.length > pat.length - 1 : h === pat;
    });
  }

  private reservedName(host: string, port: number): ReservedEndpoint | undefined {
    return this.reserved.find((r) => bareHost(r.host) === host && (r.port === undefined || r.port === port));
  }

  inAllowedCidr(addr: Addr): boolean {
    return this.cidrs.some(([range, bits]) => range.kind() === addr.kind() && addr.match(range, bits));
  }
}

function article(range: string): string {
  const name = range === 'linkLocal' ? 'link-local' : range === 'carrierGradeNat' ? 'carrier-grade NAT' : range;
  return `${/^[aeiou]/.test(name) ? 'an' : 'a'} ${name}`;
}

/** Reserved endpoints from the controller's own settings: its port, Redis, the API server. */
export function reservedEndpoints(opts: { serverPort?: number; redisUrl?: string; apiServerUrl?: string; env?: NodeJS.ProcessEnv }): ReservedEndpoint[] {
  const out: ReservedEndpoint[] = [];
  if (opts.serverPort) out.push({ host: 'self', port: opts.serverPort, what: "the controller's own port" });
  const add = (raw: string | undefined, fallbackPort: number, what: string) => {
    if (!raw) return;
    try {
      const u = new URL(raw);
      out.push({ host: bareHost(u.hostname), port: u.port ? Number(u.port) : fallbackPort, what });
    } catch {
      // not a URL: nothing to reserve
    }
  };
  add(opts.redisUrl, 6379, 'Redis');
  add(opts.apiServerUrl, 443, 'the Kubernetes API server');
  const env = opts.env ?? process.env;
  if (env.KUBERNETES_SERVICE_HOST) out.push({ host: bareHost(env.KUBERNETES_SERVICE_HOST), what: 'the Kubernetes API server' });
  return out;
}
