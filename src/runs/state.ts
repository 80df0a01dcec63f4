// The run lifecycle as a typed state machine. Allowed moves:
//   Pending → Validating → Injecting → Running → Reverting → Succeeded | Failed | Aborted
// and from Pending/Validating/Injecting straight to Reverting (never started, a refusal or an
// error), so EVERY path to
// a terminal state passes through Reverting. An illegal move does not compile
// (`transition(run, to)` only accepts NextOf<S>) and throws at runtime as well (for callers
// that reach it through `any`, JSON, or a stale handle).
import type { RunRecord, RunState } from './types.js';

export const TRANSITIONS = {
  Pending: ['Validating', 'Reverting'],
  Validating: ['Injecting', 'Reverting'],
  Injecting: ['Running', 'Reverting'],
  Running: ['Reverting'],
  Reverting: ['Succeeded', 'Failed', 'Aborted'],
  Succeeded: [],
  Failed: [],
  Aborted: [],
} as const satisfies Record<RunState, readonly RunState[]>;

type Next = { [S in RunState]: (typeof TRANSITIONS)[S][number] };

/**
 * States reachable from S. For a union of states, only the moves legal from EVERY member
 * (e.g. NextOf<'Validating' | 'Injecting' | 'Running'> is 'Reverting').
 */
export type NextOf<S extends RunState> = (S extends RunState ? (x: Next[S]) => void : never) extends (x: infer I) => void ? I & RunState : never;

export type TerminalState = 'Succeeded' | 'Failed' | 'Aborted';

/** A handle on a run in state S. Handles are single-use: transition() retires the old one. */
export interface Run<S extends RunState> {
  readonly state: S;
  readonly record: RunRecord;
}

export class IllegalTransitionError extends Error {
  constructor(from: RunState, to: string, why = 'not allowed') {
    super(`illegal run transition ${from} → ${to}: ${why}`);
    this.name = 'IllegalTransitionError';
  }
}

export function isTerminal(state: RunState): state is TerminalState {
  return TRANSITIONS[state].length === 0;
}

export function canTransition(from: RunState, to: RunState): boolean {
  return (TRANSITIONS[from] as readonly RunState[]).includes(to);
}

/** Starts a run at Pending (the record's state and timeline are written). */
export function startRun(record: RunRecord, message: string, at = new Date()): Run<'Pending'> {
  if (record.timeline.length) throw new IllegalTransitionError(record.state, 'Pending', 'the run has already started');
  record.state = 'Pending';
  record.timeline.push({ at: at.toISOString(), state: 'Pending', message });
  return { state: 'Pending', record };
}

/** A handle on a stored run, at the state its record says (to end it from outside the executor). */
export function resumeRun(record: RunRecord): Run<RunState> {
  return { state: record.state, record };
}

/** Moves a run to `to`, recording it on the timeline. Throws on an illegal or stale move. */
export function transition<S extends RunState, T extends NextOf<S>>(run: Run<S>, to: T, message: string, at = new Date()): Run<T> {
  const from = run.state as RunState;
  if (run.record.state !== from) throw new IllegalTransitionError(from, to, `stale handle: the run is already ${run.record.state}`);
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
  run.record.state = to;
  run.record.timeline.push({ at: at.toISOString(), state: to, message });
  return { state: to, record: run.record };
}

/**
 * A run of any live state to Reverting (a run already Reverting stays). The state is known only at
 * runtime here (a stored record), so the check is transition()'s runtime one: a terminal run throws.
 */
export function toReverting(run: Run<RunState>, message: string, at = new Date()): Run<'Reverting'> {
  if (run.state === 'Reverting') return run as Run<'Reverting'>;
  return transition(run as Run<'Pending' | 'Validating' | 'Injecting' | 'Running'>, 'Reverting', message, at);
}
