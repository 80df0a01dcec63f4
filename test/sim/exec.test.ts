import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { CoreV1Api, Exec, PatchStrategy, setHeaderOptions, type V1Status } from '@kubernetes/client-node';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { waitFor } from '../helpers/wait.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function run(s: Simulator, pod: string, container: string, command: string[]): Promise<{ status: V1Status; stdout: string }> {
  const out = new PassThrough();
  let stdout = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  const status = await new Promise<V1Status>((resolve, reject) => {
    new Exec(s.kubeConfig()).exec('shop', pod, container, command, out, null, null, false, resolve).catch(reject);
  });
  return { status, stdout };
}

describe('pods/exec over WebSocket', () => {
  it('records commands, returns exit status, and kill 1 ends an ephemeral container', async () => {
    sim = await startSimulator({ readyDelayMs: 20 });
    const core = sim.kubeConfig().makeApiClient(CoreV1Api);
    await core.patchNamespacedPodEphemeralcontainers({ namespace: 'shop', name: 'orders-db-0', body: { spec: { ephemeralContainers: [
      { name: 'faultline-fx', image: 'injector:1', command: ['sh', '-c', 'sleep 3600'] },
    ] } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    await waitFor('ephemeral running', async () =>
      (await core.readNamespacedPod({ namespace: 'shop', name: 'orders-db-0' })).status?.ephemeralContainerStatuses?.[0]?.state?.running);

    const echo = await run(sim, 'orders-db-0', 'orders-db', ['echo', 'hello']);
    expect(echo.status.status).toBe('Success');
    await waitFor('stdout hello', () => echo.stdout === 'hello\n');

    const failed = await run(sim, 'orders-db-0', 'orders-db', ['false']);
    expect(failed.status).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '1' }] } });

    const kill = await run(sim, 'orders-db-0', 'faultline-fx', ['kill', '-TERM', '1']);
    expect(kill.status.status).toBe('Success');
    const pod = await core.readNamespacedPod({ namespace: 'shop', name: 'orders-db-0' });
    expect(pod.status!.ephemeralContainerStatuses![0]!.state!.terminated).toMatchObject({ exitCode: 143 });
    expect(sim.execLog.map((c) => [c.container, c.command.join(' ')])).toEqual([
      ['orders-db', 'echo hello'], ['orders-db', 'false'], ['faultline-fx', 'kill -TERM 1'],
    ]);
    expect(sim.execLog[2]!.ephemeral).toBe(true);

    // a terminated container cannot be exec'd into
    await expect(run(sim, 'orders-db-0', 'faultline-fx', ['true'])).rejects.toBeDefined();
  });

  it('kill -TERM 1 in an app container restarts it; kill -9 1 from inside is dropped, as the kernel does', async () => {
    sim = await startSimulator();
    type P = { status: { containerStatuses: { restartCount: number; lastState?: { terminated: { exitCode: number } } }[] } };
    await run(sim, 'orders-db-0', 'orders-db', ['sh', '-c', 'kill -9 1']);
    expect(sim.store.get<P>('pods', 'shop', 'orders-db-0')!.status.containerStatuses[0]!.restartCount).toBe(0);
    await run(sim, 'orders-db-0', 'orders-db', ['sh', '-c', 'kill -TERM 1']);
    const p = sim.store.get<P>('pods', 'shop', 'orders-db-0')!;
    expect(p.status.containerStatuses[0]!.restartCount).toBe(1);
    expect(p.status.containerStatuses[0]!.lastState!.terminated.exitCode).toBe(143);
  });
});
