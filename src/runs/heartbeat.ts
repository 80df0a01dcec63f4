// A short-TTL heartbeat per live run in Redis: `${prefix}:run-heartbeat:<runId>`, refreshed every
// ~1.5 s with a 5 s TTL while the run has (or may have) a fault in place. A run without a
// heartbeat and not executing in this process is not live: the revert loop undoes its fault.
// BullMQ's job lock (30 s) is far too slow for that decision.
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';

export const heartbeatKey = (prefix: string, runId: string) => `${prefix}:run-heartbeat:${runId}`;
export const HEARTBEAT_TTL_MS = 5_000;
export const HEARTBEAT_EVERY_MS = 1_500;

export interface Heartbeat {
  /** Stops refreshing and deletes the key (the run's fault is reverted or handed to the revert loop). */
  stop(): Promise<void>;
}

export async function startHeartbeat(redis: Redis, prefix: string, runId: string, log: Logger, opts: { ttlMs?: number; everyMs?: number } = {}): Promise<Heartbeat> {
  const key = heartbeatKey(prefix, runId);
  const ttl = opts.ttlMs ?? HEARTBEAT_TTL_MS;
  let warned = false;
  const beat = async () => {
    try {
      await redis.set(key, String(process.pid), 'PX', ttl);
      warned = false;
    } catch (err) {
      if (!warned) log.warn({ err: (err as Error).message }, 'could not refresh the run heartbeat');
      warned = true;
    }
  };
  await beat();
  const timer = setInterval(() => void beat(), opts.everyMs ?? HEARTBEAT_EVERY_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await redis.del(key).catch(() => undefined);
    },
  };
}

export async function hasHeartbeat(redis: Redis, prefix: string, runId: string): Promise<boolean> {
  return (await redis.exists(heartbeatKey(prefix, runId))) === 1;
}
