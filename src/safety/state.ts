// Safety state shared by every replica, in Redis: global concurrency slots, per-workload locks
// and the kill switch. The runs executor takes a slot and its workload locks right before
// injecting; TTLs are only a safety net for a crashed holder, normal paths release explicitly.
import type { Redis } from 'ioredis';
import type { ClusterKillSwitch, KillSwitchValue } from './cluster-kill-switch.js';

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
  /** The kill switch's durable copy in the cluster; without one, the kill switch is Redis only. */
  cluster?: ClusterKillSwitch;
  /** How long a read of the cluster copy is reused (default 2 s). */
  clusterCacheMs?: number;
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
   * How many runs other than `except` hold a slot now (expired holders not counted): one round
   * trip whatever the number of runs, for the concurrency guard of a run about to start.
   */
  async activeRunCount(except?: string): Promise<number> {
    const r = await this.redis.multi().zremrangebyscore(this.slotsKey, '-inf', String(Date.now())).zcard(this.slotsKey).zscore(this.slotsKey, except ?? '').exec();
    const count = Number(r?.[1]?.[1] ?? 0);
    return except !== undefined && r?.[2]?.[1] !== null && r?.[2]?.[1] !== undefined ? count - 1 : count;
  }

  /**
   * Which of these workloads are locked now (by a token other than `except`): one MGET of their
   * keys, not a scan of every lock. What the lock guard needs about a run's own targets.
   */
  async lockedAmong(workloads: string[], except?: string): Promise<string[]> {
    const unique = [...new Set(workloads)].sort();
    if (unique.length === 0) return [];
    const holders = await this.redis.mget(...unique.map((w) => this.lockKey(w)));
    return unique.filter((_, i) => holders[i] !== null && holders[i] !== except);
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

  /** Workloads locked now, as `namespace/Kind/name`; `except`: leave out those this token holds. */
  async lockedWorkloads(except?: string): Promise<string[]> {
    const prefix = this.lockKey('');
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', '500');
      cursor = next;
      if (except !== undefined && keys.length) {
        const holders = await this.redis.mget(...keys);
        for (let i = 0; i < keys.length; i++) if (holders[i] !== null && holders[i] !== except) out.push(keys[i]!.slice(prefix.length));
      } else for (const k of keys) out.push(k.slice(prefix.length));
    } while (cursor !== '0');
    return out.sort();
  }

  /** The workloads `token` holds now (a workflow run's locks, whichever step took them). */
  async workloadsHeldBy(token: string): Promise<string[]> {
    const all = await this.lockedWorkloads();
    if (!all.length) return [];
    const holders = await this.redis.mget(...all.map((w) => this.lockKey(w)));
    return all.filter((_, i) => holders[i] === token);
  }

  /** Sets the kill switch in the cluster (durable) and in Redis (fast); fails if either write fails. */
  async setKillSwitch(reason: string): Promise<void> {
    const value: KillSwitchValue = { reason, at: new Date().toISOString() };
    const [cluster, redis] = await Promise.allSettled([
      this.opts.cluster?.set(value.reason, value.at),
      this.redis.set(this.killKey, JSON.stringify(value)),
    ]);
    if (cluster.status === 'fulfilled' && this.opts.cluster) this.cached = { value, readAt: Date.now() };
    const failed = [cluster.status === 'rejected' ? `cluster (${this.opts.cluster?.where}): ${String((cluster.reason as Error)?.message ?? cluster.reason)}` : '',
      redis.status === 'rejected' ? `redis: ${String((redis.reason as Error)?.message ?? redis.reason)}` : ''].filter(Boolean);
    if (failed.length) throw new Error(`kill switch ${failed.length === 2 ? 'not set' : 'set only partly'}: ${failed.join('; ')}`);
  }

  /** Clears the cluster copy first, so no replica restores Redis from it afterwards. */
  async clearKillSwitch(): Promise<void> {
    await this.opts.cluster?.clear();
    this.cached = undefined;
    await this.redis.del(this.killKey);
  }

  async isKillSwitchSet(): Promise<boolean> {
    return (await this.killSwitch()) !== undefined;
  }

  /**
   * The kill switch: Redis first; when Redis has none (flushed) or cannot be read, the cluster
   * copy decides, and a Redis that lost it gets it back.
   */
  async killSwitch(): Promise<KillSwitchValue | undefined> {
    let redisDown = false;
    try {
      const v = await this.redis.get(this.killKey);
      if (v) return JSON.parse(v) as KillSwitchValue;
    } catch (err) {
      if (!this.opts.cluster) throw err;
      redisDown = true;
    }
    if (!this.opts.cluster) return undefined;
    // The cluster copy is read at most every clusterCacheMs; a cached "on" while Redis (up) says
    // off is confirmed by a fresh read first: it may be one clear ago.
    const stale = !this.cached || Date.now() - this.cached.readAt > (this.opts.clusterCacheMs ?? 2000);
    if (stale || (!redisDown && this.cached?.value !== undefined)) {
      try {
        this.cached = { value: await this.readCluster(this.opts.cluster), readAt: Date.now() };
      } catch (err) {
        if (redisDown) throw err;
        return undefined; // the API server is away and Redis says off
      }
    }
    const value = this.cached?.value;
    if (value && !redisDown) await this.redis.set(this.killKey, JSON.stringify(value)).catch(() => undefined);
    return value;
  }

  private cached: { value: KillSwitchValue | undefined; readAt: number } | undefined;
  private reading: Promise<KillSwitchValue | undefined> | undefined;

  /** One read of the cluster copy at a time, shared by every caller: 1,000 runs starting at once ask the API server once. */
  private readCluster(cluster: ClusterKillSwitch): Promise<KillSwitchValue | undefined> {
    this.reading ??= cluster.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }
}
