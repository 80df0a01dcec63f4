// The injector handshake through the executor against the simulator: a run enters Running only
// when every target's injector confirms; an injector that fails, never starts or starts too late
// makes the run Failed with the injector's own error (never Succeeded), and what did apply is reverted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api } from '@kubernetes/client-node';
import { shortRunId } from '../../src/faults/index.js';
import { FaultLedger } from '../../src/runs/index.js';
import type { RunRecord } from '../../src/runs/types.js';
import { job, SAFETY, startWorld, type World } from './helpers.js';

const states = (r: RunRecord) => r.timeline.map((t) => t.state);
const catalog = { namespace: 'shop', selector: { matchLabels: { app: 'catalog' } }, mode: { type: 'all' as const } };

describe('run outcome follows the injectors', () => {
  let w: World;
  beforeAll(async () => { w = await startWorld(); });
  afterAll(async () => { w?.sim.injectors.behave(undefined); await w?.close(); });

  const injectorStatus = async (pod: string, runId: string) =>
    (await w.sim.kubeConfig().makeApiClient(CoreV1Api).readNamespacedPod({ namespace: 'shop', name: pod })).status?.ephemeralContainerStatuses
      ?.find((s) => s.name === `faultline-${shortRunId(runId)}`);

  it('one injector fails: Failed with its own error; the other target, which applied, is reverted', async () => {
    let failing = '';
    w.sim.injectors.behave((pod) => {
      failing ||= pod.name;
      return pod.name === failing ? { fail: 'tc qdisc add: Error: Specified qdisc kind is unknown.' } : undefined;
    });
    const j = job('cat-loss', { type: 'network-loss', params: { percent: 10 } }, catalog, { duration: '30s' });
    const rec = await w.executor({ injectorStartTimeoutMs: 10_000, safety: { ...SAFETY, maxBlastRadiusPercent: 100 } }).execute(j, new AbortController().signal);
    expect(rec).toMatchObject({ state: 'Failed', outcome: 'failed' });
    expect(states(rec)).toEqual(['Pending', 'Validating', 'Injecting', 'Reverting', 'Failed']);
    expect(rec.reason).toBe(`fault not in place on 1 of 2 target(s): shop/${failing}: injector failed: tc qdisc add: Error: Specified qdisc kind is unknown.`);
    const other = rec.targets.find((t) => t.name !== failing)!;
    expect((await injectorStatus(other.name, j.runId))?.state?.terminated?.message).toBe('reverted');
    expect(await new FaultLedger(w.redis, w.prefix).list()).toEqual({ entries: [], broken: [] });
  });

  it('an injector that never starts: Failed after the start timeout with the kubelet\'s reason', async () => {
    w.sim.injectors.behave(() => ({ neverStart: { reason: 'ErrImagePull', message: 'failed to pull image "ghcr.io/faultline/agent:test": not found' } }));
    const j = job('cat-cpu', { type: 'cpu-stress', params: { workers: 1 } }, { ...catalog, mode: { type: 'one' } }, { duration: '30s' });
    const rec = await w.executor({ injectorStartTimeoutMs: 1500 }).execute(j, new AbortController().signal);
    expect(rec.state).toBe('Failed');
    expect(states(rec)).not.toContain('Running');
    expect(rec.reason).toMatch(/^fault not in place on 1 of 1 target\(s\): shop\/catalog-[a-z0-9-]+: not confirmed within 2s: injector waiting \(ErrImagePull: failed to pull image/);
  });

  it('an injector that starts after the start deadline refuses to apply: Failed, never Succeeded', async () => {
    // starts 2.5 s after it was added, the run allows 1 s: the script's NOT_AFTER check refuses
    w.sim.injectors.behave(() => ({ startDelayMs: 2500 }));
    const j = job('cat-mem', { type: 'memory-stress', params: { size: '64Mi' } }, { ...catalog, mode: { type: 'one' } }, { duration: '30s' });
    const rec = await w.executor({ injectorStartTimeoutMs: 1000 }).execute(j, new AbortController().signal);
    expect(rec.state).toBe('Failed');
    expect(rec.reason).toMatch(/not confirmed within 1s: injector waiting \(ContainerCreating\)/);
    // the revert waited for it: it started late and refused, so nothing was ever applied
    const st = await injectorStatus(rec.targets[0]!.name, j.runId);
    expect(st?.state?.terminated).toMatchObject({ exitCode: 3, message: expect.stringMatching(/^failed: start: started after the run's start deadline \d+$/) });
  });

  it('every injector confirms: Running, then Succeeded', async () => {
    w.sim.injectors.behave(undefined);
    const j = job('cat-part', { type: 'network-partition', params: { cidrs: ['10.96.0.0/12'], ports: [5432] } }, catalog, { duration: '1s' });
    const rec = await w.executor({ injectorStartTimeoutMs: 10_000, safety: { ...SAFETY, maxBlastRadiusPercent: 100 } }).execute(j, new AbortController().signal);
    expect(rec.state).toBe('Succeeded');
    expect(states(rec)).toEqual(['Pending', 'Validating', 'Injecting', 'Running', 'Reverting', 'Succeeded']);
  });
});
