// Safety state shared by every replica, in Redis: global concurrency slots, per-workload locks
// and the kill switch. The runs executor takes a slot and its workload locks right before
// injecting; TTLs are only a safety net for a crashed holder, normal paths release explicitly.
import type { Redis } from 'ioredis';

// Slots are a sorted set of runId → expiry (ms). Expired members are dropped before counting.
const ACQUIRE_SLOT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
  return 1
end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0`;

// All-or-nothing: lock every workload or none.
const LOCK_ALL = `
for i, k in ipairs(KEYS) do
  if redis.call('EXISTS', k) == 1 and redis.call('GET', k) ~= ARGV[1] then return k end
end
for i, k in ipairs(KEYS) do redis.call('SET', k, ARGV[1], 'PX', ARGV[2]) end
return ''`;

const RELEASE_IF_OWNER = `
local n = 0
for i, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then n = n + redis.call('DEL', k) end
end
return n`;

const EXTEND_IF_OWNER = `
local n = 0
for i, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then n = n + redis.call('PEXPIRE', k, ARGV[2]) end
end
return n`;

export interface SafetyStateOptions {
  /** Key prefix, normally config.redis.prefix. Keys are `<prefix>:safety:…`. */
  prefix: string;
  /** Global cap on concurrent runs (config.safety.maxConcurrentRuns). */
  maxConcurrentRuns: number;
}

export type LockResult = { ok: true } | { ok: false; heldBy: string };

export class SafetyState {
  private readonly base: string;
  constructor(
    private readonly redis: Redis,
    private readonly opts: SafetyStateOptions,
  ) {
    this.base = `${opts.prefix}:safety`;
  }

  private get slotsKey(): string {
    return `${this.base}:slots`;
  }
  private lockKey(workload: string): string {
    return `${this.base}:lock:${workload}`;
  }
  private get killKey(): string {
    return `${this.base}:kill-switch`;
  }

  /** Takes one of the global run slots for `runId` (idempotent for the same run); false when full. */
  async acquireSlot(runId: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const r = await this.redis.eval(ACQUIRE_SLOT, 1, this.slotsKey, String(now), String(now + ttlMs), runId, String(this.opts.maxConcurrentRuns), String(Math.max(ttlMs, 60_000) * 2));
    return r === 1;
  }

  async releaseSlot(runId: string): Promise<void> {
    await this.redis.zrem(this.slotsKey, runId);
  }

  /** Runs holding a slot now (expired holders not counted). */
  async activeRuns(): Promise<string[]> {
    await this.redis.zremrangebyscore(this.slotsKey, '-inf', String(Date.now()));
    return this.redis.zrange(this.slotsKey, '0', '-1');
  }

  /**
   * Locks workloads (keys from workloadLockKey: `namespace/Kind/name`) for `token`, all or none.
   * Re-locking with the same token refreshes the TTL.
   */
  async lockWorkloads(workloads: string[], token: string, ttlMs: number): Promise<LockResult> {
    if (workloads.length === 0) return { ok: true };
    const keys = [...new Set(workloads)].sort().map((w) => this.lockKey(w));
    const blocked = (await this.redis.eval(LOCK_ALL, keys.length, ...keys, token, String(ttlMs))) as string;
    if (!blocked) return { ok: true };
    const heldBy = (await this.redis.get(blocked)) ?? 'another run';
    return { ok: false, heldBy: `${blocked.slice(this.lockKey('').length)} held by ${heldBy}` };
  }

  /** Releases only the locks `token` holds; returns how many were released. */
  async releaseWorkloads(workloads: string[], token: string): Promise<number> {
    if (workloads.length === 0) return 0;
    const keys = workloads.map((w) => this.lockKey(w));
    return (await this.redis.eval(RELEASE_IF_OWNER, keys.length, ...keys, token)) as number;
  }

  /** Extends the TTL of locks `token` holds (long runs renew). */
  async extendWorkloads(workloads: string[], token: string, ttlMs: number): Promise<number> {
    if (workloads.length === 0) return 0;
    const keys = workloads.map((w) => this.lockKey(w));
    return (await this.redis.eval(EXTEND_IF_OWNER, keys.length, ...keys, token, String(ttlMs))) as number;
  }

  /** Workloads locked now, as `namespace/Kind/name`. */
  async lockedWorkloads(): Promise<string[]> {
    const prefix = this.lockKey('');
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', '500');
      cursor = next;
      for (const k of keys) out.push(k.slice(prefix.length));
    } while (cursor !== '0');
    return out.sort();
  }

  async setKillSwitch(reason: string): Promise<void> {
    await this.redis.set(this.killKey, JSON.stringify({ reason, at: new Date().toISOString() }));
  }

  async clearKillSwitch(): Promise<void> {
    await this.redis.del(this.killKey);
  }

  async isKillSwitchSet(): Promise<boolean> {
    return (await this.redis.exists(this.killKey)) === 1;
  }

  async killSwitch(): Promise<{ reason: string; at: string } | undefined> {
    const v = await this.redis.get(this.killKey);
    return v ? (JSON.parse(v) as { reason: string; at: string }) : undefined;
  }
}
