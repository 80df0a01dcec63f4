// Endings outside the executor (a dead controller's run, a job never started) go through the
// state machine: through Reverting to the terminal state, with the reason code next to the
// message, saved and told to the listeners once; a run already ended is never rewritten.
import { describe, expect, it } from 'vitest';
import { endRun, endRunOutside, newRunRecord } from '../../src/runs/lifecycle.js';
import { ORPHAN_REASON, REASONS } from '../../src/runs/reasons.js';
import { startRun, transition } from '../../src/runs/state.js';
import type { RunJobData, RunRecord, RunStore } from '../../src/runs/types.js';
import { silentLogger } from '../../src/log.js';

function memoryStore(): RunStore & { map: Map<string, RunRecord> } {
  const map = new Map<string, RunRecord>();
  return {
    map,
    async save(r) { map.set(r.id, structuredClone(r)); },
    async get(id) { return structuredClone(map.get(id)); },
    async list() { return { runs: [...map.values()] }; },
  };
}

const job = { runId: 'e.0123456789abcdef.once', experiment: 'e', file: 'experiments/e.yaml', specHash: 'ab'.repeat(32), revision: 'f'.repeat(40), occurrence: 'once', trigger: 'reconcile', spec: { spec: { fault: { type: 'scale-down' } } } } as unknown as RunJobData;

describe('ending a run outside the executor', () => {
  it('a Running run whose controller died moves through Reverting to Failed (ControllerDied), told to listeners once', async () => {
    const store = memoryStore();
    const rec = newRunRecord(job, 'scale-down');
    const v = transition(startRun(rec, 'queued'), 'Validating', 'v');
    transition(transition(v, 'Injecting', 'i'), 'Running', 'r');
    await store.save(rec);
    const heard: RunRecord[] = [];
    const ended = await endRun({ store, listeners: [{ onRunUpdate: (r) => void heard.push(r) }], log: silentLogger }, job, job.runId, REASONS.controllerDied('API server unreachable'));
    expect(ended?.timeline.map((t) => t.state)).toEqual(['Pending', 'Validating', 'Injecting', 'Running', 'Reverting', 'Failed']);
    expect(ended).toMatchObject({ state: 'Failed', outcome: 'failed', reasonCode: 'ControllerDied', reason: `${ORPHAN_REASON}; revert failed: API server unreachable (the revert loop keeps retrying)` });
    expect(ended!.timeline.at(-1)!.code).toBe('ControllerDied');
    expect(heard).toHaveLength(1);
    // Ended already: a second ending (a re-delivery) changes nothing and tells no one.
    expect(await endRun({ store, listeners: [{ onRunUpdate: (r) => void heard.push(r) }], log: silentLogger }, job, job.runId, REASONS.controllerDied())).toBeUndefined();
    expect(heard).toHaveLength(1);
    expect(store.map.get(job.runId)!.reasonCode).toBe('ControllerDied');
  });

  it('a job never started: Pending → Reverting → Aborted with the freeze reason', async () => {
    const store = memoryStore();
    const ended = await endRunOutside(store, job, job.runId, REASONS.notStartedFrozen());
    expect(ended?.timeline.map((t) => [t.state, t.code])).toEqual([['Pending', undefined], ['Reverting', undefined], ['Aborted', 'Frozen']]);
    expect(ended).toMatchObject({ state: 'Aborted', outcome: 'aborted', reason: 'freeze: the kill switch is on; run not started' });
  });

  it('nothing known about the run: nothing to end', async () => {
    expect(await endRunOutside(memoryStore(), undefined, 'unknown', REASONS.controllerDied())).toBeUndefined();
  });
});
