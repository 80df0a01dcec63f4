// `faultline plan` end to end: the real CLI process, a kubeconfig file pointing at the simulator.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const BIN = join(ROOT, 'src/cli/bin.js');

let sim: Simulator;
let dir: string;
let kubeconfig: string;

function experiment(name: string, target: string, fault = 'pod-kill'): string {
  return `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata: { name: ${name} }
spec:
  fault: { type: ${fault} }
  target:
${target.replace(/^/gm, '    ')}
  duration: 30s
`;
}

function run(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const env = { PATH: process.env.PATH ?? '', HOME: dir, LOG_LEVEL: 'silent', ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}) };
    const child = spawn(NODE, [BIN, 'plan', ...args], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  sim = await startSimulator();
  dir = mkdtempSync(join(tmpdir(), 'fl-plan-'));
  kubeconfig = join(dir, 'kubeconfig.yaml');
  writeFileSync(kubeconfig, sim.kubeconfigYaml());
  mkdirSync(join(dir, 'repo/experiments'), { recursive: true });
  mkdirSync(join(dir, 'ok/experiments'), { recursive: true });
  const shop = (app: string, mode: string) => `namespace: shop\nselector: { matchLabels: { app: ${app} } }\nmode: ${mode}`;
  writeFileSync(join(dir, 'repo/experiments/checkout-30.yaml'), experiment('checkout-30', shop('checkout', '{ type: percent, value: 30 }')));
  writeFileSync(join(dir, 'repo/experiments/cart-one.yaml'), experiment('cart-one', shop('cart', '{ type: one }')));
  writeFileSync(join(dir, 'repo/experiments/dns.yaml'), experiment('dns', 'namespace: kube-system\nselector: { matchLabels: { k8s-app: kube-dns } }\nmode: { type: one }'));
  writeFileSync(join(dir, 'repo/experiments/broken.yaml'), experiment('broken', shop('cart', '{ type: sometimes }')));
  writeFileSync(join(dir, 'ok/experiments/cart-one.yaml'), experiment('cart-one', shop('cart', '{ type: one }')));
});
afterAll(async () => {
  await sim?.close();
});

describe('faultline plan', () => {
  it('--json: targets, blast radius and verdicts per experiment, problems with FILE:LINE:COL, exit 1', async () => {
    const r = await run(['experiments', '--kubeconfig', kubeconfig, '--json', '--seed', '5'], join(dir, 'repo'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { rows: { name: string; allowed: boolean; seed: number; targets: { name: string; owner: string }[]; candidates: number; blastRadius: { percent: number }[]; guards: { guard: string; ok: boolean; reason: string }[] }[]; problems: { file: string; line: number; column: number; message: string }[] };
    const byName = Object.fromEntries(out.rows.map((row) => [row.name, row]));
    expect(Object.keys(byName).sort()).toEqual(['cart-one', 'checkout-30', 'dns']);
    expect(byName['checkout-30']).toMatchObject({ allowed: false, seed: 5, candidates: 4, blastRadius: [{ percent: 50 }] });
    expect(byName['checkout-30']!.targets).toHaveLength(2);
    expect(byName['checkout-30']!.guards.find((g) => g.guard === 'pdb')).toMatchObject({ ok: false });
    expect(byName['cart-one']).toMatchObject({ allowed: true, candidates: 3 });
    expect(byName['cart-one']!.targets[0]!.owner).toBe('Deployment/cart');
    expect(byName.dns!.guards.find((g) => g.guard === 'protected-namespace')).toMatchObject({ ok: false });
    expect(out.problems.length).toBeGreaterThan(0);
    expect(out.problems[0]).toMatchObject({ file: expect.stringContaining('broken.yaml'), line: expect.any(Number), column: expect.any(Number) });
    // same seed, same cluster → same choice
    const again = JSON.parse((await run(['experiments', '--kubeconfig', kubeconfig, '--json', '--seed', '5'], join(dir, 'repo'))).stdout) as typeof out;
    expect(again.rows.map((row) => row.targets)).toEqual(out.rows.map((row) => row.targets));
  });

  it('table output; exit 0 when everything is allowed; the freeze file refuses', async () => {
    const ok = await run(['--kubeconfig', kubeconfig], join(dir, 'ok'));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^EXPERIMENT\s+FAULT\s+NAMESPACE\s+TARGETS/);
    expect(ok.stdout).toMatch(/cart-one\s+pod-kill\s+shop\s+1\/3\s+Deployment\/cart 1\/3 \(33%\)\s+once\s+allowed/);
    mkdirSync(join(dir, 'ok/.faultline'), { recursive: true });
    writeFileSync(join(dir, 'ok/.faultline/freeze'), 'gameday incident\n');
    const frozen = await run(['--kubeconfig', kubeconfig], join(dir, 'ok'));
    expect(frozen.code).toBe(1);
    expect(frozen.stdout).toContain('✗ freeze-file: the repository has .faultline/freeze');
  });

  it('problems in text form, and a clear error without a cluster', async () => {
    const r = await run(['experiments', '--kubeconfig', kubeconfig], join(dir, 'repo'));
    expect(r.stdout).toMatch(/problems:\n {2}experiments\/broken\.yaml:\d+:\d+: /);
    const none = await run(['experiments'], join(dir, 'repo'));
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no Kubernetes configuration found');
  });
});
