// The reconcile worker: one pass at a time per replica (concurrency 1); the queue's
// de-duplication keeps at most one more waiting, and the leader lock keeps replicas apart.
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { silentLogger, type Logger } from '../log.js';
import { QUEUE_RECONCILE } from './keys.js';
import type { ReconcileJobData } from './queues.js';

export interface ReconcileWorkerOptions {
  connection: string | Redis;
  prefix: string;
  handler: (data: ReconcileJobData, job: Job<ReconcileJobData>) => Promise<unknown>;
  log?: Logger;
}

export interface ReconcileWorker {
  readonly worker: Worker<ReconcileJobData>;
  close(): Promise<void>;
}

export async function startReconcileWorker(opts: ReconcileWorkerOptions): Promise<ReconcileWorker> {
  const log = opts.log ?? silentLogger;
  const redis = typeof opts.connection === 'string' ? new Redis(opts.connection, { maxRetriesPerRequest: null }) : opts.connection.duplicate();
  const worker = new Worker<ReconcileJobData>(QUEUE_RECONCILE, async (job) => opts.handler(job.data, job), {
    connection: redis,
    prefix: opts.prefix,
    concurrency: 1,
  });
  worker.on('failed', (job, err) => log.error({ err, jobId: job?.id, trigger: job?.data.trigger }, 'reconcile failed'));
  worker.on('error', (err) => log.error({ err }, 'reconcile worker error'));
  await worker.waitUntilReady();
  let closing: Promise<void> | undefined;
  return {
    worker,
    close() {
      closing ??= (async () => {
        await worker.close();
        await redis.quit().catch(() => redis.disconnect());
      })();
      return closing;
    },
  };
}
