// Run records in Redis for the API, `faultline status` and reports. One hash holds every record
// (field = run id, value = JSON); sorted sets by createdAt index them globally, per experiment
// and per state. Lists are newest first with an opaque cursor that is stable under inserts.
import type { Redis } from 'ioredis';
import type { RunRecord, RunState, RunStore } from '../runs/types.js';
import { keys } from './keys.js';

export class RedisRunStore implements RunStore {
  private readonly base: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.base = keys.runStore(prefix);
  }

  private get recordsKey(): string {
    return `${this.base}:records`;
  }
  private get allKey(): string {
    return `${this.base}:by-created`;
  }
  private experimentKey(name: string): string {
    return `${this.base}:by-experiment:${name}`;
  }
  private stateKey(state: RunState): string {
    return `${this.base}:by-state:${state}`;
  }

  async save(record: RunRecord): Promise<void> {
    const score = Date.parse(record.createdAt);
    if (Number.isNaN(score)) throw new Error(`run ${record.id}: createdAt is not a time (${record.createdAt})`);
    const previous = await this.get(record.id);
    const tx = this.redis.multi();
    tx.hset(this.recordsKey, record.id, JSON.stringify(record));
    tx.zadd(this.allKey, score, record.id);
    tx.zadd(this.experimentKey(record.experiment), score, record.id);
    if (previous && previous.state !== record.state) tx.zrem(this.stateKey(previous.state), record.id);
    if (previous && previous.experiment !== record.experiment) tx.zrem(this.experimentKey(previous.experiment), record.id);
    tx.zadd(this.stateKey(record.state), score, record.id);
    await tx.exec();
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const raw = await this.redis.hget(this.recordsKey, id);
    return raw ? (JSON.parse(raw) as RunRecord) : undefined;
  }

  async list(query: { experiment?: string; state?: RunState; limit?: number; cursor?: string }): Promise<{
    runs: RunRecord[];
    nextCursor?: string;
  }> {
    const limit = Math.max(1, Math.min(query.limit ?? 50, 1000));
    const index = query.experiment
      ? this.experimentKey(query.experiment)
      : query.state
        ? this.stateKey(query.state)
        : this.allKey;
    const keep = (r: RunRecord) =>
      (!query.experiment || r.experiment === query.experiment) && (!query.state || r.state === query.state);

    let position = decodeCursor(query.cursor);
    const runs: RunRecord[] = [];
    // Walk the index newest first in batches; filter what the index alone cannot.
    for (;;) {
      const batch = await this.page(index, position, limit * 2);
      if (batch.length === 0) return { runs };
      const records = await this.redis.hmget(this.recordsKey, ...batch.map((b) => b.id));
      for (let i = 0; i < batch.length; i++) {
        position = batch[i]!;
        const raw = records[i];
        if (!raw) continue; // index entry without record (pruned): skip
        const r = JSON.parse(raw) as RunRecord;
        if (!keep(r)) continue;
        runs.push(r);
        if (runs.length === limit) {
          const more = await this.page(index, position, 1);
          return more.length ? { runs, nextCursor: encodeCursor(position) } : { runs };
        }
      }
    }
  }

  /** Entries strictly after `from` in (score desc, id desc) order. */
  private async page(index: string, from: { score: number; id: string } | undefined, count: number) {
    const out: { score: number; id: string }[] = [];
    if (from) {
      // Same-score entries come back in reverse lexicographic order; take those after the cursor id.
      const ties = await this.redis.zrevrangebyscore(index, from.score, from.score);
      for (const id of ties) if (id < from.id) out.push({ score: from.score, id });
      if (out.length >= count) return out.slice(0, count);
    }
    const max = from ? `(${from.score}` : '+inf';
    const rest = await this.redis.zrevrangebyscore(index, max, '-inf', 'WITHSCORES', 'LIMIT', 0, count - out.length);
    for (let i = 0; i < rest.length; i += 2) out.push({ id: rest[i]!, score: Number(rest[i + 1]) });
    return out;
  }
}

function encodeCursor(p: { score: number; id: string }): string {
  return Buffer.from(JSON.stringify([p.score, p.id])).toString('base64url');
}

function decodeCursor(cursor: string | undefined): { score: number; id: string } | undefined {
  if (!cursor) return undefined;
  try {
    const [score, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof score === 'number' && typeof id === 'string') return { score, id };
  } catch {
    // fall through
  }
  throw new Error('invalid cursor');
}
