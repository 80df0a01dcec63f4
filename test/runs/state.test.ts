// The run state machine: illegal moves do not compile (the @ts-expect-error lines are checked by
// tsc: if a move became legal, the unused directive would be a compile error) and throw at runtime.
import { describe, expect, it } from 'vitest';
import { canTransition, IllegalTransitionError, isTerminal, startRun, transition, TRANSITIONS, type NextOf, type Run } from '../../src/runs/state.js';
import { RUN_STATES, type RunRecord, type RunState } from '../../src/runs/types.js';

function record(): RunRecord {
  return {
    id: 'r1', experiment: 'e', file: 'e.yaml', specHash: 'h', revision: 'rev', faultType: 'pod-kill', trigger: 'manual',
    state: 'Pending', createdAt: new Date(0).toISOString(), targets: [], blastRadius: [], guards: [], probes: [], timeline: [],
  };
}

describe('run state machine', () => {
  it('walks the happy path through Reverting and records the timeline', () => {
    const rec = record();
    const p = startRun(rec, 'queued');
    const v = transition(p, 'Validating', 'v');
    const i = transition(v, 'Injecting', 'i');
    const r = transition(i, 'Running', 'r');
    const rv = transition(r, 'Reverting', 'rv');
    const done = transition(rv, 'Succeeded', 'ok');
    expect(done.state).toBe('Succeeded');
    expect(rec.timeline.map((t) => t.state)).toEqual(['Pending', 'Validating', 'Injecting', 'Running', 'Reverting', 'Succeeded']);
  });

  it('every path to a terminal state goes through Reverting', () => {
    for (const from of RUN_STATES) {
      for (const to of TRANSITIONS[from]) {
        if (isTerminal(to)) expect(from).toBe('Reverting');
      }
    }
    // and Reverting is reachable from every non-terminal state after Pending
    for (const s of ['Validating', 'Injecting', 'Running'] as const) expect(canTransition(s, 'Reverting')).toBe(true);
  });

  it('illegal moves throw at runtime (also through casts and stale handles)', () => {
    const rec = record();
    const p = startRun(rec, 'queued');
    const v = transition(p, 'Validating', 'v');
    expect(() => transition(v as unknown as Run<'Reverting'>, 'Failed', 'x')).toThrow(IllegalTransitionError);
    expect(() => transition(p, 'Validating', 'again')).toThrow(/stale handle/);
    const rv = transition(v, 'Reverting', 'refused');
    const failed = transition(rv, 'Failed', 'refused');
    expect(() => transition(failed as unknown as Run<'Running'>, 'Reverting', 'x')).toThrow(/illegal run transition Failed → Reverting/);
    expect(() => startRun(rec, 'again')).toThrow(IllegalTransitionError);
    for (const from of RUN_STATES) {
      for (const to of RUN_STATES) {
        const r = record();
        r.state = from;
        r.timeline.push({ at: '', state: from, message: '' });
        const attempt = () => transition({ state: from, record: r } as Run<RunState>, to as never, 'x');
        if (canTransition(from, to)) expect(attempt).not.toThrow();
        else expect(attempt).toThrow(IllegalTransitionError);
      }
    }
  });

  it('illegal moves do not compile', () => {
    const rec = record();
    const p = startRun(rec, 'queued');
    // @ts-expect-error Pending cannot jump to Running
    expect(() => transition(p, 'Running', 'x')).toThrow();
    const v = transition(p, 'Validating', 'v');
    // @ts-expect-error Validating cannot end without Reverting
    expect(() => transition(v, 'Failed', 'x')).toThrow();
    const i = transition(v, 'Injecting', 'i');
    // @ts-expect-error Injecting cannot succeed without Reverting
    expect(() => transition(i, 'Succeeded', 'x')).toThrow();
    const r = transition(i, 'Running', 'r');
    // @ts-expect-error Running cannot be aborted without Reverting
    expect(() => transition(r, 'Aborted', 'x')).toThrow();
    // A handle whose state is one of several live states can only go to Reverting.
    const live = r as Run<'Validating'> | Run<'Injecting'> | Run<'Running'>;
    const onlyReverting: NextOf<'Validating' | 'Injecting' | 'Running'> = 'Reverting';
    // @ts-expect-error Running is not legal from every live state
    expect(() => transition(live, 'Running', 'x')).toThrow();
    const rv = transition(live, onlyReverting, 'rv');
    // @ts-expect-error Reverting cannot go back to Running
    expect(() => transition(rv, 'Running', 'x')).toThrow();
    const end = transition(rv, 'Aborted', 'a');
    // @ts-expect-error a terminal state has no next state
    expect(() => transition(end, 'Reverting', 'x')).toThrow();
  });
});
