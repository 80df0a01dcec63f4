// perTarget owns the loop over a fault's targets (as Chaos Mesh's records controller does over
// Apply/Recover per record): every target is checked before any is touched, targets are applied
// in order and the first failure ends the injection, and recovery goes on past a failing target
// and names each one that failed.
import { describe, expect, it } from 'vitest';
import type { KubeConfig } from '@kubernetes/client-node';
import { perTarget } from '../../src/faults/per-target.js';
import type { FaultContext, Injection } from '../../src/faults/types.js';
import { silentLogger } from '../../src/log.js';

type T = { name: string };
const injection: Injection = {
  runId: 'r.0000000000000001.once', experiment: 'r', fault: 'node-cordon', touched: [],
  revertData: { targets: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] }, expiresAt: new Date().toISOString(),
};
const ctx = { log: silentLogger } as unknown as FaultContext;

function driver(opts: { refuse?: string; failApply?: string; failRecover?: string[] }) {
  const calls: string[] = [];
  const d = perTarget<T>({
    type: 'node-cordon',
    prepare: async () => injection,
    targets: (inj) => (inj.revertData as { targets: T[] }).targets,
    describe: (t) => `Node/${t.name}`,
    async check(_c, _i, t) {
      calls.push(`check ${t.name}`);
      if (t.name === opts.refuse) throw new Error(`${t.name} refused`);
    },
    async apply(_c, _i, t) {
      calls.push(`apply ${t.name}`);
      if (t.name === opts.failApply) throw new Error(`${t.name} apply failed`);
    },
    async recover(_kc, _i, t) {
      calls.push(`recover ${t.name}`);
      if (opts.failRecover?.includes(t.name)) throw Object.assign(new Error('ignored'), { code: 503, body: { message: `${t.name}: the server is busy` } });
    },
  });
  return { d, calls };
}

describe('perTarget', () => {
  it('checks every target before applying any, then applies each in order', async () => {
    const { d, calls } = driver({});
    await d.inject(ctx, injection);
    expect(calls).toEqual(['check a', 'check b', 'check c', 'apply a', 'apply b', 'apply c']);
  });

  it('one refused target refuses the run before any target is touched', async () => {
    const { d, calls } = driver({ refuse: 'c' });
    await expect(d.inject(ctx, injection)).rejects.toThrow('c refused');
    expect(calls.filter((c) => c.startsWith('apply'))).toEqual([]);
  });

  it('the first failing apply ends the injection (the executor then reverts what is recorded)', async () => {
    const { d, calls } = driver({ failApply: 'b' });
    await expect(d.inject(ctx, injection)).rejects.toThrow('b apply failed');
    expect(calls.filter((c) => c.startsWith('apply'))).toEqual(['apply a', 'apply b']);
  });

  it('recovers every target even when some fail, and names each failure with the API server\'s words', async () => {
    const { d, calls } = driver({ failRecover: ['a', 'c'] });
    await expect(d.revert({} as KubeConfig, injection, silentLogger)).rejects.toThrow('Node/a: 503: a: the server is busy; Node/c: 503: c: the server is busy');
    expect(calls).toEqual(['recover a', 'recover b', 'recover c']);
  });

  it('a fault with nothing to recover says so and succeeds', async () => {
    const d = perTarget<T>({ type: 'pod-kill', prepare: async () => injection, targets: () => [], describe: (t) => t.name, apply: async () => undefined, nothingToRecover: 'controllers recreate the pods' });
    await expect(d.revert({} as KubeConfig, injection, silentLogger)).resolves.toBeUndefined();
  });
});
