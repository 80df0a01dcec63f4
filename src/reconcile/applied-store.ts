// Applied records in one Redis hash per prefix (field = experiment name, value = JSON). The
// durable record is the status branch (src/report/git-status.ts); this one is for a controller
// without it and for tests. The reconciler only sees the AppliedStore interface.
import type { Redis } from 'ioredis';
import { keys } from '../queue/keys.js';
import type { AppliedRecord, AppliedStore } from './types.js';

export class RedisAppliedStore implements AppliedStore {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = keys.applied(prefix);
  }

  async list(): Promise<Map<string, AppliedRecord>> {
    const all = await this.redis.hgetall(this.key);
    const out = new Map<string, AppliedRecord>();
    for (const [name, raw] of Object.entries(all)) out.set(name, JSON.parse(raw) as AppliedRecord);
    return out;
  }

  async put(record: AppliedRecord): Promise<void> {
    await this.redis.hset(this.key, record.name, JSON.stringify(record));
  }

  async remove(name: string): Promise<void> {
    await this.redis.hdel(this.key, name);
  }
}
