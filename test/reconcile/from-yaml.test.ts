// The reconciler fed by the real loader (YAML files of the repository's own examples), so the
// hand-built fixtures of the other tests cannot drift from what the loader really produces.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { loadExperimentFiles } from '../../src/experiments/index.js';
import { Reconciler } from '../../src/reconcile/reconciler.js';
import { RedisAppliedStore } from '../../src/reconcile/applied-store.js';
import { createQueues, enqueueRun, type Queues } from '../../src/queue/queues.js';
import { deletePrefix, newRedis, testPrefix } from '../queue/redis-helpers.js';

let redis: Redis;
let queues: Queues;
const prefix = testPrefix('fromyaml');
beforeAll(() => {
  redis = newRedis();
  queues = createQueues(redis, prefix);
});
afterAll(async () => {
  await queues.close();
  await deletePrefix(redis, prefix);
  await redis.quit();
});

const enc = new TextEncoder();
const examples = readdirSync('experiments')
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => ({ path: `experiments/${f}`, content: new Uint8Array(readFileSync(`experiments/${f}`)) }));

describe('reconcile from real experiment files', () => {
  it('queues one-off runs, registers schedules, keeps a broken file\'s experiment, and removes manual runs on delete', async () => {
    const first = loadExperimentFiles(examples);
    expect(first.problems).toEqual([]);
    expect(first.experiments.length).toBeGreaterThan(3);
    const reconciler = new Reconciler({ queues, applied: new RedisAppliedStore(redis, prefix) });

    const s1 = await reconciler.reconcile({ revision: 'c1', load: first, freeze: false });
    expect(s1.failed).toBe(0);
    const scheduled = first.experiments.filter((e) => e.experiment.spec.schedule && !e.experiment.spec.suspend);
    const once = first.experiments.filter((e) => !e.experiment.spec.schedule && !e.experiment.spec.suspend);
    expect(s1.enqueued).toBe(once.length);
    expect(await queues.runs.getJobSchedulersCount()).toBe(scheduled.length);

    // Break one file's YAML, delete another (which also has a manual run queued).
    const [broken, deleted] = once.map((e) => e.file);
    const deletedName = once[1]!.experiment.metadata.name;
    await enqueueRun(queues, {
      runId: '',
      experiment: deletedName,
      file: deleted!,
      specHash: once[1]!.specHash,
      revision: 'c1',
      occurrence: 'manual-1700000000000',
      trigger: 'manual',
      spec: once[1]!.experiment,
    });
    const files = examples
      .filter((f) => f.path !== deleted)
      .map((f) => (f.path === broken ? { path: f.path, content: enc.encode('apiVersion: [unclosed\n') } : f));
    const second = loadExperimentFiles(files);
    expect(second.problems.map((p) => p.file)).toContain(broken);

    const s2 = await reconciler.reconcile({ revision: 'c2', load: second, freeze: false });
    const byName = new Map(s2.items.map((i) => [i.name, i]));
    expect(byName.get(once[0]!.experiment.metadata.name)!.action).toBe('invalid');
    expect(byName.get(deletedName)!.action).toBe('delete');
    expect(s2.counts.delete).toBe(1);
    expect(s2.counts.unchanged).toBe(first.experiments.length - 2);
    const applied = await new RedisAppliedStore(redis, prefix).list();
    expect(applied.has(once[0]!.experiment.metadata.name)).toBe(true);
    expect(applied.has(deletedName)).toBe(false);
    const left = await queues.runs.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(left.filter((j) => j.data.experiment === deletedName)).toEqual([]);
    expect(left.filter((j) => j.data.experiment === once[0]!.experiment.metadata.name)).toHaveLength(1);
  });
});
