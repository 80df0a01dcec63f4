// The whole controller, driven the GitOps way: a push to the experiments repository, a signed
// GitHub push webhook, and the run that follows, executed by the real executor against the
// Kubernetes simulator. Replays, unchanged pushes, spec changes and deletions on top of it.
import { afterEach, describe, expect, it } from 'vitest';
import type { Controller } from '../../src/controller/index.js';
import { readCatalog } from '../../src/controller/catalog.js';
import { exampleCheckoutPodKill, postWebhook, pushPayload, reconciled, runJobsOf, runsOf, startIn, startWorld, waitFor, type World } from './harness.js';

let world: World | undefined;
let controller: Controller | undefined;

afterEach(async () => {
  await controller?.close();
  controller = undefined;
  await world?.close();
  world = undefined;
});

const NAME = 'checkout-pod-kill';
const FILE = 'experiments/checkout-pod-kill.yaml';

describe('push → webhook → run, with the real executor on the simulator', () => {
  it('one run per spec revision: replays and unchanged pushes collapse, a spec change runs again, a deletion unapplies', async () => {
    world = await startWorld();
    const w = world;
    const seed = await w.work.git('rev-parse', 'HEAD');
    controller = await startIn(w);
    const ctl = controller;
    const url = ctl.url!;
    await reconciled(w, seed); // the startup reconcile of the seed commit (no experiments yet)

    // 1. A new experiment: push, then the signed webhook.
    await w.work.write(FILE, await exampleCheckoutPodKill('2s'));
    const first = await w.work.commitAndPush('add checkout-pod-kill');
    const body = pushPayload({ after: first, before: seed });
    const delivery = 'delivery-add-checkout';
    const res = await postWebhook(url, body, { delivery });
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ accepted: true, event: 'push', deliveryId: delivery });

    const catalog = await reconciled(w, first);
    const entry = catalog.entries.find((e) => e.name === NAME)!;
    expect(entry).toMatchObject({ file: FILE, revision: first });
    const done = await waitFor(async () => {
      const runs = await runsOf(ctl, NAME);
      return runs.length === 1 && runs[0]!.outcome ? runs[0] : undefined;
    }, 'the first run to end', 60_000);
    expect(done.state).toBe('Succeeded');
    expect(done.specHash).toBe(entry.specHash);
    expect(done.revision).toBe(first);
    expect(done.targets).toHaveLength(1); // 25% of 4 checkout pods, capped at 2: one pod
    expect(done.timeline.map((t) => t.state)).toEqual(expect.arrayContaining(['Injecting', 'Running', 'Reverting', 'Succeeded']));
    expect(w.podDeletions.get('checkout')).toBe(1); // the simulator saw exactly one pod killed
    expect(await runJobsOf(ctl, NAME)).toEqual([done.id]);

    // The status branch records the applied spec and the run.
    await ctl.status.flush();
    const applied = await waitFor(async () => {
      const f = await ctl.status.get(NAME);
      return f?.runs.length ? f : undefined;
    }, 'status branch run entry');
    expect(applied).toMatchObject({ name: NAME, file: FILE, specHash: entry.specHash, revision: first });
    expect(applied.runs.map((r) => [r.id, r.outcome])).toEqual([[done.id, 'succeeded']]);

    // 2. The same delivery replayed 50 times: each answered 202, none queues anything new.
    const replays = await Promise.all(Array.from({ length: 50 }, () => postWebhook(url, body, { delivery })));
    expect(replays.map((r) => r.status)).toEqual(Array(50).fill(202));
    expect(replays.every((r) => (r.json as { duplicate?: boolean }).duplicate === true)).toBe(true);

    // 3. A push that leaves the experiment as it was (another file changes): still one run.
    await w.work.write('README.md', '# chaos experiments\n\nNow with checkout.\n');
    const same = await w.work.commitAndPush('docs only');
    expect((await postWebhook(url, pushPayload({ after: same, before: first }))).status).toBe(202);
    const sameCatalog = await reconciled(w, same);
    expect(sameCatalog.entries.find((e) => e.name === NAME)!.specHash).toBe(entry.specHash);
    expect((await runsOf(ctl, NAME)).map((r) => r.id)).toEqual([done.id]);
    expect(await runJobsOf(ctl, NAME)).toEqual([done.id]);
    expect(w.podDeletions.get('checkout')).toBe(1);

    // 4. A changed spec runs again, once.
    await w.work.write(FILE, await exampleCheckoutPodKill('3s'));
    const changed = await w.work.commitAndPush('longer checkout-pod-kill');
    expect((await postWebhook(url, pushPayload({ after: changed, before: same }))).status).toBe(202);
    const changedEntry = (await reconciled(w, changed)).entries.find((e) => e.name === NAME)!;
    expect(changedEntry.specHash).not.toBe(entry.specHash);
    const second = await waitFor(async () => {
      const runs = await runsOf(ctl, NAME);
      return runs.length === 2 && runs[1]!.outcome ? runs[1] : undefined;
    }, 'the second run to end', 60_000);
    expect(second).toMatchObject({ state: 'Succeeded', specHash: changedEntry.specHash, revision: changed });
    expect(second.id).not.toBe(done.id);
    expect((await runJobsOf(ctl, NAME)).sort()).toEqual([done.id, second.id].sort());
    expect(w.podDeletions.get('checkout')).toBe(2);

    // 5. The file is deleted: the experiment leaves the catalog and its applied record goes.
    await w.work.remove(FILE);
    const removed = await w.work.commitAndPush('remove checkout-pod-kill');
    expect((await postWebhook(url, pushPayload({ after: removed, before: changed }))).status).toBe(202);
    const finalCatalog = await reconciled(w, removed);
    expect(finalCatalog.entries).toEqual([]);
    expect((await ctl.status.list()).has(NAME)).toBe(false);
    const history = await ctl.status.get(NAME);
    expect(history?.applied).toBeNull(); // the run history is kept, only the applied record goes
    expect((await runsOf(ctl, NAME)).length).toBe(2);
    expect(await readCatalog(w.redis, w.prefix)).toMatchObject({ revision: removed, problems: [] });
  }, 180_000);
});
