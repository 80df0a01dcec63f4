// Abort requests travel over Redis pub/sub (`<prefix>:abort`) to every runs worker. A short-lived
// key with the request time also covers a run that is just starting while the message flies by:
// the worker checks it once its abort signal is wired, and honours it only for jobs enqueued
// before the request (so a re-created experiment is not aborted by an old request).
import type { Redis } from 'ioredis';
import { keys } from './keys.js';

export interface AbortRequest {
  runId?: string;
  experiment?: string;
  /** A workflow's runs (its file was deleted). */
  workflow?: string;
  all?: boolean;
  reason: string;
  at: number; // ms since epoch
}

const REQUEST_TTL_MS = 120_000;

export async function requestAbort(
  redis: Redis,
  prefix: string,
  target: { runId?: string; experiment?: string; workflow?: string; all?: boolean; reason?: string },
): Promise<AbortRequest> {
  if (!target.runId && !target.experiment && !target.workflow && !target.all) throw new Error('requestAbort needs runId, experiment, workflow or all');
  const req: AbortRequest = { reason: target.reason ?? 'abort requested', at: Date.now() };
  if (target.runId) req.runId = target.runId;
  if (target.experiment) req.experiment = target.experiment;
  if (target.workflow) req.workflow = target.workflow;
  if (target.all) req.all = true;
  const tx = redis.multi();
  const value = JSON.stringify(req);
  if (req.runId) tx.set(keys.abortRun(prefix, req.runId), value, 'PX', REQUEST_TTL_MS);
  if (req.experiment) tx.set(keys.abortExperiment(prefix, req.experiment), value, 'PX', REQUEST_TTL_MS);
  tx.publish(keys.abortChannel(prefix), value);
  await tx.exec();
  return req;
}

/** The pending abort request for a run that is about to start, if any was made after it was queued. */
export async function pendingAbort(
  redis: Redis,
  prefix: string,
  run: { runId: string; experiment: string; enqueuedAt: number },
): Promise<AbortRequest | undefined> {
  const [byRun, byExp] = await redis.mget(keys.abortRun(prefix, run.runId), keys.abortExperiment(prefix, run.experiment));
  for (const raw of [byRun, byExp]) {
    if (!raw) continue;
    const req = parseRequest(raw);
    if (req && req.at >= run.enqueuedAt) return req;
  }
  return undefined;
}

export function matchesRun(req: AbortRequest, run: { runId: string; experiment: string }): boolean {
  return req.all === true || req.runId === run.runId || req.experiment === run.experiment;
}

/** Subscribes a dedicated connection to abort requests. */
export async function subscribeAbort(
  redis: Redis,
  prefix: string,
  onRequest: (req: AbortRequest) => void,
): Promise<{ close(): Promise<void> }> {
  const sub = redis.duplicate();
  const channel = keys.abortChannel(prefix);
  sub.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    const req = parseRequest(message);
    if (req) onRequest(req);
  });
  await sub.subscribe(channel);
  return {
    async close() {
      await sub.quit().catch(() => sub.disconnect());
    },
  };
}

function parseRequest(raw: string): AbortRequest | undefined {
  try {
    const v = JSON.parse(raw) as Partial<AbortRequest>;
    if (typeof v !== 'object' || v === null || typeof v.at !== 'number') return undefined;
    return { ...v, reason: typeof v.reason === 'string' ? v.reason : 'abort requested', at: v.at };
  } catch {
    return undefined;
  }
}

/** The Git kill switch as seen by workers: while set, no run starts. */
export async function setFreeze(redis: Redis, prefix: string, on: boolean): Promise<void> {
  if (on) await redis.set(keys.freeze(prefix), new Date().toISOString());
  else await redis.del(keys.freeze(prefix));
}

export async function isFrozen(redis: Redis, prefix: string): Promise<boolean> {
  return (await redis.exists(keys.freeze(prefix))) === 1;
}
