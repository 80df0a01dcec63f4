export { planReconcile } from './plan.js';
export { RedisAppliedStore } from './applied-store.js';
export { Reconciler, FREEZE_REASON, type ReconcilerOptions } from './reconciler.js';
export type * from './types.js';
