// The runs stage: lifecycle state machine, active-fault ledger, orphan sweep, executor.
export { createRunExecutor, type RunExecutorDeps, type ActiveRunExecutor } from './executor.js';
export { TRANSITIONS, transition, startRun, canTransition, isTerminal, IllegalTransitionError, type Run, type NextOf, type TerminalState } from './state.js';
export { FaultLedger, ledgerKey } from './ledger.js';
export { sweepOrphans, type SweepOptions, type SweepResult } from './sweep.js';
export * from './types.js';
