// What a caller learns from the run state machine: which states are final, and what an illegal
// move says (the message is logged and shown in the run timeline).
import { describe, expect, it } from 'vitest';
import { IllegalTransitionError, isTerminal, resumeRun, startRun, toReverting, transition, type Run } from '../../src/runs/state.js';
import { RUN_STATES, type RunRecord, type RunState } from '../../src/runs/types.js';

const record = (): RunRecord => ({
  id: 'r1', experiment: 'e', file: 'e.yaml', specHash: 'h', revision: 'rev', faultType: 'pod-kill', trigger: 'manual',
  state: 'Pending', createdAt: new Date(0).toISOString(), targets: [], blastRadius: [], guards: [], probes: [], timeline: [],
});

describe('terminal states', () => {
  it('Succeeded, Failed and Aborted are final; every other state is still live', () => {
    const terminal = RUN_STATES.filter((s) => isTerminal(s));
    expect(terminal).toEqual(['Succeeded', 'Failed', 'Aborted']);
    for (const s of ['Pending', 'Validating', 'Injecting', 'Running', 'Reverting'] satisfies RunState[]) expect(isTerminal(s), s).toBe(false);
  });
});

describe('illegal moves explain themselves', () => {
  it('a move the machine does not allow names both states', () => {
    const v = transition(startRun(record(), 'queued'), 'Validating', 'v');
    const err = (() => {
      try {
        transition(v as unknown as Run<'Reverting'>, 'Succeeded', 'x');
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a throw');
    })();
    expect(err).toBeInstanceOf(IllegalTransitionError);
    expect(err.name).toBe('IllegalTransitionError');
    expect(err.message).toBe('illegal run transition Validating → Succeeded: not allowed');
  });

  it('starting a run twice is refused and says the run has started, without touching its timeline', () => {
    const rec = record();
    transition(startRun(rec, 'queued'), 'Validating', 'v');
    expect(() => startRun(rec, 'again')).toThrow('illegal run transition Validating → Pending: the run has already started');
    expect(rec.timeline.map((t) => t.state)).toEqual(['Pending', 'Validating']);
    expect(rec.state).toBe('Validating');
  });
});

describe('ending a stored run from outside the executor', () => {
  it('a resumed live run goes to Reverting with the message on its timeline; one already Reverting stays, unchanged', () => {
    const r = record();
    r.state = 'Running';
    const reverting = toReverting(resumeRun(r), 'revert loop: run not live', new Date(5));
    expect(reverting.state).toBe('Reverting');
    expect(r.state).toBe('Reverting');
    expect(r.timeline).toEqual([{ at: new Date(5).toISOString(), state: 'Reverting', message: 'revert loop: run not live' }]);
    const again = toReverting(resumeRun(r), 'again');
    expect(again.state).toBe('Reverting');
    expect(again.record).toBe(r);
    expect(r.timeline).toHaveLength(1);
  });

  it('a finished run cannot be moved back to Reverting', () => {
    const r = record();
    r.state = 'Succeeded';
    expect(() => toReverting(resumeRun(r), 'late')).toThrow(IllegalTransitionError);
    expect(r.state).toBe('Succeeded');
  });
});
