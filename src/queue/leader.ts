// Single leader for reconciling. A Redis lock now (SET NX PX with a token; renew and release only
// by the holder, in Lua); the cluster stage adds a Kubernetes Lease implementing the same interface.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { silentLogger, type Logger } from '../log.js';
import { keys } from './keys.js';

export interface LeaderLock {
  /** Acquire if free, renew if held by us; true when we hold it afterwards. */
  tryAcquire(): Promise<boolean>;
  /** Give it up (only if we hold it). */
  release(): Promise<void>;
  /** True while we hold it and the last successful renewal has not expired. */
  isLeader(): boolean;
  /** Keep campaigning and renewing in the background; onChange fires on every transition. */
  start(onChange?: (leader: boolean) => void): void;
  /** Stop campaigning and release. */
  stop(): Promise<void>;
}

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`;

export interface RedisLeaderLockOptions {
  prefix: string;
  name?: string; // which leadership, default 'reconcile'
  ttlMs?: number; // default 15 s
  renewEveryMs?: number; // default ttl / 3
  token?: string; // identity of this replica, default random
  log?: Logger;
}

export class RedisLeaderLock implements LeaderLock {
  readonly key: string;
  readonly token: string;
  private readonly ttlMs: number;
  private readonly renewEveryMs: number;
  private readonly log: Logger;
  private validUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private leader = false;
  private onChange: ((leader: boolean) => void) | undefined;
  private inflight: Promise<boolean> | undefined;

  constructor(
    private readonly redis: Redis,
    opts: RedisLeaderLockOptions,
  ) {
    this.key = keys.leader(opts.prefix, opts.name ?? 'reconcile');
    this.token = opts.token ?? randomUUID();
    this.ttlMs = opts.ttlMs ?? 15_000;
    this.renewEveryMs = opts.renewEveryMs ?? Math.max(50, Math.floor(this.ttlMs / 3));
    this.log = opts.log ?? silentLogger;
  }

  async tryAcquire(): Promise<boolean> {
    const started = Date.now();
    let held = false;
    try {
      held = (await this.redis.eval(RENEW, 1, this.key, this.token, String(this.ttlMs))) === 1;
    } catch (err) {
      this.log.warn({ err, key: this.key }, 'leader lock: renew failed');
    }
    // Count validity from before the call: the lock may have been set just as we sent it.
    this.validUntil = held ? started + this.ttlMs : 0;
    this.transition(held);
    return held;
  }

  isLeader(): boolean {
    if (this.leader && Date.now() >= this.validUntil) this.transition(false);
    return this.leader;
  }

  async release(): Promise<void> {
    this.validUntil = 0;
    try {
      await this.redis.eval(RELEASE, 1, this.key, this.token);
    } finally {
      this.transition(false);
    }
  }

  start(onChange?: (leader: boolean) => void): void {
    this.onChange = onChange;
    if (this.timer) return;
    const tick = () => {
      this.inflight ??= this.tryAcquire().finally(() => (this.inflight = undefined));
    };
    tick();
    this.timer = setInterval(tick, this.renewEveryMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inflight;
    await this.release();
  }

  private transition(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.log.info({ key: this.key, token: this.token, leader }, leader ? 'became leader' : 'lost leadership');
    this.onChange?.(leader);
  }
}
