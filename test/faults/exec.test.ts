// An exec the API server refuses (container not running, unknown pod) fails with the server's own
// Status message, not `ws`'s "Unexpected server response: 400", through the simulator's real
// WebSocket endpoint.
import { afterEach, describe, expect, it } from 'vitest';
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { errorText, execIn } from '../../src/faults/index.js';
import { refusalText } from '../../src/faults/exec.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { waitFor } from '../helpers/wait.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const failure = (p: Promise<unknown>) => p.then(() => 'no error', (err: unknown) => errorText(err));

describe('exec errors carry the API server\'s message', () => {
  it('a terminated container (400) and an unknown pod (404) say what the server said', async () => {
    sim = await startSimulator({ readyDelayMs: 20 });
    const kc = sim.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    await core.patchNamespacedPodEphemeralcontainers({ namespace: 'shop', name: 'orders-db-0', body: { spec: { ephemeralContainers: [
      { name: 'faultline-fx', image: 'injector:1', command: ['sh', '-c', 'sleep 3600'] },
    ] } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    await waitFor('ephemeral running', async () =>
      (await core.readNamespacedPod({ namespace: 'shop', name: 'orders-db-0' })).status?.ephemeralContainerStatuses?.[0]?.state?.running);
    const ok = await execIn(kc, 'shop', 'orders-db-0', 'faultline-fx', ['echo', 'hi']);
    expect(ok).toMatchObject({ ok: true, stdout: 'hi\n' });
    expect((await execIn(kc, 'shop', 'orders-db-0', 'faultline-fx', ['kill', '-TERM', '1'])).ok).toBe(true);

    const stopped = await failure(execIn(kc, 'shop', 'orders-db-0', 'faultline-fx', ['cat', '/tmp/x']));
    expect(stopped).toBe('exec in shop/orders-db-0/faultline-fx: the API server refused the exec (400 BadRequest): unable to upgrade connection: container not found ("faultline-fx")');
    expect(stopped).not.toMatch(/Unexpected server response|object Object/);

    const gone = await failure(execIn(kc, 'shop', 'no-such-pod', 'app', ['true']));
    expect(gone).toBe('exec in shop/no-such-pod/app: the API server refused the exec (404 NotFound): pods "no-such-pod" not found');
    const wrong = await failure(execIn(kc, 'shop', 'orders-db-0', 'nope', ['true']));
    expect(wrong).toBe('exec in shop/orders-db-0/nope: the API server refused the exec (400 BadRequest): container nope is not valid for pod orders-db-0');
  });

  it('a refusal whose body is not a Status still says the code and the first line', () => {
    expect(refusalText(502, '<html>bad gateway</html>\nmore')).toBe('the API server refused the exec (502): <html>bad gateway</html>');
    expect(refusalText(403, '')).toBe('the API server refused the exec (403)');
    expect(refusalText(403, JSON.stringify({ kind: 'Status', message: 'pods "x" is forbidden: User "y" cannot create resource "pods/exec"', reason: 'Forbidden', code: 403 })))
      .toBe('the API server refused the exec (403 Forbidden): pods "x" is forbidden: User "y" cannot create resource "pods/exec"');
  });
});
