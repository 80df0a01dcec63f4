// Workflow run records, trends and pictures on the status branch, written by GitStatusStore to a
// real git smart-HTTP server and read back with the git CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startGitServer, type GitServer } from '../helpers/git-server.js';
import { GitStatusStore, statusPath, workflowStatusPath, workflowTimelinePath, type ExperimentStatusFile, type WorkflowStatusFile } from '../../src/report/git-status.js';
import { at, faultRun, gamedayRun } from '../workflows/run-fixtures.js';
import { scoreRun } from '../../src/workflows/score.js';

let server: GitServer;
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'fl-wfstatus-'));
  dirs.push(d);
  return d;
}
beforeAll(async () => {
  server = await startGitServer({ token: 'sekret' });
});
afterAll(async () => {
  await server.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true, maxRetries: 5 })));
});

async function repo(name: string) {
  const url = await server.createRepo(name);
  const work = await server.workClone(name);
  dirs.push(work.dir);
  await work.write('README.md', 'experiments\n');
  await work.commitAndPush('init');
  const show = async (path: string) => {
    await work.git('fetch', '-q', 'origin', 'faultline/status');
    return work.git('show', `FETCH_HEAD:${path}`);
  };
  const changedInLastCommit = async () => {
    await work.git('fetch', '-q', 'origin', 'faultline/status');
    return (await work.git('diff', '--name-only', 'FETCH_HEAD~1', 'FETCH_HEAD')).split('\n').filter(Boolean).sort();
  };
  const files = async () => {
    await work.git('fetch', '-q', 'origin', 'faultline/status');
    return (await work.git('ls-tree', '-r', '--name-only', 'FETCH_HEAD')).split('\n').filter(Boolean).sort();
  };
  return { url, show, changedInLastCommit, files };
}

const count = (svg: string, cls: string) => svg.split(`class="${cls}"`).length - 1;
const attrs = (svg: string, cls: string, attr: string) => [...svg.matchAll(new RegExp(`class="${cls}"[^>]*?${attr}="([^"]*)"`, 'g'))].map((m) => m[1]!);

describe('status branch: scores, trends, workflow runs and their pictures', () => {
  it('each experiment run carries its score; the trend file and chart beside the record list the finished runs oldest first', async () => {
    const r = await repo('exp-trend');
    const store = new GitStatusStore({ url: r.url, dir: await tempDir(), token: 'sekret' });
    const runs = [
      faultRun({ id: 'r1', startedAt: at(0), endedAt: at(40) }),
      faultRun({ id: 'r2', startedAt: at(100), endedAt: at(140), recoveryMs: 90_000 }),
      faultRun({ id: 'r3', startedAt: at(200), endedAt: at(240), state: 'Failed', outcome: 'failed' }),
    ];
    for (const run of runs) await store.recordRun(run);
    const doc = parse(await r.show(statusPath('cart-pod-kill'))) as ExperimentStatusFile;
    expect(doc.runs.map((x) => [x.id, x.score?.value])).toEqual([['r3', 80], ['r2', 85], ['r1', 100]]);
    expect(doc.runs[2]!.score).toEqual(scoreRun(runs[0]!));
    const trend = JSON.parse(await r.show(statusPath('cart-pod-kill').replace(/\.yaml$/, '.trend.json'))) as { name: string; runs: { runId: string; score: number; recoveryMs: number; outcome: string }[] };
    expect(trend).toEqual({
      name: 'cart-pod-kill',
      runs: [
        { runId: 'r1', at: at(40), outcome: 'succeeded', score: 100, recoveryMs: 12_000 },
        { runId: 'r2', at: at(140), outcome: 'succeeded', score: 85, recoveryMs: 90_000 },
        { runId: 'r3', at: at(240), outcome: 'failed', score: 80, recoveryMs: 12_000 },
      ],
    });
    const svg = await r.show(statusPath('cart-pod-kill').replace(/\.yaml$/, '.trend.svg'));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(attrs(svg, 'trend-point', 'data-score')).toEqual(['100', '85', '80']);
    expect(attrs(svg, 'trend-recovery', 'data-recovery-ms')).toEqual(['12000', '90000', '12000']);
    // one run touches its record and its trend, nothing else
    expect(await r.changedInLastCommit()).toEqual([statusPath('cart-pod-kill'), statusPath('cart-pod-kill').replace(/\.yaml$/, '.trend.json'), statusPath('cart-pod-kill').replace(/\.yaml$/, '.trend.svg')].sort());
    await store.close();
  });

  it('workflow runs: record with steps, a timeline per run, the trend; history bounded with the pictures of dropped runs removed; O(changed) commits', async () => {
    const r = await repo('wf');
    const store = new GitStatusStore({ url: r.url, dir: await tempDir(), token: 'sekret', historyLimit: 2 });
    await store.recordRun(faultRun({ id: 'other' })); // an experiment, untouched by workflow writes
    const mk = (i: number, phase: 'Succeeded' | 'Failed' = 'Succeeded') => {
      const base = gamedayRun();
      const shift = (iso?: string) => (iso ? new Date(Date.parse(iso) + i * 3_600_000).toISOString() : iso);
      return gamedayRun({
        id: `wf-${i}`,
        phase,
        startedAt: shift(base.startedAt)!,
        createdAt: shift(base.createdAt)!,
        endedAt: shift(base.endedAt)!,
        steps: base.steps.map((s) => ({ ...s, startedAt: shift(s.startedAt)!, endedAt: shift(s.endedAt)!, ...(s.faultWindow ? { faultWindow: { from: shift(s.faultWindow.from)!, to: shift(s.faultWindow.to)! } } : {}) })),
        score: { value: 90 - i * 10, parts: [{ name: 'outcome', weight: 20, value: 1 }] },
      });
    };
    store.onWorkflowUpdate(gamedayRun({ id: 'running', phase: 'Running', endedAt: undefined })); // not terminal: not written
    await store.recordWorkflowRun(mk(1));
    const path = workflowStatusPath('shop-gameday');
    expect(path).toMatch(/^workflows\/[0-9a-f]{2}\/shop-gameday\.yaml$/);
    expect(await r.changedInLastCommit()).toEqual([path, path.replace(/\.yaml$/, '.runs/wf-1.svg'), path.replace(/\.yaml$/, '.trend.json'), path.replace(/\.yaml$/, '.trend.svg')].sort());

    const timeline = await r.show(workflowTimelinePath('shop-gameday', 'wf-1'));
    const run1 = mk(1);
    expect(attrs(timeline, 'step-bar', 'data-step')).toEqual(run1.steps.map((s) => s.path));
    expect(attrs(timeline, 'step-bar', 'data-start')).toEqual(run1.steps.map((s) => s.startedAt));
    expect(attrs(timeline, 'fault-window', 'data-step')).toEqual(run1.steps.filter((s) => s.faultWindow).map((s) => s.path));
    expect(attrs(timeline, 'probe', 'data-ok')).toEqual(run1.probes.map((p) => String(p.ok)));
    expect(attrs(timeline, 'assertion', 'data-value')).toEqual(run1.assertions.map((a) => String(a.value)));

    await store.recordWorkflowRun(mk(2, 'Failed'));
    await store.recordWorkflowRun(mk(3));
    const doc = parse(await r.show(path)) as WorkflowStatusFile;
    expect(doc.runs.map((x) => [x.id, x.phase, x.steps.length])).toEqual([['wf-3', 'Succeeded', 6], ['wf-2', 'Failed', 6]]);
    expect(doc.runs[0]!.steps[4]).toMatchObject({ name: 'stress-frontend', phase: 'Failed', continueOnFailure: true });
    const files = await r.files();
    expect(files.filter((f) => f.startsWith('workflows/'))).toEqual([path.replace(/\.yaml$/, '.runs/wf-2.svg'), path.replace(/\.yaml$/, '.runs/wf-3.svg'), path.replace(/\.yaml$/, '.trend.json'), path.replace(/\.yaml$/, '.trend.svg'), path].sort());
    expect(files).toContain(statusPath('cart-pod-kill'));
    const trend = JSON.parse(await r.show(path.replace(/\.yaml$/, '.trend.json'))) as { runs: { runId: string; score: number; outcome: string; recoveryMs: number }[] };
    // recovery of a workflow run: from the end of its last fault window to the end of the run
    expect(trend.runs).toEqual([
      { runId: 'wf-2', at: mk(2).endedAt, outcome: 'failed', score: 70, recoveryMs: 30_000 },
      { runId: 'wf-3', at: mk(3).endedAt, outcome: 'succeeded', score: 60, recoveryMs: 30_000 },
    ]);
    expect(count(await r.show(path.replace(/\.yaml$/, '.trend.svg')), 'trend-point')).toBe(2);

    // read back by a fresh store (a restarted controller)
    const fresh = new GitStatusStore({ url: r.url, dir: await tempDir(), token: 'sekret' });
    expect((await fresh.getWorkflow('shop-gameday'))?.runs.map((x) => x.id)).toEqual(['wf-3', 'wf-2']);
    expect((await fresh.listWorkflows()).map((w) => w.name)).toEqual(['shop-gameday']);
    expect(await fresh.getWorkflow('nope')).toBeUndefined();
    await store.close();
  });

  it('thousands of probe samples are thinned to 500 on the branch', async () => {
    const r = await repo('thin');
    const store = new GitStatusStore({ url: r.url, dir: await tempDir(), token: 'sekret' });
    const probes = Array.from({ length: 5000 }, (_, i) => ({ name: 'checkout-ready', at: at(i / 50), ok: i % 7 !== 0 }));
    await store.recordWorkflowRun(gamedayRun({ probes }));
    const doc = parse(await r.show(workflowStatusPath('shop-gameday'))) as WorkflowStatusFile;
    expect(doc.runs[0]!.probes).toHaveLength(500);
    expect(doc.runs[0]!.probes[1]).toEqual(probes[10]);
    await store.close();
  });

  it('#12: with 400 experiments and 60 workflows on the branch, one workflow run pushes its 4 files and the trees above them, a few KB', async () => {
    const r = await repo('big-wf');
    const store = new GitStatusStore({ url: r.url, dir: await tempDir(), token: 'sekret' });
    await store.list();
    const release = store.hold();
    const puts = Array.from({ length: 400 }, (_, i) => store.put({ name: `exp-${i}`, file: `experiments/exp-${i}.yaml`, specHash: 'e'.repeat(64), revision: 'b'.repeat(40), appliedAt: at(0), scheduled: false, suspended: false }));
    const flows = Array.from({ length: 60 }, (_, i) => store.recordWorkflowRun(gamedayRun({ id: `wf-${i}`, workflow: `flow-${i}` })));
    release();
    await Promise.all([...puts, ...flows]);
    const before = { bytes: store.stats.bytesPushed, commits: store.stats.commits };
    await store.recordWorkflowRun(gamedayRun({ id: 'wf-next', workflow: 'flow-7', startedAt: at(1000), endedAt: at(1150) }));
    expect(store.stats.commits - before.commits).toBe(1);
    const path = workflowStatusPath('flow-7');
    expect(await r.changedInLastCommit()).toEqual([path, path.replace(/\.yaml$/, '.runs/wf-next.svg'), path.replace(/\.yaml$/, '.trend.json'), path.replace(/\.yaml$/, '.trend.svg')].sort());
    const pushed = store.stats.bytesPushed - before.bytes;
    console.log(`one workflow run on a branch of 400 experiments and 60 workflows: ${pushed} bytes pushed`);
    expect(pushed).toBeLessThan(20_000);
    await store.close();
  }, 120_000);

  it('below a folder on a shared branch: workflows beside that folder, the rest of the branch kept', async () => {
    const r = await repo('shared-wf');
    const store = new GitStatusStore({ url: r.url, dir: await tempDir(), token: 'sekret', folder: 'status/experiments' });
    await store.recordRun(faultRun({ id: 'e1' }));
    await store.recordWorkflowRun(gamedayRun());
    const path = workflowStatusPath('shop-gameday', 'status/experiments');
    expect(path).toMatch(/^status\/workflows\/[0-9a-f]{2}\/shop-gameday\.yaml$/);
    const files = await r.files();
    expect(files).toContain(path);
    expect(files).toContain(workflowTimelinePath('shop-gameday', 'wf-run-1', 'status/experiments'));
    expect(files).toContain(statusPath('cart-pod-kill', 'status/experiments'));
    expect(files.every((f) => f.startsWith('status/'))).toBe(true);
    expect((await store.getWorkflow('shop-gameday'))?.runs.map((x) => x.id)).toEqual(['wf-run-1']);
    await store.close();
  });
});
