// How every command fails: one line on stderr and a documented exit code, never a stack trace
// or a hang. 0 done; 1 the command ran and the answer is no (problems, refusals, unknown run);
// 2 bad usage or configuration; 3 something the command needs did not answer (Redis, the
// cluster, git) within its time.
import { Redis } from 'ioredis';

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.failed) {
    super(message);
    this.name = 'CliError';
  }
}

/** Wraps a command action: a thrown error becomes `faultline <command>: <message>` and an exit code. */
export function action<A extends unknown[]>(command: string, fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      const e = err as Error;
      console.error(`faultline ${command}: ${oneLine(e.message || String(err))}`);
      process.exitCode = err instanceof CliError ? err.exitCode : EXIT.failed;
    }
  };
}

export function oneLine(s: string): string {
  return s.split('\n').map((l) => l.trim()).filter(Boolean).join('; ');
}

/** Rejects with a CliError (exit 3) when `p` has not settled within `ms`. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CliError(`${what} did not answer within ${Math.round(ms / 1000)}s`, EXIT.unreachable)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The URL without its password, for messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * A Redis connection for a short-lived command: connects once (no endless reconnects), fails
 * within timeoutMs with a CliError naming the URL, and never queues commands while offline.
 */
export async function connectRedis(url: string, timeoutMs = 5000): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: timeoutMs, retryStrategy: () => null, enableOfflineQueue: false });
  let lastError: Error | undefined;
  let failed: (err: Error) => void = () => undefined;
  const gaveUp = new Promise<never>((_, reject) => (failed = reject));
  gaveUp.catch(() => undefined);
  redis.on('error', (err: Error) => {
    lastError = err; // reported once, below
    failed(err);
  });
  redis.once('end', () => failed(lastError ?? new Error('connection closed')));
  try {
    await within(Promise.race([redis.connect(), gaveUp]), timeoutMs, `Redis at ${safeUrl(url)}`);
    return redis;
  } catch (err) {
    redis.disconnect();
    const why = lastError?.message ?? (err as Error).message;
    throw new CliError(`cannot reach Redis at ${safeUrl(url)}: ${why.replace(/^Redis at .* did not answer/, 'no answer')}`, EXIT.unreachable);
  }
}
