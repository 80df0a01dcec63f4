// Fault parameters at their bounds: what reaches an injected command is exactly the number or
// word the user meant, inside its range, or the run is refused with the parameter's name.
import { describe, expect, it } from 'vitest';
import type { KubeConfig } from '@kubernetes/client-node';
import { FAULT_DRIVERS } from '../../src/faults/index.js';
import { cidrError } from '../../src/experiments/cidr.js';
import { cidr, cidrsParam, durationMsParam, durationSeconds, enumParam, FaultParamError, interfaceParam, intParam, memoryMiParam, numberParam, portsParam } from '../../src/faults/params.js';
import type { ResolvedTargets } from '../../src/cluster/types.js';
import type { FaultContext } from '../../src/faults/types.js';
import { silentLogger } from '../../src/log.js';

const targets: ResolvedTargets = {
  seed: 1, candidates: 1,
  pods: [{ namespace: 'shop', name: 'checkout-a', uid: 'u1', labels: { app: 'checkout' }, nodeName: 'node-1', ready: true, owner: { kind: 'Deployment', name: 'checkout' }, containers: ['checkout'] }],
  refs: [], workloads: [], blastRadius: [],
};
const ctx = (params: Record<string, unknown>, durationMs: number): FaultContext => ({
  kc: {} as KubeConfig, runId: 'exp.0123456789abcdef.once', experiment: 'exp', params, durationMs, targets, injectorImage: 'ghcr.io/faultline/agent:1', log: silentLogger,
});

/** The refusal's message, or a failure if the call did not refuse with a FaultParamError. */
function refusal(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(FaultParamError);
    expect((err as Error).name).toBe('FaultParamError');
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('the fault lifetime armed in the pod', () => {
  it('a duration of Infinity is refused before anything is recorded', async () => {
    for (const type of ['network-delay', 'network-loss', 'network-partition', 'cpu-stress', 'memory-stress'] as const) {
      const params = { 'network-delay': { latency: '100ms' }, 'network-loss': { percent: 5 }, 'network-partition': { cidrs: ['10.0.0.0/8'] }, 'cpu-stress': { workers: 1, load: 50 }, 'memory-stress': { size: '64Mi' } }[type];
      await expect(FAULT_DRIVERS[type].prepare(ctx(params, Infinity)), type).rejects.toThrow(/duration.*1ms\.\.24h, got Infinity/);
      // a finite lifetime passes validation (what fails next is this test's empty cluster config)
      const finite = await FAULT_DRIVERS[type].prepare(ctx(params, 3000)).then(() => undefined, (err: unknown) => String(err));
      expect(finite ?? '', type).not.toMatch(/duration|fault parameter/);
    }
  });

  it('NaN, zero, negative and over-24h lifetimes are refused; 1 ms and 24 h are the edges', () => {
    for (const ms of [Number.NaN, -Infinity, 0, 0.5, -1000, 86_400_001]) expect(refusal(() => durationSeconds(ms))).toMatch(/^fault parameter duration: expected 1ms\.\.24h, got /);
    expect(durationSeconds(1)).toBe('1');
    expect(durationSeconds(86_400_000)).toBe('86400');
  });

  it('the lifetime is whole seconds rounded up, so a fault never expires before the run ends', () => {
    expect(durationSeconds(1000)).toBe('1');
    expect(durationSeconds(1001)).toBe('2');
    expect(durationSeconds(2500)).toBe('3');
    expect(durationSeconds(300_000)).toBe('300');
  });
});

describe('numbers', () => {
  it('an integer parameter accepts its whole range and nothing outside it', () => {
    expect(intParam({ n: 0 }, 'n', 0, 100)).toBe('0');
    expect(intParam({ n: 100 }, 'n', 0, 100)).toBe('100');
    expect(intParam({ n: 1 }, 'n', 1, 16)).toBe('1');
    expect(refusal(() => intParam({ n: 101 }, 'n', 0, 100))).toBe('fault parameter n: expected an integer 0..100, got 101');
    expect(refusal(() => intParam({ n: 0 }, 'n', 1, 16))).toBe('fault parameter n: expected an integer 1..16, got 0');
    expect(refusal(() => intParam({ n: 1.5 }, 'n', 0, 100))).toContain('expected an integer 0..100, got 1.5');
    expect(refusal(() => intParam({ n: '5' }, 'n', 0, 100))).toBe('fault parameter n: expected an integer 0..100, got "5"');
  });

  it('a missing integer takes its default, a present one never does', () => {
    expect(intParam({}, 'n', 0, 100, 7)).toBe('7');
    expect(intParam({ n: 3 }, 'n', 0, 100, 7)).toBe('3');
    expect(refusal(() => intParam({}, 'n', 0, 100))).toBe('fault parameter n: expected an integer 0..100, got undefined');
  });

  it('a decimal parameter accepts its whole range, as plain decimal text with at most 3 decimals', () => {
    expect(numberParam({ p: 0 }, 'p', 0, 100)).toBe('0');
    expect(numberParam({ p: 100 }, 'p', 0, 100)).toBe('100');
    expect(numberParam({ p: 12.5 }, 'p', 0, 100)).toBe('12.5');
    expect(numberParam({ p: 0.125 }, 'p', 0, 100)).toBe('0.125');
    expect(numberParam({ p: 33.33333 }, 'p', 0, 100)).toBe('33.333');
    expect(numberParam({}, 'p', 0, 100, 5)).toBe('5');
    expect(numberParam({ p: 6 }, 'p', 0, 100, 5)).toBe('6');
    expect(refusal(() => numberParam({ p: 100.5 }, 'p', 0, 100))).toBe('fault parameter p: expected a number 0..100, got 100.5');
    expect(refusal(() => numberParam({ p: -0.5 }, 'p', 0, 100))).toBe('fault parameter p: expected a number 0..100, got -0.5');
    expect(refusal(() => numberParam({ p: 1 }, 'p', 2, 100))).toBe('fault parameter p: expected a number 2..100, got 1');
    expect(refusal(() => numberParam({ p: Number.NaN }, 'p', 0, 100))).toBe('fault parameter p: expected a number 0..100, got NaN');
    expect(refusal(() => numberParam({ p: '5' }, 'p', 0, 100))).toBe('fault parameter p: expected a number 0..100, got "5"');
  });

  it('a number too large for plain decimal text is refused rather than written in exponent form', () => {
    expect(refusal(() => numberParam({ p: 1e21 }, 'p', 0, 1e30))).toBe('fault parameter p: cannot be written as a plain decimal: 1e+21');
    expect(refusal(() => numberParam({ p: 1_234_567 }, 'p', 0, 1e30))).toBe('fault parameter p: cannot be written as a plain decimal: 1234567');
    expect(numberParam({ p: 999_999.5 }, 'p', 0, 1e30)).toBe('999999.5');
  });
});

describe('durations inside a fault (latency, jitter, fixedDelay)', () => {
  it('the range ends are accepted and one millisecond past them is refused', () => {
    expect(durationMsParam({ d: '1ms' }, 'd', 1, 10_000)).toBe('1');
    expect(durationMsParam({ d: '10s' }, 'd', 1, 10_000)).toBe('10000');
    expect(durationMsParam({ d: '1s500ms' }, 'd', 1, 10_000)).toBe('1500');
    expect(refusal(() => durationMsParam({ d: '0ms' }, 'd', 1, 10_000))).toBe('fault parameter d: expected 1ms..10000ms, got 0ms');
    expect(refusal(() => durationMsParam({ d: '10s1ms' }, 'd', 1, 10_000))).toBe('fault parameter d: expected 1ms..10000ms, got 10001ms');
  });

  it('a missing duration takes its default; text that is not a duration is refused by name', () => {
    expect(durationMsParam({}, 'jitter', 0, 10_000, '0ms')).toBe('0');
    expect(durationMsParam({ jitter: '5ms' }, 'jitter', 0, 10_000, '0ms')).toBe('5');
    for (const bad of [500, ['2s'], '2 s', '2', undefined]) {
      expect(refusal(() => durationMsParam({ d: bad }, 'd', 0, 10_000))).toMatch(/^fault parameter d: expected a duration like 250ms or 2s, got /);
    }
  });

  it('an absurdly long duration text is refused before it is parsed', () => {
    const d32 = '00000000h000000000m000000001s0ms'; // 32 characters, 1 s
    const d33 = `0${d32}`;
    expect(durationMsParam({ d: d32 }, 'd', 0, 10_000)).toBe('1000');
    expect(refusal(() => durationMsParam({ d: d33 }, 'd', 0, 10_000))).toBe(`fault parameter d: expected a duration like 250ms or 2s, got "${d33}"`);
  });
});

describe('words and names', () => {
  it('an enum takes one of its words or its default, and the refusal lists the words', () => {
    expect(enumParam({ d: 'egress' }, 'd', ['egress', 'ingress', 'both'] as const)).toBe('egress');
    expect(enumParam({}, 'd', ['egress', 'ingress', 'both'] as const, 'both')).toBe('both');
    expect(refusal(() => enumParam({ d: 'sideways' }, 'd', ['egress', 'ingress', 'both'] as const))).toBe('fault parameter d: expected one of egress, ingress, both, got "sideways"');
    expect(refusal(() => enumParam({ d: ['egress'] }, 'd', ['egress', 'ingress'] as const))).toBe('fault parameter d: expected one of egress, ingress, got egress');
  });

  it('an interface name must end where the pattern ends: no trailing text reaches tc or iptables', () => {
    expect(interfaceParam({})).toBe('eth0');
    expect(interfaceParam({ interface: 'ens5' })).toBe('ens5');
    expect(interfaceParam({ interface: 'a123456789abcde' })).toBe('a123456789abcde'); // 15 characters, the kernel's limit
    for (const bad of ['eth0-x', 'eth0.100', 'eth0,lo', 'a123456789abcdef', 'Eth0', '0eth']) {
      expect(refusal(() => interfaceParam({ interface: bad }))).toBe(`fault parameter interface: expected an interface name like eth0, got ${JSON.stringify(bad)}`);
    }
    expect(refusal(() => interfaceParam({ nic: 'eth0;' }, 'nic'))).toContain('fault parameter nic:');
  });

  it('a hostile value is quoted and cut to 40 characters in the refusal', () => {
    const long = 'x'.repeat(100);
    expect(refusal(() => interfaceParam({ interface: long }))).toBe(`fault parameter interface: expected an interface name like eth0, got "${'x'.repeat(39)}…`);
    const exact = 'y'.repeat(38); // quoted: 40 characters, shown whole
    expect(refusal(() => interfaceParam({ interface: exact }))).toBe(`fault parameter interface: expected an interface name like eth0, got "${exact}"`);
    expect(refusal(() => interfaceParam({ interface: `${exact}z` }))).toBe(`fault parameter interface: expected an interface name like eth0, got "${exact}z…`);
    expect(refusal(() => interfaceParam({ interface: 42 }))).toBe('fault parameter interface: expected an interface name like eth0, got 42');
  });
});

describe('network partition targets', () => {
  it('a valid single-CIDR partition is accepted as written', () => {
    expect(cidrsParam({ cidrs: ['10.0.0.0/8'] })).toEqual(['10.0.0.0/8']);
  });

  it('IPv4 CIDRs: every octet and prefix in range is accepted', () => {
    for (const c of ['0.0.0.0/0', '255.255.255.255/32', '249.250.199.100/24', '1.2.3.4/9', '192.168.10.0/19', '172.16.0.0/30', '10.0.0.1/31', '100.64.0.0/10', '1.2.3.249/24', '10.0.0.42/32']) {
      expect(cidr(c, 'c')).toBe(c);
    }
  });

  it('IPv4 CIDRs: a bad address, prefix or trailing text is refused', () => {
    for (const c of ['10.0.0.0/33', '10.0.0.0/40', '10.0.0.0/', '10.0.0.0', '10.0.0.0/8/8', '10.0.0/8', '010.0.0.0/8', '10.0.0.0/08x', 'x10.0.0.0/8', '10.0.0.256/8', '10.0.0.0/8 ', ' 10.0.0.0/8', '1.2.3.4.5/8']) {
      expect(refusal(() => cidr(c, 'cidrs[0]')), c).toContain(`fault parameter cidrs[0]: expected an IPv4/IPv6 CIDR like 10.0.0.0/8, got ${JSON.stringify(c)}`);
    }
  });

  it('IPv6 CIDRs: addresses and prefixes 0..128 are accepted', () => {
    for (const c of ['::/0', '::1/128', 'fd00::/8', '2001:db8::/32', '2001:DB8:0:0:0:0:0:1/127', 'fe80::/10', '2001:db8::/119', '2001:db8::/99', '2001:db8::/100', '2001:0db8:0000:0000:0000:ff00:0042:8329/64']) {
      expect(cidr(c, 'c')).toBe(c);
    }
  });

  it('IPv6 CIDRs: a zone, a prefix over 128 or junk is refused', () => {
    for (const c of ['fe80::1%11/64', '::1/129', '::1/130', '::1/200', '::1/', 'gg::1/64', ':/64', 'x::1/64', '::1/64x', '2001:db8::/0128']) {
      expect(refusal(() => cidr(c, 'c')), c).toContain('expected an IPv4/IPv6 CIDR');
    }
    expect(refusal(() => cidr(['10.0.0.0/8'], 'c'))).toContain('expected an IPv4/IPv6 CIDR');
    expect(refusal(() => cidr(['::1/128'], 'c'))).toContain('expected an IPv4/IPv6 CIDR');
  });

  it('an IPv6 CIDR with an embedded IPv4 address is refused: iptables is given hex only', () => {
    for (const c of ['::ffff:10.0.0.1/128', '64:ff9b::10.0.0.1/96']) expect(refusal(() => cidr(c, 'c')), c).toContain('expected an IPv4/IPv6 CIDR');
  });

  it('the CIDR check says why a text is not a CIDR', () => {
    expect(cidrError('10.0.0.0/8')).toBeUndefined();
    expect(cidrError('fd00::/8')).toBeUndefined();
    expect(cidrError('g::/8')).toBe('expected address/prefix, like 10.0.0.0/8 or fd00::/8');
    expect(cidrError('010.0.0.0/8')).toBe('010.0.0.0 is not an IP address');
    expect(cidrError('1.2.3/8')).toBe('1.2.3 is not an IP address');
    expect(cidrError('10.0.0.0/33')).toBe('an IPv4 prefix is at most 32');
    expect(cidrError('fd00::/129')).toBe('an IPv6 prefix is at most 128');
    expect(cidrError('::ffff:10.0.0.1/128')).toBe('write an IPv6 address in hex only (no embedded IPv4)');
  });

  it('a partition needs 1 to 32 CIDRs, and a bad one is named by its index', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => `10.0.${i}.0/24`);
    expect(cidrsParam({ cidrs: many(32) })).toHaveLength(32);
    expect(cidrsParam({ cidrs: many(2) })).toEqual(['10.0.0.0/24', '10.0.1.0/24']);
    expect(refusal(() => cidrsParam({ cidrs: many(33) }))).toBe('fault parameter cidrs: expected 1..32 CIDRs');
    expect(refusal(() => cidrsParam({ cidrs: [] }))).toBe('fault parameter cidrs: expected 1..32 CIDRs');
    expect(refusal(() => cidrsParam({}))).toBe('fault parameter cidrs: expected 1..32 CIDRs');
    expect(refusal(() => cidrsParam({ cidrs: '10.0.0.0/8' }))).toBe('fault parameter cidrs: expected 1..32 CIDRs');
    expect(refusal(() => cidrsParam({ cidrs: ['10.0.0.0/8', '10.0.0.0/99'] }))).toContain('fault parameter cidrs[1]:');
    expect(cidrsParam({ blocks: ['10.0.0.0/8'] }, 'blocks')).toEqual(['10.0.0.0/8']);
  });

  it('ports: none means every port; up to 32 ports 1..65535, each named by its index when bad', () => {
    expect(portsParam({})).toBe('-');
    expect(portsParam({ ports: [] })).toBe('-');
    expect(portsParam({ ports: [80] })).toBe('80');
    expect(portsParam({ ports: [1, 443, 65535] })).toBe('1,443,65535');
    const many = (n: number) => Array.from({ length: n }, (_, i) => 8000 + i);
    expect(portsParam({ ports: many(32) }).split(',')).toHaveLength(32);
    expect(refusal(() => portsParam({ ports: many(33) }))).toBe('fault parameter ports: expected at most 32 ports');
    expect(refusal(() => portsParam({ ports: '80' }))).toBe('fault parameter ports: expected at most 32 ports');
    expect(refusal(() => portsParam({ ports: [80, 0] }))).toBe('fault parameter ports[1]: expected an integer 1..65535, got 0');
    expect(refusal(() => portsParam({ ports: [65536] }))).toBe('fault parameter ports[0]: expected an integer 1..65535, got 65536');
    expect(portsParam({ p: [22] }, 'p')).toBe('22');
  });
});

describe('memory sizes', () => {
  it('Mi and Gi are converted to MiB exactly', () => {
    expect(memoryMiParam({ size: '256Mi' })).toBe(256);
    expect(memoryMiParam({ size: '2Gi' })).toBe(2048);
    expect(memoryMiParam({ size: '1Mi' })).toBe(1);
    expect(memoryMiParam({ size: '1024Mi' })).toBe(1024);
    expect(memoryMiParam({ size: '65536Mi' })).toBe(65536);
    expect(memoryMiParam({ size: '64Gi' })).toBe(65536);
    expect(memoryMiParam({ mem: '3Gi' }, 'mem')).toBe(3072);
  });

  it('above 64Gi, malformed or not text is refused', () => {
    for (const bad of ['65Gi', '65537Mi', '999999Gi', '0Mi', '1.5Gi', '256M', '256mi', ' 256Mi', '256Mi ', 'xMi', '1000000Mi', 256, ['256Mi'], undefined]) {
      expect(refusal(() => memoryMiParam({ size: bad }))).toMatch(/^fault parameter size: expected a size like 256Mi or 2Gi \(max 64Gi\), got /);
    }
  });
});
