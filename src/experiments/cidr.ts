// The one CIDR check, shared by the experiment schema (format "cidr") and the partition driver,
// so a file that validates is a file the driver accepts. ipaddr.js parses; the extra rules keep
// the text exactly what iptables will be given (no zone ids, no leading zeros, dotted-quad IPv4).
import ipaddr from 'ipaddr.js';

/** Why `text` is not an IPv4/IPv6 CIDR, or undefined when it is one. */
export function cidrError(text: string): string | undefined {
  const m = /^([0-9A-Fa-f:.]+)\/(0|[1-9][0-9]{0,2})$/.exec(text);
  if (!m) return 'expected address/prefix, like 10.0.0.0/8 or fd00::/8';
  const [, addr, bits] = m as unknown as [string, string, string];
  // isValidFourPartDecimal refuses leading zeros itself (010.0.0.0 is octal to some parsers).
  if (ipaddr.IPv4.isValidFourPartDecimal(addr)) return Number(bits) <= 32 ? undefined : 'an IPv4 prefix is at most 32';
  if (!addr.includes(':') || !ipaddr.IPv6.isValid(addr)) return `${addr} is not an IP address`;
  if (addr.includes('.')) return 'write an IPv6 address in hex only (no embedded IPv4)';
  return Number(bits) <= 128 ? undefined : 'an IPv6 prefix is at most 128';
}

export const isCidr = (text: string): boolean => cidrError(text) === undefined;
