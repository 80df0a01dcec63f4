// What a workflow run leaves behind, through the whole controller (git server, Redis, the
// simulator, the real executor and runner): its score from its steps' fault runs, the record with
// its steps, a timeline per run and the trend on the status branch; the API; the metrics;
// `faultline status` as a process.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Controller } from '../../src/controller/index.js';
import { workflowStatusPath, workflowTimelinePath, type WorkflowStatusFile } from '../../src/report/git-status.js';
import type { WorkflowRunRecord } from '../../src/workflows/run-types.js';
import type { WorkflowDetail, WorkflowStatus } from '../../src/server/control-plane.js';
import { startIn, startWorld, waitFor, type World } from './harness.js';

const run = promisify(execFile);
const ENV = { FAULTLINE_MAX_BLAST_RADIUS_PERCENT: '100', FAULTLINE_MAX_CONCURRENT_RUNS: '10', FAULTLINE_RUNS_CONCURRENCY: '4', FAULTLINE_API_TOKEN: 'tok-0123456789abcdef' };

const GAMEDAY = `apiVersion: faultline.dev/v1alpha1
kind: ChaosWorkflow
metadata: { name: results-gameday }
spec:
  probes:
    - { name: frontend-up, kubernetes: { namespace: shop, kind: Deployment, name: frontend, minReadyReplicas: 1 }, interval: 1s }
  assertions:
    - { name: frontend-stayed-up, probe: frontend-up, operator: gte, value: 0.5 }
  steps:
    - { name: baseline, pause: 1s }
    - name: break
      parallel:
        - { name: catalog-down, fault: { type: scale-down, params: { replicas: 0 } }, target: { namespace: shop, selector: { matchLabels: { app: catalog } }, mode: { type: all } }, duration: 2s }
        - { name: kill-cart, fault: { type: pod-kill }, target: { namespace: shop, selector: { matchLabels: { app: cart } }, mode: { type: one } }, duration: 2s }
    - name: final-check
      check: { probes: [ { name: catalog-back, kubernetes: { namespace: shop, kind: Deployment, name: catalog, minReadyReplicas: 2 } } ] }
`;

let world: World;
let controller: Controller;
let finished: WorkflowRunRecord;

beforeAll(async () => {
  world = await startWorld({ env: ENV, seed: { 'experiments/results-gameday.yaml': GAMEDAY } });
  controller = await startIn(world);
  finished = await waitFor(async () => {
    const [r] = await controller.workflowRuns.list({ workflow: 'results-gameday', limit: 1 });
    return r && r.phase === 'Succeeded' && r.score ? r : undefined;
  }, 'the workflow run to end with a score', 120_000);
}, 180_000);

afterAll(async () => {
  await controller?.close();
  await world?.close();
}, 120_000);

async function get<T>(path: string): Promise<{ status: number; body: T; type: string }> {
  const res = await fetch(`${controller.url}${path}`, { headers: { authorization: `Bearer ${ENV.FAULTLINE_API_TOKEN}` } });
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, type, body: (type.includes('json') ? await res.json() : await res.text()) as T };
}

describe('workflow results through the controller', () => {
  it('the run is scored from its steps fault runs and saved with the score', async () => {
    const faultSteps = finished.steps.filter((s) => s.kind === 'fault');
    expect(faultSteps.map((s) => s.name).sort()).toEqual(['catalog-down', 'kill-cart']);
    for (const s of faultSteps) expect((await controller.runs.get(s.runId!))?.outcome).toBe('succeeded');
    expect(finished.score!.parts.map((p) => p.name)).toEqual(['steps', 'assertions', 'outcome']);
    expect(finished.score!.parts.find((p) => p.name === 'outcome')!.value).toBe(1);
    expect(finished.score!.value).toBeGreaterThan(0);
    expect(finished.score!.value).toBeLessThanOrEqual(100);
  });

  it('the status branch holds the run with its steps, its timeline drawn from them, and the trend', async () => {
    await controller.status.flush();
    await world.work.git('fetch', '-q', 'origin', '+refs/heads/faultline/status:refs/remotes/origin/faultline/status');
    const show = (p: string) => world.work.git('show', `refs/remotes/origin/faultline/status:${p}`);
    const doc = await waitFor(async () => {
      await world.work.git('fetch', '-q', 'origin', '+refs/heads/faultline/status:refs/remotes/origin/faultline/status');
      const d = parse(await show(workflowStatusPath('results-gameday')).catch(() => 'null')) as WorkflowStatusFile | null;
      return d?.runs.some((r) => r.id === finished.id) ? d : undefined;
    }, 'the workflow record on the status branch', 30_000);
    const onBranch = doc.runs.find((r) => r.id === finished.id)!;
    expect(onBranch.score).toEqual(finished.score);
    expect(onBranch.steps.map((s) => [s.path, s.phase])).toEqual(finished.steps.map((s) => [s.path, s.phase]));
    const svg = await show(workflowTimelinePath('results-gameday', finished.id));
    const bars = [...svg.matchAll(/class="step-bar" data-step="([^"]+)"/g)].map((m) => m[1]);
    expect(bars).toEqual(finished.steps.filter((s) => s.startedAt).map((s) => s.path));
    expect(svg.split('class="fault-window"').length - 1).toBe(finished.steps.filter((s) => s.faultWindow).length);
    expect(svg.split('class="probe"').length - 1).toBe(finished.probes.length);
    const trend = JSON.parse(await show(workflowStatusPath('results-gameday').replace(/\.yaml$/, '.trend.json'))) as { runs: { runId: string; score: number }[] };
    expect(trend.runs).toEqual([expect.objectContaining({ runId: finished.id, score: finished.score!.value })]);
  });

  it('GET /api/workflows and /api/workflows/:name show the run with its steps, score and trend; the pictures are served', async () => {
    const list = await get<{ workflows: WorkflowStatus[] }>('/api/workflows');
    expect(list.status).toBe(200);
    expect(list.body.workflows).toEqual([
      expect.objectContaining({
        name: 'results-gameday', state: 'once', score: finished.score!.value,
        lastRun: expect.objectContaining({ id: finished.id, phase: 'Succeeded', currentStep: 3, totalSteps: 3, progress: 1, score: finished.score!.value }),
      }),
    ]);
    const one = await get<WorkflowDetail>('/api/workflows/results-gameday');
    expect(one.status).toBe(200);
    expect(one.body.runs.map((r) => r.id)).toEqual([finished.id]);
    expect(one.body.runs[0]!.steps.map((s) => s.name)).toEqual(finished.steps.map((s) => s.name));
    expect(one.body.trend).toEqual([expect.objectContaining({ runId: finished.id, score: finished.score!.value, outcome: 'succeeded' })]);
    expect((await get('/api/workflows/nope')).status).toBe(404);
    expect((await get('/api/workflows/Bad_Name')).status).toBe(400);
    const timeline = await get<string>(`/api/workflows/results-gameday/runs/${finished.id}/timeline.svg`);
    expect(timeline.type).toMatch(/^image\/svg\+xml/);
    expect(timeline.body).toContain(`data-run="${finished.id}"`);
    const trend = await get<string>('/api/workflows/results-gameday/trend.svg');
    expect(trend.body.split('class="trend-point"').length - 1).toBe(1);
    expect((await get(`/api/workflows/results-gameday/runs/not-a-run/timeline.svg`)).status).toBe(404);
    // an experiment step's runs are not an experiment's trend; a missing experiment has none
    expect((await get<{ runs: unknown[] }>('/api/experiments/nope/trend')).body.runs).toEqual([]);
  });

  it('metrics: the score gauge per workflow and step outcomes counted once', async () => {
    const text = (await get<string>('/metrics')).body;
    expect(text).toContain(`faultline_resilience_score{workflow="results-gameday"} ${finished.score!.value}`);
    const steps = (outcome: string) => Number(new RegExp(`faultline_workflow_steps_total\\{workflow="results-gameday",outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1]);
    expect(steps('succeeded')).toBe(finished.steps.filter((s) => s.phase === 'Succeeded').length);
  });

  it('faultline status shows the workflow: phase, step, progress, score (a process against the same Redis)', async () => {
    const env = { ...process.env, ...world.env, LOG_LEVEL: 'silent' };
    const json = await run('node_modules/.bin/node', ['src/cli/bin.js', 'status', '--workflows', '--json'], { env, timeout: 60_000 });
    const rows = JSON.parse(json.stdout) as WorkflowStatus[];
    expect(rows.map((r) => [r.name, r.lastRun?.phase, r.lastRun?.progress, r.lastRun?.score])).toEqual([['results-gameday', 'Succeeded', 1, finished.score!.value]]);
    const text = await run('node_modules/.bin/node', ['src/cli/bin.js', 'status'], { env, timeout: 60_000 });
    const line = text.stdout.split('\n').find((l) => l.startsWith('results-gameday'))!;
    expect(line).toMatch(new RegExp(`^results-gameday\\s+once\\s+Succeeded\\s+3/3\\s+100%\\s+${finished.score!.value}\\s+${finished.id}`));
    expect(text.stdout).toMatch(/^WORKFLOW\s+STATE\s+PHASE\s+STEP\s+PROGRESS\s+SCORE/m);
  });
});
