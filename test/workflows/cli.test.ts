// `faultline validate` and `faultline plan` on ChaosWorkflow files through the real CLI process;
// plan against the simulator through a kubeconfig file, as an operator would run it.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const BIN = join(ROOT, 'src/cli/bin.js');
const FIXTURES = join(import.meta.dirname, 'fixtures/repo');

function validate(cwd: string, ...args: string[]) {
  const r = spawnSync(NODE, [BIN, 'validate', ...args], { cwd, encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function plan(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(NODE, [BIN, 'plan', ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: dir, LOG_LEVEL: 'silent' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const flow = (name: string, steps: string, extra = '') => `apiVersion: faultline.dev/v1alpha1
kind: ChaosWorkflow
metadata: { name: ${name} }
spec:
${extra}  steps:
${steps}`;
const kill = (name: string, app: string, ns = 'shop') =>
  `- name: ${name}\n  fault: { type: pod-kill }\n  target: { namespace: ${ns}, selector: { matchLabels: { ${ns === 'kube-system' ? 'k8s-app' : 'app'}: ${app} } } }\n  duration: 30s\n`;
const indent = (s: string, n: number) => s.replace(/^(?=.)/gm, ' '.repeat(n));

let sim: Simulator;
let dir: string;
let kubeconfig: string;
beforeAll(async () => {
  sim = await startSimulator();
  dir = mkdtempSync(join(tmpdir(), 'fl-wf-cli-'));
  kubeconfig = join(dir, 'kubeconfig.yaml');
  writeFileSync(kubeconfig, sim.kubeconfigYaml());
  cpSync(FIXTURES, join(dir, 'good'), { recursive: true });
  cpSync(FIXTURES, join(dir, 'mixed'), { recursive: true });
  // each step alone is allowed (one cart pod of three, 33% < the workflow's 40%); together they take 2/3
  writeFileSync(join(dir, 'mixed/together.yaml'), flow('together', indent(`- name: both\n  parallel:\n${indent(kill('kill-a', 'cart') + kill('kill-b', 'cart'), 4)}`, 4), '  safety: { maxBlastRadiusPercent: 40 }\n'));
  // one step in a protected namespace refuses the whole workflow
  writeFileSync(join(dir, 'mixed/protected.yaml'), flow('protected', indent(`- name: wait\n  pause: 5s\n${kill('dns', 'kube-dns', 'kube-system')}`, 4)));
  writeFileSync(join(dir, 'mixed/broken.yaml'), flow('broken', indent('- name: odd\n  pause: soon\n- name: ghost\n  experiment: not-here\n', 4)));
});
afterAll(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('faultline validate with workflows', () => {
  it('a valid workflow and its experiment: exit 0, both counted', () => {
    const r = validate(dir, 'good');
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('1 experiment, 1 workflow valid\n');
    expect(r.code).toBe(0);
  });
  it('a bad workflow is reported at FILE:LINE:COL and never stops the other files (text and JSON)', () => {
    const r = validate(dir, 'mixed');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('mixed/broken.yaml:7:14: spec.steps[0].pause: must be a duration like 500ms, 30s, 5m or 1h30m\n');
    expect(r.stderr).toBe('1 problem; 1 valid experiment, 3 workflows valid\n');
    const json = JSON.parse(validate(dir, 'mixed', '--format', 'json').stdout) as { file: string; line: number; column: number; pointer: string }[];
    expect(json).toEqual([{ file: 'mixed/broken.yaml', line: 7, column: 14, pointer: '/spec/steps/0/pause', message: expect.stringContaining('duration') }]);
    // fixed, the missing experiment shows up at its field
    writeFileSync(join(dir, 'mixed/broken.yaml'), flow('broken', indent('- name: odd\n  pause: 5s\n- name: ghost\n  experiment: not-here\n', 4)));
    const again = validate(dir, 'mixed');
    expect(again.stdout).toBe('mixed/broken.yaml:9:19: step broken/ghost: experiment "not-here" is not a valid ChaosExperiment of the repository\n');
  });
});

describe('faultline plan with workflows', () => {
  it('every step with its live targets, blast radius and verdicts; exit 0 when all are allowed', async () => {
    const r = await plan(['good', '--kubeconfig', kubeconfig, '--seed', '5'], dir);
    expect(r.stderr).toBe('1 experiment planned, 0 refused, 1 workflow planned, 0 refused, 0 problems\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('WORKFLOW shop-gameday (good/shop-gameday.yaml) 0 10 * * 3: allowed');
    expect(r.stdout).toMatch(/\n {2}break-things: parallel, together 2 targets blast radius Deployment\/checkout 1\/4 \(25%\), Deployment\/cart 1\/3 \(33%\) allowed\n/);
    expect(r.stdout).toMatch(/\n {4}slow-checkout: network-delay shop targets 1\/4 blast radius Deployment\/checkout 1\/4 \(25%\) allowed\n {6}targets \(seed 5\): checkout-/);
    expect(r.stdout).toMatch(/\n {4}kill-cart: pod-kill \(experiment cart-pod-kill\) shop targets 1\/3 /);
    expect(r.stdout).toMatch(/\n {2}stress-frontend: cpu-stress shop targets 1\/3 blast radius Deployment\/frontend 1\/3 \(33%\) \[continueOnFailure\] allowed\n/);
    expect(r.stdout).toContain('\n  baseline: pause 30s\n');
    expect(r.stdout).toContain('\n  final-check: check 20s\n');
  });

  it('refuses a workflow when one step is refused, and a parallel group whose combined radius is over the cap', async () => {
    const r = await plan(['mixed', '--kubeconfig', kubeconfig, '--json', '--seed', '5'], dir);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as {
      workflows: { name: string; allowed: boolean; refusedSteps: string[]; steps: { name: string; allowed: boolean; row?: { allowed: boolean; guards: { guard: string; ok: boolean }[] }; steps?: { allowed: boolean; row?: { blastRadius: { percent: number }[] } }[]; combined?: { blastRadius: { workload: string; hit: number; ready: number }[]; guards: { guard: string; ok: boolean; reason: string }[] } }[] }[];
      problems: { file: string }[];
    };
    const by = Object.fromEntries(out.workflows.map((w) => [w.name, w]));
    expect(Object.keys(by).sort()).toEqual(['protected', 'shop-gameday', 'together']);
    expect(by['shop-gameday']!.allowed).toBe(true);

    const together = by.together!;
    expect(together).toMatchObject({ allowed: false, refusedSteps: ['together/both'] });
    const group = together.steps[0]!;
    expect(group.steps!.map((s) => [s.allowed, s.row!.blastRadius[0]!.percent])).toEqual([[true, 33.33], [true, 33.33]]);
    expect(group.combined!.blastRadius).toEqual([expect.objectContaining({ workload: 'Deployment/cart', hit: 2, ready: 3 })]);
    expect(group.combined!.guards[0]).toMatchObject({ guard: 'combined-blast-radius', ok: false, reason: 'together Deployment/cart 2/3 ready (67%) over the 40% cap (workflow)' });

    const prot = by.protected!;
    expect(prot).toMatchObject({ allowed: false, refusedSteps: ['protected/dns'] });
    expect(prot.steps[1]!.row!.guards.find((g) => g.guard === 'protected-namespace')).toMatchObject({ ok: false });
    expect(out.problems.map((p) => p.file)).toEqual(['mixed/broken.yaml']);

    const text = await plan(['mixed', '--kubeconfig', kubeconfig, '--seed', '5'], dir);
    expect(text.stdout).toContain('WORKFLOW together (mixed/together.yaml) once: REFUSED (together/both)');
    expect(text.stdout).toContain('  ✗ combined-blast-radius: together Deployment/cart 2/3 ready (67%) over the 40% cap (workflow)');
    expect(text.stdout).toContain('WORKFLOW protected (mixed/protected.yaml) once: REFUSED (protected/dns)');
    expect(text.stderr).toBe('1 experiment planned, 0 refused, 3 workflows planned, 2 refused, 1 problem\n');
  });
});
