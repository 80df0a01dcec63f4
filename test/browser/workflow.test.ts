// A workflow run on the dashboard in real headless Chromium (Debian's package, playwright-core),
// against a real controller that ran it twice (git server, Redis, the simulator): the timeline's
// bars, fault windows, probe dots and assertion points are checked against the run record, the
// trend chart's points against the scores of the runs, and an experiment run's trend chart
// against its score. Screenshots go to test-output/.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Controller } from '../../src/controller/index.js';
import type { RunRecord } from '../../src/runs/types.js';
import type { WorkflowRunRecord } from '../../src/workflows/run-types.js';
import { scoreRun } from '../../src/workflows/score.js';
import { podKill, postWebhook, pushPayload, startIn, startWorld, waitFor, type World } from '../controller/harness.js';

const CHROMIUM = process.env.FAULTLINE_CHROMIUM ?? '/usr/bin/chromium';
const OUT = new URL('../../test-output/', import.meta.url);
const ENV = { FAULTLINE_MAX_BLAST_RADIUS_PERCENT: '100', FAULTLINE_MAX_CONCURRENT_RUNS: '10', FAULTLINE_RUNS_CONCURRENCY: '4' };

const gameday = (pause: string) => `apiVersion: faultline.dev/v1alpha1
kind: ChaosWorkflow
metadata: { name: browser-gameday }
spec:
  probes:
    - { name: frontend-up, kubernetes: { namespace: shop, kind: Deployment, name: frontend, minReadyReplicas: 1 }, interval: 1s }
  assertions:
    - { name: frontend-stayed-up, probe: frontend-up, operator: gte, value: 0.5 }
  steps:
    - { name: baseline, pause: ${pause} }
    - name: break
      parallel:
        - { name: catalog-down, fault: { type: scale-down, params: { replicas: 0 } }, target: { namespace: shop, selector: { matchLabels: { app: catalog } }, mode: { type: all } }, duration: 2s }
        - { name: kill-cart, fault: { type: pod-kill }, target: { namespace: shop, selector: { matchLabels: { app: cart } }, mode: { type: one } }, duration: 3s }
    - name: final-check
      check: { probes: [ { name: catalog-back, kubernetes: { namespace: shop, kind: Deployment, name: catalog, minReadyReplicas: 2 } } ] }
`;

let world: World | undefined;
let controller: Controller | undefined;
let browser: Browser | undefined;
let runs: WorkflowRunRecord[] = []; // oldest first
let experimentRun: RunRecord;
const pageErrors: string[] = [];

const finishedRuns = async (c: Controller) => (await c.workflowRuns.list({ workflow: 'browser-gameday', limit: 10 })).filter((r) => r.score && ['Succeeded', 'Failed', 'Aborted'].includes(r.phase));

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}. This test needs Debian's chromium package: apt-get update && apt-get install -y chromium (.ci/run installs it), or set FAULTLINE_CHROMIUM to the binary.`);
  }
  await mkdir(OUT, { recursive: true });
  world = await startWorld({ env: ENV, seed: { 'experiments/browser-gameday.yaml': gameday('1s'), 'experiments/frontend-kill.yaml': podKill('frontend-kill', { app: 'frontend', duration: '1s' }) } });
  const w = world;
  const c = (controller = await startIn(w));
  await waitFor(async () => (await finishedRuns(c)).length === 1, 'the first workflow run to end', 120_000);
  // A changed spec runs again: the second point of the trend.
  const before = await w.work.git('rev-parse', 'HEAD');
  await w.work.write('experiments/browser-gameday.yaml', gameday('2s'));
  const after = await w.work.commitAndPush('a longer baseline');
  expect((await postWebhook(c.url!, pushPayload({ after, before }))).status).toBe(202);
  runs = (await waitFor(async () => {
    const done = await finishedRuns(c);
    return done.length === 2 ? done : undefined;
  }, 'the second workflow run to end', 120_000)).reverse();
  experimentRun = await waitFor(async () => (await c.runs.list({ experiment: 'frontend-kill', limit: 1 })).runs.find((r) => r.outcome), 'the experiment run to end', 60_000);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await controller?.close();
  await world?.close();
}, 120_000);

async function open(hash: string): Promise<Page> {
  const page = await browser!.newPage({ viewport: { width: 1280, height: 1100 } });
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(`${msg.text()} ${msg.location().url}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) pageErrors.push(`${res.status()} ${res.url()}`);
  });
  await page.goto(`${controller!.url}/${hash}`, { waitUntil: 'domcontentloaded' });
  return page;
}

type Mark = Record<string, string | null>;
const marks = (page: Page, sel: string, attrs: string[]) =>
  page.$$eval(sel, (els, names) => els.map((e) => Object.fromEntries(names.map((n) => [n, e.getAttribute(n)]))), attrs) as Promise<Mark[]>;

describe('a workflow run on the dashboard', () => {
  it('draws the timeline from the run: a bar per step where and as long as it ran, its fault windows, probe rounds and assertion values', async () => {
    const run = runs[1]!;
    const page = await open(`#workflow/browser-gameday/${encodeURIComponent(run.id)}`);
    const bars = '#workflow-timeline svg rect.step-bar';
    const started = run.steps.filter((s) => s.startedAt);
    await waitFor(async () => (await page.locator(bars).count()) === started.length, 'the timeline bars', 30_000);
    expect(await page.locator('#workflow-h').textContent()).toBe(`Workflow browser-gameday · run ${run.id}`);

    const svg = (await marks(page, '#workflow-timeline svg', ['data-t0', 'data-t1', 'data-plot-x', 'data-plot-width']))[0]!;
    const t0 = Date.parse(svg['data-t0']!);
    const t1 = Date.parse(svg['data-t1']!);
    expect(t0).toBe(Date.parse(run.startedAt!));
    expect(t1).toBe(Date.parse(run.endedAt!));
    const plotX = Number(svg['data-plot-x']);
    const plotW = Number(svg['data-plot-width']);
    const xOf = (iso: string) => plotX + ((Date.parse(iso) - t0) / (t1 - t0)) * plotW;

    const drawn = await marks(page, bars, ['data-step', 'data-phase', 'x', 'width']);
    expect(drawn.map((b) => [b['data-step'], b['data-phase']])).toEqual(started.map((s) => [s.path, s.phase]));
    started.forEach((s, i) => {
      expect(Number(drawn[i]!.x)).toBeCloseTo(xOf(s.startedAt!), 0);
      expect(Number(drawn[i]!.x) + Number(drawn[i]!.width)).toBeCloseTo(Math.max(xOf(s.endedAt!), xOf(s.startedAt!) + 2), 0);
    });
    // in order: each top-level step starts where the one before it ended, the group's steps overlap
    const top = (name: string) => drawn.find((b) => b['data-step'] === `browser-gameday/${name}`)!;
    expect(Number(top('baseline').x)).toBeLessThan(Number(top('break').x));
    expect(Number(top('break').x)).toBeLessThan(Number(top('final-check').x));
    const kids = drawn.filter((b) => b['data-step']!.startsWith('browser-gameday/break/'));
    expect(kids).toHaveLength(2);
    expect(Math.abs(Number(kids[0]!.x) - Number(kids[1]!.x))).toBeLessThan(plotW * 0.1);

    const windows = await marks(page, '#workflow-timeline svg rect.fault-window', ['data-step', 'x']);
    const withWindow = run.steps.filter((s) => s.faultWindow);
    expect(withWindow.length).toBe(2);
    expect(windows.map((w) => w['data-step'])).toEqual(withWindow.map((s) => s.path));
    withWindow.forEach((s, i) => expect(Number(windows[i]!.x)).toBeCloseTo(xOf(s.faultWindow!.from), 0));

    const probes = await marks(page, '#workflow-timeline svg circle.probe', ['data-ok', 'cx']);
    expect(run.probes.length).toBeGreaterThan(2);
    expect(probes.map((p) => p['data-ok'])).toEqual(run.probes.map((p) => String(p.ok)));
    run.probes.forEach((p, i) => expect(Number(probes[i]!.cx)).toBeCloseTo(xOf(p.at), 0));
    const assertions = await marks(page, '#workflow-timeline svg circle.assertion', ['data-value', 'data-ok']);
    expect(assertions.map((a) => [Number(a['data-value']), a['data-ok']])).toEqual(run.assertions.map((a) => [a.value, String(a.ok)]));

    // the steps table and the summary come from the same record
    expect(await page.$$eval('#workflow-steps tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-step')))).toEqual(run.steps.map((s) => s.path));
    expect(await page.locator('#workflow-summary').textContent()).toContain(`${run.score!.value} (`);
    await page.locator('#workflow-detail').screenshot({ path: new URL('workflow-run.png', OUT).pathname });
    await page.screenshot({ path: new URL('workflow-dashboard.png', OUT).pathname, fullPage: true });
    await page.close();
  }, 60_000);

  it('draws the trend: a point per finished run at its score, oldest left, in the detail and in the workflows table', async () => {
    const page = await open(`#workflow/browser-gameday/${encodeURIComponent(runs[0]!.id)}`);
    const points = '#workflow-trend svg circle.trend-point';
    await waitFor(async () => (await page.locator(points).count()) === 2, 'the trend points', 30_000);
    const svg = (await marks(page, '#workflow-trend svg', ['data-plot-top', 'data-plot-height']))[0]!;
    const topY = Number(svg['data-plot-top']);
    const h = Number(svg['data-plot-height']);
    const drawn = await marks(page, points, ['data-run', 'data-score', 'cx', 'cy']);
    expect(drawn.map((p) => [p['data-run'], Number(p['data-score'])])).toEqual(runs.map((r) => [r.id, r.score!.value]));
    runs.forEach((r, i) => expect(Number(drawn[i]!.cy)).toBeCloseTo(topY + h - (r.score!.value / 100) * h, 0));
    expect(Number(drawn[0]!.cx)).toBeLessThan(Number(drawn[1]!.cx));
    const bars = await marks(page, '#workflow-trend svg rect.trend-recovery', ['data-run']);
    expect(bars.map((b) => b['data-run'])).toEqual(runs.map((r) => r.id));

    const row = page.locator('#workflows tbody tr[data-name="browser-gameday"]');
    await waitFor(async () => (await row.locator('td.trend svg circle.trend-point').count()) === 2, 'the trend in the workflows table', 30_000);
    const cells = await row.locator('td').allTextContents();
    expect(cells[0]).toBe('browser-gameday');
    expect(cells[3]).toBe('3/3');
    expect(cells[5]).toBe(String(runs[1]!.score!.value));
    await page.close();
  }, 60_000);

  it("an experiment run's detail shows its experiment's trend at the run's score", async () => {
    const page = await open(`#run/${encodeURIComponent(experimentRun.id)}`);
    const points = '#run-trend svg circle.trend-point';
    await waitFor(async () => (await page.locator(points).count()) === 1, 'the experiment trend point', 30_000);
    const [p] = await marks(page, points, ['data-run', 'data-score']);
    expect(p).toEqual({ 'data-run': experimentRun.id, 'data-score': String(scoreRun(experimentRun)!.value) });
    await page.locator('#run-detail').screenshot({ path: new URL('experiment-trend.png', OUT).pathname });
    await page.close();
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
