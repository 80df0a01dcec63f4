// The egress policy at its edges: what a URL from an experiment file may reach, and the reason a
// user sees when it may not (validate/plan print it next to file:line:col).
import { describe, expect, it } from 'vitest';
import { DEFAULT_EGRESS, EgressPolicy, reservedEndpoints, type EgressConfig } from '../../src/egress/index.js';
import { bareHost, parseAddress } from '../../src/egress/policy.js';

const reserved = reservedEndpoints({ serverPort: 8080, redisUrl: 'redis://10.0.0.5:6380', apiServerUrl: 'https://10.96.0.1', env: {} });
const policy = (over: Partial<EgressConfig> = {}) => new EgressPolicy({ ...DEFAULT_EGRESS, ...over }, reserved);

describe('URL text', () => {
  it('what is not an http(s) URL is refused with the reason', () => {
    const p = policy();
    expect(p.checkUrl('not a url')).toBe('"not a url" is not a valid URL');
    expect(p.checkUrl('ftp://files.shop.svc/x')).toBe('ftp: URLs are not allowed (only http and https)');
    expect(p.checkUrl('http://user@checkout.shop.svc/')).toBe('URLs with credentials are not allowed');
    expect(p.checkUrl('http://:secret@checkout.shop.svc/')).toBe('URLs with credentials are not allowed');
    expect(p.checkUrl('https://checkout.shop.svc/')).toBeUndefined();
  });

  it('a host outside the allow list is named, with the list', () => {
    expect(policy().checkUrl('https://example.com/')).toBe('host example.com is not in egress.allowHosts (*.svc, *.svc.cluster.local)');
    expect(policy({ allowHosts: [] }).checkUrl('https://checkout.shop.svc/')).toBe('host checkout.shop.svc is not in egress.allowHosts (none)');
  });

  it('"*.suffix" allows names under the suffix only, not the suffix itself or a look-alike', () => {
    const p = policy();
    expect(p.hostAllowed('checkout.shop.svc')).toBe(true);
    expect(p.hostAllowed('a.svc')).toBe(true);
    expect(p.hostAllowed('CHECKOUT.Shop.SVC.')).toBe(true);
    expect(p.hostAllowed('svc')).toBe(false);
    expect(p.hostAllowed('.svc')).toBe(false);
    expect(p.hostAllowed('evilsvc')).toBe(false);
    expect(p.hostAllowed('checkout.shop.svc.evil.com')).toBe(false);
    const exact = policy({ allowHosts: ['Status.Example.com.'] });
    expect(exact.hostAllowed('status.example.com')).toBe(true);
    expect(exact.hostAllowed('a.status.example.com')).toBe(false);
    expect(exact.hostAllowed('status.example.co')).toBe(false);
  });

  it('an address outside allowCidrs is named, with the list', () => {
    expect(policy().checkUrl('http://10.1.2.3/')).toBe('address 10.1.2.3 is not in egress.allowCidrs (none)');
    const p = policy({ allowCidrs: ['10.1.0.0/16', '192.168.0.7'] });
    expect(p.checkUrl('http://10.1.2.3/')).toBeUndefined();
    expect(p.checkUrl('http://192.168.0.7/')).toBeUndefined();
    expect(p.checkUrl('http://192.168.0.8/')).toBe('address 192.168.0.8 is not in egress.allowCidrs (10.1.0.0/16, 192.168.0.7)');
    expect(p.checkUrl('http://10.2.0.1/')).toMatch(/not in egress\.allowCidrs/);
  });

  it('an IPv4 range never allows an IPv6 address, and a bare IPv6 entry is one address', () => {
    const p = policy({ allowCidrs: ['0.0.0.0/0', 'fd00::7'] });
    expect(p.checkUrl('http://[fd00::7]/')).toBeUndefined();
    expect(p.checkUrl('http://[fd00::8]/')).toMatch(/not in egress\.allowCidrs/);
    expect(policy({ allowCidrs: ['0.0.0.0/0'] }).checkUrl('http://[2606:4700::1]/')).toMatch(/not in egress\.allowCidrs/);
  });

  it('localhost and *.localhost are loopback: refused unless loopback is allowed, and never the controller', () => {
    expect(policy().checkUrl('http://localhost:9000/')).toBe('address 127.0.0.1 is a loopback address (allow it explicitly in egress.allowCidrs)');
    expect(policy().checkUrl('http://api.localhost/')).toMatch(/loopback/);
    const p = policy({ allowCidrs: ['127.0.0.0/8'] });
    expect(p.checkUrl('http://localhost:9000/')).toBeUndefined();
    expect(p.checkUrl('http://localhost:8080/')).toBe("127.0.0.1:8080 is the controller's own port");
    expect(p.checkUrl('http://notlocalhost.shop.svc/')).toBeUndefined();
  });
});

describe('the controller\'s own endpoints', () => {
  it('Redis and the API server are refused on their port by address and by name; other ports of that host are not them', () => {
    const p = policy({ allowCidrs: ['10.0.0.0/8'] });
    expect(p.checkUrl('http://10.0.0.5:6380/')).toBe('10.0.0.5:6380 is Redis');
    expect(p.checkUrl('http://10.0.0.5:6379/')).toBeUndefined();
    expect(p.checkUrl('https://10.96.0.1/')).toBe('10.96.0.1:443 is the Kubernetes API server');
    expect(p.checkUrl('http://10.96.0.1/')).toBeUndefined(); // port 80 there is something else
    expect(p.checkUrl('https://kubernetes.default.svc.cluster.local:6443/')).toBe('kubernetes.default.svc.cluster.local:6443 is the Kubernetes API server');
    const named = new EgressPolicy(DEFAULT_EGRESS, reservedEndpoints({ redisUrl: 'redis://redis.faultline.svc', env: {} }));
    expect(named.checkUrl('http://redis.faultline.svc:6379/')).toBe('redis.faultline.svc:6379 is Redis');
    expect(named.checkUrl('http://redis.faultline.svc:8080/')).toBeUndefined();
  });

  it('the in-cluster API server from KUBERNETES_SERVICE_HOST is refused on every port', () => {
    const p = new EgressPolicy({ ...DEFAULT_EGRESS, allowCidrs: ['10.0.0.0/8'] }, reservedEndpoints({ env: { KUBERNETES_SERVICE_HOST: '10.43.0.1' } }));
    for (const port of [443, 6443, 80]) expect(p.checkUrl(`http://10.43.0.1:${port}/`)).toBe(`10.43.0.1:${port} is the Kubernetes API server`);
  });

  it('reserved endpoints come only from what is configured; a malformed URL reserves nothing', () => {
    expect(reservedEndpoints({ env: {} })).toEqual([]);
    expect(reservedEndpoints({ redisUrl: 'not a url', apiServerUrl: '', env: {} })).toEqual([]);
    expect(reservedEndpoints({ serverPort: 9090, redisUrl: 'redis://[::1]', apiServerUrl: 'https://API.example:6443', env: {} })).toEqual([
      { host: 'self', port: 9090, what: "the controller's own port" },
      { host: '::1', port: 6379, what: 'Redis' },
      { host: 'api.example', port: 6443, what: 'the Kubernetes API server' },
    ]);
  });

  it('reserved names for connect-time lookup are the named ones only', () => {
    const p = new EgressPolicy(DEFAULT_EGRESS, reservedEndpoints({ serverPort: 8080, redisUrl: 'redis://redis.faultline.svc:6379', apiServerUrl: 'https://10.96.0.1', env: {} }));
    expect(p.reservedNames().map((r) => r.host)).toEqual(['redis.faultline.svc', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local']);
  });

  it('the controller\'s own port is refused on every local address, and other ports there are judged as usual', () => {
    const p = policy({ allowCidrs: ['0.0.0.0/0'] });
    expect(p.checkAddress('0.0.0.0', 8080)).toBe("0.0.0.0:8080 is the controller's own port");
    expect(p.checkAddress('::1', 8080)).toBe("::1:8080 is the controller's own port");
    expect(p.checkAddress('127.0.0.1', 8081)).toBeUndefined();
    expect(p.checkAddress('10.9.9.9', 8080)).toBeUndefined();
  });

  it('a loopback stand-in on the port Redis uses elsewhere is not Redis: only the controller\'s own port is refused on every local address', () => {
    const p = policy({ allowCidrs: ['127.0.0.0/8'] });
    expect(p.checkAddress('127.0.0.1', 6380)).toBeUndefined();
    expect(p.checkAddress('127.0.0.1', 443)).toBeUndefined();
    expect(p.checkAddress('127.0.0.1', 8080)).toBe("127.0.0.1:8080 is the controller's own port");
  });

  it('a policy built with no reserved endpoints still refuses the API server by name and judges addresses', () => {
    const p = new EgressPolicy(DEFAULT_EGRESS);
    expect(p.checkUrl('https://kubernetes.default.svc/')).toBe('kubernetes.default.svc:443 is the Kubernetes API server');
    expect(p.checkAddress('10.0.0.1', 80)).toBeUndefined();
    expect(p.checkAddress('127.0.0.1', 80)).toMatch(/is a loopback address/);
  });

  it('addresses a lookup names at connect time as reserved are refused, on their port or on all', () => {
    const p = policy();
    expect(p.checkAddress('10.0.0.9', 6379, [{ address: '10.0.0.9', port: 6379, what: 'Redis' }])).toBe('10.0.0.9:6379 is Redis');
    expect(p.checkAddress('10.0.0.9', 6380, [{ address: '10.0.0.9', port: 6379, what: 'Redis' }])).toBeUndefined();
    expect(p.checkAddress('10.0.0.9', 1, [{ address: '10.0.0.9', what: 'the Kubernetes API server' }])).toBe('10.0.0.9:1 is the Kubernetes API server');
  });
});

describe('addresses at connect time', () => {
  it('special ranges are refused with their name unless allowed explicitly; ordinary private addresses pass', () => {
    const p = policy();
    expect(p.checkAddress('0.0.0.0', 80)).toBe('address 0.0.0.0 is an unspecified address (allow it explicitly in egress.allowCidrs)');
    expect(p.checkAddress('255.255.255.255', 80)).toBe('address 255.255.255.255 is a broadcast address (allow it explicitly in egress.allowCidrs)');
    expect(p.checkAddress('224.0.0.1', 80)).toBe('address 224.0.0.1 is a multicast address (allow it explicitly in egress.allowCidrs)');
    expect(p.checkAddress('240.0.0.1', 80)).toBe('address 240.0.0.1 is a reserved address (allow it explicitly in egress.allowCidrs)');
    expect(p.checkAddress('100.64.0.1', 80)).toBe('address 100.64.0.1 is a carrier-grade NAT address (allow it explicitly in egress.allowCidrs)');
    expect(p.checkAddress('169.254.1.1', 80)).toBe('address 169.254.1.1 is a link-local address (allow it explicitly in egress.allowCidrs)');
    expect(p.checkAddress('fe80::1', 80)).toMatch(/is a link-local address/);
    expect(p.checkAddress('127.0.0.2', 80)).toBe('address 127.0.0.2 is a loopback address (allow it explicitly in egress.allowCidrs)');
    for (const a of ['10.1.2.3', '172.16.0.1', '192.168.1.1', 'fd00::1', '8.8.8.8']) expect(p.checkAddress(a, 80), a).toBeUndefined();
    expect(policy({ allowCidrs: ['100.64.0.0/10'] }).checkAddress('100.64.0.1', 80)).toBeUndefined();
  });

  it('every cloud metadata endpoint is refused, whatever is allowed', () => {
    const p = policy({ allowCidrs: ['0.0.0.0/0', '::/0'] });
    for (const a of ['169.254.169.254', '100.100.100.200', 'fd00:ec2::254', '::ffff:169.254.169.254']) {
      expect(p.checkAddress(a, 80), a).toMatch(/^address \S+ is a cloud metadata endpoint$/);
    }
    expect(p.checkAddress('169.254.169.253', 80)).toBeUndefined();
  });

  it('what is not an IP address is refused as such', () => {
    expect(policy().checkAddress('checkout.shop.svc', 80)).toBe('"checkout.shop.svc" is not an IP address');
  });
});

describe('address parsing', () => {
  it('brackets, a trailing dot and case are ignored; IPv4-mapped IPv6 is IPv4', () => {
    expect(bareHost('[::1]')).toBe('::1');
    // only a whole bracketed host is an IPv6 literal
    expect(bareHost('x[::1]')).toBe('x[::1]');
    expect(bareHost('[::1]x')).toBe('[::1]x');
    expect(bareHost('Checkout.Shop.SVC.')).toBe('checkout.shop.svc');
    expect(parseAddress('[::ffff:127.0.0.1]')?.toString()).toBe('127.0.0.1');
    expect(parseAddress('10.0.0.1')?.kind()).toBe('ipv4');
    expect(parseAddress('[fd00::1]')?.kind()).toBe('ipv6');
  });

  it('short and octal IPv4 forms are not trusted as addresses', () => {
    for (const h of ['0177.0.0.1', '127.1', '0x7f.0.0.1', 'example.com']) expect(parseAddress(h), h).toBeUndefined();
  });

  it('exposeResponses follows the config', () => {
    expect(policy().exposeResponses).toBe(false);
    expect(policy({ exposeResponses: true }).exposeResponses).toBe(true);
  });
});
