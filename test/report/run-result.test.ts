import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHost } from '../../src/hosts/index.js';
import { RunResultReporter, runMarker } from '../../src/report/run-result.js';
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
});
