// The controller's own port on the machine's own interface addresses: a file must not reach the
// controller through the pod's eth0 address any more than through loopback. The interfaces are
// given (node:os mocked) so the test does not depend on this machine's network.
import type * as os from 'node:os';
import { describe, expect, it, vi } from 'vitest';

vi.mock('node:os', async (importOriginal) => ({
  ...(await importOriginal<typeof os>()),
  networkInterfaces: () => ({
    eth0: [{ address: '10.20.0.7', netmask: '255.255.0.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '10.20.0.7/16' }],
    eth1: [{ address: 'fd00:20::7', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:02', internal: false, cidr: 'fd00:20::7/64', scopeid: 0 }],
    odd: [{ address: 'not-an-address', netmask: '', family: 'IPv4', mac: '', internal: false, cidr: null }],
    gone: undefined,
  }),
}));

const { DEFAULT_EGRESS, EgressPolicy, reservedEndpoints } = await import('../../src/egress/index.js');

const policy = () => new EgressPolicy({ ...DEFAULT_EGRESS, allowCidrs: ['0.0.0.0/0', '::/0'] }, reservedEndpoints({ serverPort: 8080, env: {} }));

describe("the controller's own port on its interface addresses", () => {
  it('is refused on an interface address even when allowCidrs covers it; other ports and other hosts pass', () => {
    const p = policy();
    expect(p.checkAddress('10.20.0.7', 8080)).toBe("10.20.0.7:8080 is the controller's own port");
    expect(p.checkAddress('fd00:20::7', 8080)).toBe("fd00:20::7:8080 is the controller's own port");
    expect(p.checkAddress('10.20.0.7', 8081)).toBeUndefined();
    expect(p.checkAddress('10.20.0.8', 8080)).toBeUndefined();
  });

  it('is refused on loopback even when no loopback interface is listed', () => {
    expect(policy().checkAddress('127.0.0.1', 8080)).toBe("127.0.0.1:8080 is the controller's own port");
    expect(policy().checkAddress('0.0.0.0', 8080)).toBe("0.0.0.0:8080 is the controller's own port");
  });

  it('an interface without addresses or with one that does not parse is skipped, not a crash', () => {
    expect(policy().checkUrl('http://10.20.0.9:8080/')).toBeUndefined();
  });
});
