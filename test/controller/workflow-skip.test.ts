// Until the workflow runner exists, the controller loads ChaosWorkflow files, reports their
// problems and skips them with one log line per workflow revision; the experiments beside them
// publish and run as before. The whole controller: git server, Redis, the simulator.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startController, type Controller } from '../../src/controller/index.js';
import { RecordingExecutor, RedisRunStore } from '../../src/queue/index.js';
import { podKill, postWebhook, pushPayload, reconciled, runsOf, startWorld, waitFor, type World } from './harness.js';

let world: World | undefined;
let controller: Controller | undefined;
afterEach(async () => {
  await controller?.close();
  controller = undefined;
  await world?.close();
  world = undefined;
});

const GAMEDAY = `apiVersion: faultline.dev/v1alpha1
kind: ChaosWorkflow
metadata: { name: gameday }
spec:
  steps:
    - name: baseline
      pause: 1s
    - name: kill
      experiment: cart-kill
`;
const BROKEN = `apiVersion: faultline.dev/v1alpha1
kind: ChaosWorkflow
metadata: { name: broken-flow }
spec:
  steps:
    - name: kill
      experiment: no-such-experiment
`;

describe('controller and ChaosWorkflow files', () => {
  it('skips a workflow with one clear line, reports a bad one at its line, and the experiment beside them runs', async () => {
    world = await startWorld({
      seed: { 'experiments/cart-kill.yaml': podKill('cart-kill', { app: 'cart' }), 'experiments/gameday.yaml': GAMEDAY, 'experiments/broken-flow.yaml': BROKEN },
    });
    const w = world;
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const executor = new RecordingExecutor({ store: new RedisRunStore(w.redis, w.prefix), holdMs: () => 0 });
    controller = await startController({ config: w.config(), log: pino({ level: 'info' }, sink), kubeConfig: w.sim.kubeConfig(), executor });
    const seed = await w.work.git('rev-parse', 'HEAD');
    const catalog = await reconciled(w, seed);

    expect(catalog.entries.map((e) => e.name)).toEqual(['cart-kill']);
    expect(catalog.problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`)).toEqual([
      'experiments/broken-flow.yaml:7:19: step broken-flow/kill: experiment "no-such-experiment" is not a valid ChaosExperiment of the repository',
    ]);
    await waitFor(async () => (await runsOf(controller!, 'cart-kill'))[0]?.state === 'Succeeded', 'cart-kill run');
    expect(executor.started).toHaveLength(1);

    const skipped = () => lines.filter((l) => l.msg === 'workflows are not run yet: ChaosWorkflow skipped');
    await waitFor(() => skipped().length > 0, 'the skip line');
    expect(skipped()).toEqual([expect.objectContaining({ workflow: 'gameday', file: 'experiments/gameday.yaml', specHash: expect.stringMatching(/^[0-9a-f]{64}$/) })]);

    // Another push that leaves the workflow alone: no second line; a changed workflow: one more.
    await w.work.write('README.md', '# chaos experiments, again\n');
    const r1 = await w.work.commitAndPush('readme');
    expect((await postWebhook(controller.url!, pushPayload({ after: r1, before: seed }))).status).toBe(202);
    await reconciled(w, r1);
    expect(skipped()).toHaveLength(1);
    await w.work.write('experiments/gameday.yaml', GAMEDAY.replace('pause: 1s', 'pause: 2s'));
    const r2 = await w.work.commitAndPush('longer baseline');
    expect((await postWebhook(controller.url!, pushPayload({ after: r2, before: r1 }))).status).toBe(202);
    await reconciled(w, r2);
    await waitFor(() => skipped().length === 2, 'the second skip line');
    expect(executor.started).toHaveLength(1);
  });
});
