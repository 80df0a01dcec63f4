// A runs worker in a process of its own, for the multi-process tests: it records every
// execute() call in a Redis list so the test can count executions across processes.
import { Redis } from 'ioredis';
import { RecordingExecutor } from '../../src/queue/recording-executor.js';
import { RedisRunStore } from '../../src/queue/run-store.js';
import { startRunWorker } from '../../src/queue/run-worker.js';
import { closeOnSignals } from '../../src/queue/shutdown.js';
import type { RunExecutor } from '../../src/runs/types.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = process.env.FL_PREFIX!;
const redis = new Redis(url, { maxRetriesPerRequest: null });
const store = new RedisRunStore(redis, prefix);
const recording = new RecordingExecutor({ store, holdMs: Number(process.env.FL_HOLD_MS ?? 0) });
const executor: RunExecutor = {
  async execute(job, signal) {
    await redis.rpush(`${prefix}:test-executed`, `${job.runId} ${process.pid}`);
    return recording.execute(job, signal);
  },
};
const worker = await startRunWorker({
  connection: url,
  prefix,
  executor,
  runStore: store,
  concurrency: 2,
  lockDurationMs: 1000,
  stalledIntervalMs: 300,
});
closeOnSignals([worker, { close: () => redis.quit().then(() => undefined) }]);
process.stdout.write('ready\n');
