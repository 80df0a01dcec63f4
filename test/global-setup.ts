import { Redis } from 'ioredis';

// Fails the whole run early, with a plain reason, instead of letting every test time out.
export default async function setup(): Promise<void> {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) throw new Error(`tests need Node 22+, got ${process.version}; run them with npm test`);
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`tests need Redis at ${url} (start one with: redis-server --port 6379 --save "")`, { cause: err });
  } finally {
    redis.disconnect();
  }
}
