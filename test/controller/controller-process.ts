// A whole controller in a process of its own, for the crash tests: startController with the
// recording executor, each execute() call logged to a Redis list so the test can count runs
// across processes. Env: the controller's env (FAULTLINE_*, REDIS_URL) plus FL_KUBECONFIG and
// FL_IDENTITY; FL_REAL_EXECUTOR=1 runs the real fault executor instead. Prints `ready <url>` once it listens; SIGTERM shuts it down as `faultline run` does.
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/index.js';
import { loadKubeConfig } from '../../src/cluster/index.js';
import { startController } from '../../src/controller/index.js';
import { createLogger } from '../../src/log.js';
import { RecordingExecutor, RedisRunStore } from '../../src/queue/index.js';
import type { RunExecutor } from '../../src/runs/types.js';

const config = loadConfig({ env: process.env });
config.server.port = 0;
const redis = new Redis(config.redis.url, { maxRetriesPerRequest: null });
const prefix = config.redis.prefix;
const recording = new RecordingExecutor({ store: new RedisRunStore(redis, prefix) });
const executor: RunExecutor = {
  async execute(job, signal) {
    await redis.rpush(`${prefix}:test-executed`, `${job.runId} ${process.pid}`);
    return recording.execute(job, signal);
  },
};
// Modules are loaded (tsx has transpiled them): the controller's own start-up begins now.
process.stdout.write(`starting ${Date.now()}\n`);
const controller = await startController({
  config,
  log: createLogger('controller-process', process.env.LOG_LEVEL ?? 'silent'),
  kubeConfig: loadKubeConfig({ kubeconfig: process.env.FL_KUBECONFIG }),
  executor: process.env.FL_REAL_EXECUTOR === '1' ? undefined : executor,
  identity: process.env.FL_IDENTITY,
});
process.stdout.write(`ready ${controller.url}\n`);
process.once('SIGTERM', () => {
  void controller.shutdown('controller shutting down (SIGTERM)').then(async () => {
    redis.disconnect();
    process.exit(0);
  });
});
