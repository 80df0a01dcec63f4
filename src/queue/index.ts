export { keys, runJobId, QUEUE_RECONCILE, QUEUE_RUNS } from './keys.js';
export {
  createQueues,
  enqueueRun,
  enqueueReconcile,
  upsertSchedule,
  removeSchedule,
  removePendingRuns,
  removePendingRun,
  experimentOfJobId,
  forgetFinishedRun,
  cancelRuns,
  redisConnection,
  RUN_JOB_OPTIONS,
  type Queues,
  type ReconcileJobData,
} from './queues.js';
export { requestAbort, subscribeAbort, pendingAbort, matchesRun, setFreeze, isFrozen, type AbortRequest } from './abort.js';
export {
  startRunWorker,
  runDataOf,
  ORPHAN_REASON,
  type RunWorker,
  type RunWorkerOptions,
  type RunMarker,
  type RunJobResult,
} from './run-worker.js';
export { startReconcileWorker, type ReconcileWorker, type ReconcileWorkerOptions } from './reconcile-worker.js';
export { RedisLeaderLock, type LeaderLock, type RedisLeaderLockOptions } from './leader.js';
export { RecordingExecutor, type RecordingExecutorOptions } from './recording-executor.js';
export { RedisRunStore } from './run-store.js';
export { closeOnSignals, type Closable } from './shutdown.js';
