// The active-fault ledger: a Redis hash `${prefix}:ledger` of runId → Injection JSON. An entry
// is written BEFORE a fault is applied and removed only after its revert succeeded, so whatever
// happens to the controller in between, the next one finds it and reverts it (sweepOrphans).
import type { Redis } from 'ioredis';
import type { Injection } from '../faults/types.js';

export const ledgerKey = (prefix: string) => `${prefix}:ledger`;

export class FaultLedger {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  async write(injection: Injection): Promise<void> {
    await this.redis.hset(ledgerKey(this.prefix), injection.runId, JSON.stringify(injection));
  }

  async remove(runId: string): Promise<void> {
    await this.redis.hdel(ledgerKey(this.prefix), runId);
  }

  async get(runId: string): Promise<Injection | undefined> {
    const raw = await this.redis.hget(ledgerKey(this.prefix), runId);
    return raw ? (JSON.parse(raw) as Injection) : undefined;
  }

  /** Every entry; unparsable entries are returned as errors rather than dropped silently. */
  async list(): Promise<{ entries: Injection[]; broken: { runId: string; error: string }[] }> {
    const all = await this.redis.hgetall(ledgerKey(this.prefix));
    const entries: Injection[] = [];
    const broken: { runId: string; error: string }[] = [];
    for (const [runId, raw] of Object.entries(all)) {
      try {
        entries.push(JSON.parse(raw) as Injection);
      } catch (err) {
        broken.push({ runId, error: (err as Error).message });
      }
    }
    return { entries, broken };
  }
}
