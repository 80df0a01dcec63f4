// faultline_resilience_score for experiment runs: set from the finished run's score, not for a
// workflow's step runs (their score is part of the workflow's).
import { describe, expect, it } from 'vitest';
import { MetricsListener } from '../../src/controller/metrics-listener.js';
import { registry } from '../../src/metrics.js';
import type { RunJobData } from '../../src/runs/types.js';
import { scoreRun } from '../../src/workflows/score.js';
import { faultRun } from '../workflows/run-fixtures.js';

const job = (experiment: string, workflow?: RunJobData['workflow']) => ({ runId: 'x', experiment, file: 'f', specHash: 's', revision: 'r', occurrence: 'once', trigger: 'reconcile', spec: {} as RunJobData['spec'], ...(workflow ? { workflow } : {}) }) as RunJobData;
const gauge = async (label: string) => new RegExp(`^faultline_resilience_score\\{${label}\\} (\\S+)$`, 'm').exec(await registry.metrics())?.[1];

describe('resilience score gauge', () => {
  it('is the last finished run of each experiment; running runs and workflow steps leave it alone', async () => {
    const l = new MetricsListener();
    const slow = faultRun({ id: 'm1', experiment: 'score-gauge-exp', recoveryMs: 90_000 });
    l.onRunUpdate(faultRun({ id: 'm0', experiment: 'score-gauge-exp', state: 'Running', outcome: undefined }), job('score-gauge-exp'));
    expect(await gauge('experiment="score-gauge-exp"')).toBeUndefined();
    l.onRunUpdate(slow, job('score-gauge-exp'));
    expect(Number(await gauge('experiment="score-gauge-exp"'))).toBe(scoreRun(slow)!.value);
    expect(scoreRun(slow)!.value).toBe(85);
    l.onRunUpdate(faultRun({ id: 'm2', experiment: 'score-gauge-exp' }), job('score-gauge-exp'));
    expect(Number(await gauge('experiment="score-gauge-exp"'))).toBe(100);
    l.onRunUpdate(faultRun({ id: 'm3', experiment: 'score-gauge-step', state: 'Failed', outcome: 'failed' }), job('score-gauge-step', { runId: 'w', name: 'flow', step: 'kill' }));
    expect(await gauge('experiment="score-gauge-step"')).toBeUndefined();
  });
});
