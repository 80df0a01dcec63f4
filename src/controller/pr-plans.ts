// The pull-request plan queue. Plans of one pull request run one at a time (a Redis lock shared
// by the replicas) and in delivery order: two plans racing would each find no sticky comment and
// both create one, and an older head finishing last would overwrite the newer plan. A plan whose
// pull request already had a later delivery planned is skipped.
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { PullRequestEvent } from '../server/types.js';

/** A plan job: the webhook event and its place in the pull request's delivery order. */
export type PlanJob = PullRequestEvent & { seq?: number };

const KEEP_SECONDS = 30 * 24 * 3600;
const LOCK_TTL_MS = 60_000;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0`;

const keyOf = (prefix: string, e: PullRequestEvent, what: string) => `${prefix}:pr:${e.host}:${e.number}:${what}`;

/**
 * Queue a plan. Each delivery is its own job (so a reopened pull request at the same head is
 * planned again); a host retry of one delivery keeps its id and collapses onto the same job.
 */
export async function enqueuePlan(plans: Queue<PlanJob>, redis: Redis, prefix: string, e: PullRequestEvent): Promise<void> {
  const seqKey = keyOf(prefix, e, 'seq');
  const [[, seq]] = (await redis.multi().incr(seqKey).expire(seqKey, KEEP_SECONDS).exec()) as [[unknown, number]];
  const delivery = e.deliveryId.replace(/[^A-Za-z0-9_.-]/g, '_'); // BullMQ ids may not contain ':'
  await plans.add('plan', { ...e, seq }, { jobId: `pr.${e.number}.${e.headSha}.${delivery}`, removeOnComplete: { age: 3600 }, removeOnFail: { age: 86400 } });
}

/** Runs `plan` holding the pull request's lock, unless a later delivery was planned already. */
export async function planInOrder<T>(
  redis: Redis,
  prefix: string,
  job: PlanJob,
  plan: () => Promise<T>,
  opts: { pollMs?: number } = {},
): Promise<T | { skipped: string }> {
  const lockKey = keyOf(prefix, job, 'lock');
  const token = randomUUID();
  while ((await redis.set(lockKey, token, 'PX', LOCK_TTL_MS, 'NX')) === null) {
    await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 100));
  }
  const renew = setInterval(() => void redis.eval(RENEW, 1, lockKey, token, String(LOCK_TTL_MS)).catch(() => undefined), LOCK_TTL_MS / 3);
  try {
    const plannedKey = keyOf(prefix, job, 'planned');
    const planned = Number((await redis.get(plannedKey)) ?? 0);
    if (job.seq !== undefined && job.seq < planned) return { skipped: `superseded by a later delivery for pull request ${job.number}` };
    const result = await plan();
    if (job.seq !== undefined) await redis.set(plannedKey, String(job.seq), 'EX', KEEP_SECONDS);
    return result;
  } finally {
    clearInterval(renew);
    await redis.eval(RELEASE, 1, lockKey, token).catch(() => undefined);
  }
}
