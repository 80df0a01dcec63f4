// The runs stage: lifecycle state machine, active-fault ledger, orphan sweep, executor.
export { createRunExecutor, RUN_PHASES, type RunPhase, type RunExecutorDeps, type ActiveRunExecutor } from './executor.js';
export { TRANSITIONS, transition, startRun, resumeRun, toReverting, canTransition, isTerminal, IllegalTransitionError, type Run, type NextOf, type TerminalState } from './state.js';
export { FaultLedger, ledgerKey } from './ledger.js';
export { sweepOrphans, type SweepOptions, type SweepResult } from './sweep.js';
export * from './types.js';
export { RevertLoop, type RevertLoopOptions, type PassResult } from './revert-loop.js';
export { listClusterFaults, type ClusterFaults } from './cluster-faults.js';
export { startHeartbeat, hasHeartbeat, heartbeatKey, HEARTBEAT_TTL_MS, type Heartbeat } from './heartbeat.js';
export { newRunRecord, endRunOutside, endRun, tellListeners, type RunReporting } from './lifecycle.js';
export { REASONS, ORPHAN_REASON, type Ending } from './reasons.js';
