// Strict checks for fault parameters before they go anywhere near a command. The experiments
// stage already validated them against the schema; these checks run again here because the
// ledger, a manual run or a future caller may hand us anything. Every check returns a string
// of a known, tiny character set, or throws.
import { cidrError } from '../experiments/cidr.js';
import { parseDuration } from '../experiments/duration.js';

export class FaultParamError extends Error {
  constructor(param: string, message: string) {
    super(`fault parameter ${param}: ${message}`);
    this.name = 'FaultParamError';
  }
}

const show = (v: unknown): string => {
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
};

/** An integer in [min, max], as decimal text. */
export function intParam(params: Record<string, unknown>, name: string, min: number, max: number, fallback?: number): string {
  const v = params[name] === undefined ? fallback : params[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new FaultParamError(name, `expected an integer ${min}..${max}, got ${show(v)}`);
  }
  return String(v);
}

/** A finite number in [min, max] with at most 3 decimals, as plain decimal text (never exponent form). */
export function numberParam(params: Record<string, unknown>, name: string, min: number, max: number, fallback?: number): string {
  const v = params[name] === undefined ? fallback : params[name];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new FaultParamError(name, `expected a number ${min}..${max}, got ${show(v)}`);
  }
  const text = String(Math.round(v * 1000) / 1000);
  if (!/^[0-9]{1,6}(\.[0-9]{1,3})?$/.test(text)) throw new FaultParamError(name, `cannot be written as a plain decimal: ${show(v)}`);
  return text;
}

/** One of a fixed set of words. */
export function enumParam<T extends string>(params: Record<string, unknown>, name: string, values: readonly T[], fallback?: T): T {
  const v = params[name] === undefined ? fallback : params[name];
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    throw new FaultParamError(name, `expected one of ${values.join(', ')}, got ${show(v)}`);
  }
  return v as T;
}

/** A duration string (500ms, 2s) in [minMs, maxMs], as whole milliseconds. */
export function durationMsParam(params: Record<string, unknown>, name: string, minMs: number, maxMs: number, fallback?: string): string {
  const v = params[name] === undefined ? fallback : params[name];
  let ms: number;
  try {
    if (typeof v !== 'string' || v.length > 32) throw new Error('not a duration');
    ms = parseDuration(v);
  } catch {
    throw new FaultParamError(name, `expected a duration like 250ms or 2s, got ${show(v)}`);
  }
  if (ms < minMs || ms > maxMs) throw new FaultParamError(name, `expected ${minMs}ms..${maxMs}ms, got ${ms}ms`);
  return String(ms);
}

const IFACE_RE = /^[a-z][a-z0-9]{0,14}$/;
export function interfaceParam(params: Record<string, unknown>, name = 'interface'): string {
  const v = params[name] === undefined ? 'eth0' : params[name];
  if (typeof v !== 'string' || !IFACE_RE.test(v)) throw new FaultParamError(name, `expected an interface name like eth0, got ${show(v)}`);
  return v;
}

/** An IPv4 or IPv6 CIDR (address/prefix): the same check as the experiment schema's. */
export function cidr(value: unknown, name: string): string {
  // the schema reports the reason (cidrError) at validate time; here the value is enough
  if (typeof value === 'string' && cidrError(value) === undefined) return value;
  throw new FaultParamError(name, `expected an IPv4/IPv6 CIDR like 10.0.0.0/8, got ${show(value)}`);
}

export function cidrsParam(params: Record<string, unknown>, name = 'cidrs'): string[] {
  const v = params[name];
  if (!Array.isArray(v) || v.length < 1 || v.length > 32) throw new FaultParamError(name, 'expected 1..32 CIDRs');
  return v.map((c, i) => cidr(c, `${name}[${i}]`));
}

/** Ports as "80,443", or "-" for none. */
export function portsParam(params: Record<string, unknown>, name = 'ports'): string {
  const v = params[name];
  if (v === undefined) return '-';
  if (!Array.isArray(v) || v.length > 32) throw new FaultParamError(name, 'expected at most 32 ports');
  if (v.length === 0) return '-';
  return v.map((p: unknown, i) => intParam({ [`${name}[${i}]`]: p }, `${name}[${i}]`, 1, 65535)).join(',');
}

// tc's units: bit = bits per second, bps = bytes per second.
const BITS_PER_UNIT: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9 };

/** A rate in tc's units (1mbit, 500kbit, 1mbps = bytes/s) as a whole number of kbit/s, 1kbit..100gbit. */
export function rateKbitParam(params: Record<string, unknown>, name = 'rate'): string {
  const v = params[name];
  const m = typeof v === 'string' ? /^([1-9][0-9]{0,9})(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$/.exec(v) : null;
  const kbit = m ? (Number(m[1]) * BITS_PER_UNIT[m[2]!]!) / 1000 : NaN;
  if (!Number.isInteger(kbit) || kbit < 1 || kbit > 100_000_000) throw new FaultParamError(name, `must be a whole number of kbit/s from 1kbit to 100gbit, not ${JSON.stringify(v)}`);
  return String(kbit);
}

/** A memory size 1Mi..64Gi (e.g. 256Mi, 2Gi) in MiB. */
export function memoryMiParam(params: Record<string, unknown>, name = 'size'): number {
  const v = params[name];
  const m = typeof v === 'string' ? /^([1-9][0-9]{0,5})(Mi|Gi)$/.exec(v) : null;
  const mi = m ? Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1) : NaN;
  if (!m || mi > 65536) throw new FaultParamError(name, `expected a size like 256Mi or 2Gi (max 64Gi), got ${show(v)}`);
  return mi;
}

/** The fault's own lifetime in whole seconds (1 s .. 24 h), from the experiment duration. */
export function durationSeconds(durationMs: number): string {
  if (!Number.isFinite(durationMs) || durationMs < 1 || durationMs > 86_400_000) {
    throw new FaultParamError('duration', `expected 1ms..24h, got ${show(durationMs)}`);
  }
  return String(Math.ceil(durationMs / 1000));
}

/** Last line of defence: every argument of an injected command matches this. */
export const SAFE_ARG_RE = /^[A-Za-z0-9.:/%,_-]{1,64}$/;
