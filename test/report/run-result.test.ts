import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHost } from '../../src/hosts/index.js';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RunResultReporter, redisNewestStore, runMarker } from '../../src/report/run-result.js';
import { startFakeGitHub, type FakeGitHub } from './fake-github.js';
import { jobFor, runRecord } from './fixtures.js';

let gh: FakeGitHub;
beforeAll(async () => {
  gh = await startFakeGitHub();
});
afterAll(() => gh.close());

describe('RunResultReporter', () => {
  it('sets faultline/run on the revision and keeps one outcome comment per experiment on the PR that introduced it', async () => {
    const host = createGitHost({ type: 'github', apiUrl: gh.url, token: 't', repository: 'Codertocat/Hello-World' });
    const reporter = new RunResultReporter({ host, dashboardUrl: 'http://faultline.local' });
    const revision = '1'.repeat(40);
    gh.pullsForCommit.set(revision, 17);

    const ok = runRecord('run-a', 'checkout-pod-kill', 'Succeeded', revision);
    reporter.onRunUpdate(runRecord('run-a', 'checkout-pod-kill', 'Running', revision), jobFor(ok)); // not terminal: ignored
    reporter.onRunUpdate(ok, jobFor(ok));
    reporter.onRunUpdate(ok, jobFor(ok)); // the same terminal update twice: reported once
    await reporter.idle();
    expect(gh.statuses).toEqual([
      { sha: revision, state: 'success', context: 'faultline/run/checkout-pod-kill', description: 'checkout-pod-kill succeeded' },
    ]);
    const comments = gh.comments.get(17)!;
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body.startsWith(runMarker('checkout-pod-kill'))).toBe(true);
    expect(comments[0]!.body).toContain('`run-a`');

    const bad = runRecord('run-b', 'checkout-pod-kill', 'Failed', revision);
    reporter.onRunUpdate(bad, jobFor(bad));
    await reporter.idle();
    expect(gh.statuses.at(-1)).toMatchObject({ state: 'failure', description: 'checkout-pod-kill failed: probe checkout-up failed 3 times' });
    expect(gh.comments.get(17)).toHaveLength(1); // edited, not a second comment
    expect(gh.comments.get(17)![0]!.body).toContain('`run-b`');
    expect(gh.comments.get(17)![0]!.body).toContain('probe checkout-up failed 3 times');

    const orphan = runRecord('run-c', 'cart-delay', 'Aborted', '2'.repeat(40)); // pushed straight to main: no PR
    reporter.onRunUpdate(orphan, jobFor(orphan));
    await reporter.idle();
    expect(gh.statuses.at(-1)).toMatchObject({ sha: '2'.repeat(40), state: 'error' });
    expect([...gh.comments.keys()]).toEqual([17]);
    expect(gh.errors).toEqual([]);
  });

  it('an older run delivered after a newer one (a retried delivery) does not overwrite the sticky comment; shared through Redis', async () => {
    const host = createGitHost({ type: 'github', apiUrl: gh.url, token: 't', repository: 'Codertocat/Hello-World' });
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const prefix = `fltest-newest-${randomUUID().slice(0, 8)}`;
    try {
      const revision = '3'.repeat(40);
      gh.pullsForCommit.set(revision, 23);
      const older = { ...runRecord('run-old', 'cart-delay', 'Succeeded', revision), endedAt: '2026-01-01T10:00:00.000Z' };
      const newer = { ...runRecord('run-new', 'cart-delay', 'Failed', revision), endedAt: '2026-01-01T11:00:00.000Z' };
      // Two replicas' reporters, one store: the newer run lands first, then the older one's retry.
      const a = new RunResultReporter({ host, newest: redisNewestStore(redis, prefix) });
      const b = new RunResultReporter({ host, newest: redisNewestStore(redis, prefix) });
      a.onRunUpdate(newer, jobFor(newer));
      await a.idle();
      b.onRunUpdate(older, jobFor(older));
      await b.idle();
      const comments = gh.comments.get(23)!;
      expect(comments).toHaveLength(1);
      expect(comments[0]!.body).toContain('`run-new`');
      expect(comments[0]!.body).not.toContain('`run-old`');
      // Its status still goes out: statuses are per run, not sticky.
      expect(gh.statuses.filter((st) => st.sha === revision).map((st) => st.state)).toEqual(['failure', 'success']);
    } finally {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  });
});

