// Workflow run records in Redis, as src/queue/run-store.ts keeps run records: one hash holds every
// record (field = run id, value = JSON), sorted sets by createdAt index them globally and per
// workflow, and a set names the runs not yet ended (a restarted controller looks there for runs
// whose controller died).
import type { Redis } from 'ioredis';
import { keys } from '../queue/keys.js';
import type { WorkflowRunRecord } from './run-types.js';

const TERMINAL = new Set(['Succeeded', 'Failed', 'Aborted']);

export interface WorkflowRunStore {
  save(record: WorkflowRunRecord): Promise<void>;
  get(id: string): Promise<WorkflowRunRecord | undefined>;
  /** Newest first. */
  list(query: { workflow?: string; limit?: number }): Promise<WorkflowRunRecord[]>;
  /** Runs whose record is not terminal. */
  unfinished(): Promise<WorkflowRunRecord[]>;
}

export class RedisWorkflowRunStore implements WorkflowRunStore {
  private readonly base: string;
  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.base = keys.workflowStore(prefix);
  }

  async save(record: WorkflowRunRecord): Promise<void> {
    const score = Date.parse(record.createdAt);
    if (Number.isNaN(score)) throw new Error(`workflow run ${record.id}: createdAt is not a time (${record.createdAt})`);
    const tx = this.redis.multi();
    tx.hset(`${this.base}:records`, record.id, JSON.stringify(record));
    tx.zadd(`${this.base}:by-created`, score, record.id);
    tx.zadd(`${this.base}:by-workflow:${record.workflow}`, score, record.id);
    if (TERMINAL.has(record.phase)) tx.srem(`${this.base}:unfinished`, record.id);
    else tx.sadd(`${this.base}:unfinished`, record.id);
    await tx.exec();
  }

  async get(id: string): Promise<WorkflowRunRecord | undefined> {
    const raw = await this.redis.hget(`${this.base}:records`, id);
    return raw ? (JSON.parse(raw) as WorkflowRunRecord) : undefined;
  }

  async list(query: { workflow?: string; limit?: number }): Promise<WorkflowRunRecord[]> {
    const limit = Math.max(1, Math.min(query.limit ?? 50, 1000));
    const index = query.workflow ? `${this.base}:by-workflow:${query.workflow}` : `${this.base}:by-created`;
    const ids = await this.redis.zrevrange(index, 0, limit - 1);
    return this.many(ids);
  }

  async unfinished(): Promise<WorkflowRunRecord[]> {
    const ids = await this.redis.smembers(`${this.base}:unfinished`);
    return (await this.many(ids)).filter((r) => !TERMINAL.has(r.phase));
  }

  private async many(ids: string[]): Promise<WorkflowRunRecord[]> {
    if (!ids.length) return [];
    const raws = await this.redis.hmget(`${this.base}:records`, ...ids);
    return raws.flatMap((raw) => (raw ? [JSON.parse(raw) as WorkflowRunRecord] : []));
  }
}

export function isTerminalWorkflow(phase: string): boolean {
  return TERMINAL.has(phase);
}
