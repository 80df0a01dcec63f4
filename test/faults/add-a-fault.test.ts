// Adding a fault is one folder plus its line in the registry, and nothing else changes: in a
// copy of src/, a new fault (pod-mark: annotates the chosen pods, removes the annotation on
// revert) is added as src/faults/pod-mark/{index,driver}.ts and one entry in registry.ts. Then,
// untouched, the fault type list, the JSON Schema, validate (with a bad param reported at its
// line), the README table, the guards (its own blast-radius and PDB rules) and the run executor
// against the simulator (apply per pod, its extra lock, revert per pod) all take it up.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');

const DEFINITION = `import { defineFault } from '../definition.js';
import { obj } from '../schema-parts.js';

export const podMark = defineFault({
  type: 'pod-mark',
  scope: 'pods',
  description: 'Annotates the selected pods (a fault that exists only in a test).',
  docs: 'puts an annotation on the chosen pods; revert removes it',
  paramsSchema: obj({ value: { type: 'string', pattern: '^[a-z]{1,10}$' } }, ['value']),
  lockKeys: (params) => [\`ConfigMap/mark-\${String(params.value)}\`],
  blastRadius: (_params, chosen) => chosen.map((b) => ({ ...b, hit: 0, percent: 0 })),
  disruption: { exempt: 'pod-mark only annotates; no pod is disrupted' },
  driver: async () => (await import('./driver.js')).podMark,
});
`;

const DRIVER = `import { apis, mergePatch } from '../k8s.js';
import { perTarget } from '../per-target.js';
import type { FaultDriver } from '../types.js';

type Pod = { namespace: string; name: string };
const KEY = 'test.faultline.dev/mark';

export const podMark: FaultDriver = perTarget<Pod>({
  type: 'pod-mark',
  targets: (injection) => (injection.revertData as { pods: Pod[] }).pods,
  describe: (p) => \`\${p.namespace}/\${p.name}\`,
  async prepare(ctx) {
    const pods = ctx.targets.pods.map((p) => ({ namespace: p.namespace, name: p.name }));
    return { runId: ctx.runId, experiment: ctx.experiment, fault: 'pod-mark', touched: pods.map((p) => ({ kind: 'Pod', ...p })), revertData: { pods, value: ctx.params.value }, expiresAt: new Date(Date.now() + ctx.durationMs).toISOString() };
  },
  async apply(ctx, injection, p) {
    await apis(ctx.kc).core.patchNamespacedPod({ ...p, body: { metadata: { annotations: { [KEY]: String(injection.revertData.value) } } } }, mergePatch());
  },
  async recover(kc, _injection, p) {
    await apis(kc).core.patchNamespacedPod({ ...p, body: { metadata: { annotations: { [KEY]: null } } } }, mergePatch());
  },
});
`;

const PROBE = `
import { FAULT_TYPES } from './src/experiments/model.js';
import { buildExperimentSchema } from './src/experiments/schema.js';
import { loadExperimentFiles } from './src/experiments/load.js';
import { faultTable } from './src/faults/docs.js';
import { FAULT_DRIVERS } from './src/faults/index.js';
import { job, startWorld } from './test/runs/helpers.js';

const out = {};
out.types = FAULT_TYPES.includes('pod-mark');
const schema = buildExperimentSchema();
out.enum = schema.properties.spec.properties.fault.properties.type.enum.includes('pod-mark');
out.params = schema.$defs['params-pod-mark'].required;
out.row = faultTable().split('\\n').find((r) => r.startsWith('| \`pod-mark\`'));
const file = (value) => ({ path: 'experiments/mark.yaml', content: Buffer.from(
  'apiVersion: faultline.dev/v1alpha1\\nkind: ChaosExperiment\\nmetadata: { name: mark }\\nspec:\\n  fault:\\n    type: pod-mark\\n    params: { value: ' + value + ' }\\n  target: { namespace: shop, selector: { matchLabels: { app: checkout } }, mode: { type: all } }\\n  duration: 1s\\n') });
out.valid = loadExperimentFiles([file('blue')]).problems.length;
out.invalid = loadExperimentFiles([file('"NOT-OK"')]).problems.map((p) => p.file + ':' + p.line + ': ' + p.pointer);
out.driver = typeof FAULT_DRIVERS['pod-mark']?.inject;

const world = await startWorld();
try {
  const pods = () => world.sim.store.list('pods', 'shop').filter((p) => p.metadata.labels?.app === 'checkout');
  let during = [];
  const exec = world.executor({ listeners: [{ onRunUpdate: (r) => { if (r.state === 'Running') during = pods().map((p) => p.metadata.annotations?.['test.faultline.dev/mark'] ?? null); } }] });
  const locked = [];
  const orig = world.safetyState.lockWorkloads.bind(world.safetyState);
  world.safetyState.lockWorkloads = async (keys, ...rest) => { locked.push(...keys); return orig(keys, ...rest); };
  const rec = await exec.execute(job('mark', { type: 'pod-mark', params: { value: 'blue' } }, { namespace: 'shop', selector: { matchLabels: { app: 'checkout' } }, mode: { type: 'all' } }), new AbortController().signal);
  out.run = { state: rec.state, reason: rec.reason ?? null, targets: rec.targets.length };
  out.blast = rec.guards.find((g) => g.guard === 'blast-radius')?.reason;
  out.pdb = rec.guards.find((g) => g.guard === 'pdb')?.reason;
  out.locked = locked;
  out.during = during;
  out.after = pods().map((p) => p.metadata.annotations?.['test.faultline.dev/mark'] ?? null);
} finally {
  await world.close();
}
console.log(JSON.stringify(out));
`;

let dir: string | undefined;
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('adding a fault', () => {
  it('one folder and one registry entry make a fault that validates, is documented, guarded and runs', () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-add-fault-'));
    for (const d of ['src', 'test', 'schemas']) cpSync(join(ROOT, d), join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'package.json'), readFileSync(join(ROOT, 'package.json')));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    mkdirSync(join(dir, 'src/faults/pod-mark'));
    writeFileSync(join(dir, 'src/faults/pod-mark/index.ts'), DEFINITION);
    writeFileSync(join(dir, 'src/faults/pod-mark/driver.ts'), DRIVER);
    const registry = join(dir, 'src/faults/registry.ts');
    const before = readFileSync(registry, 'utf8');
    const after = before
      .replace("import { podKill } from './pod-kill/index.js';", "import { podKill } from './pod-kill/index.js';\nimport { podMark } from './pod-mark/index.js';")
      .replace('  httpFault,\n] as const;', '  httpFault,\n  podMark,\n] as const;');
    // exactly the import and the list entry
    expect(after.split('\n').length - before.split('\n').length).toBe(2);
    writeFileSync(registry, after);
    writeFileSync(join(dir, 'probe.mts'), PROBE);

    const stdout = execFileSync(NODE, ['--import', 'tsx', 'probe.mts'], { cwd: dir, encoding: 'utf8', env: process.env, timeout: 120_000 });
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    console.log(`[figure] add-a-fault probe: ${JSON.stringify(out.run)}`);
    expect(out).toMatchObject({
      types: true, enum: true, params: ['value'], driver: 'function',
      row: '| `pod-mark` | `value` | puts an annotation on the chosen pods; revert removes it | — (API calls only) | — | any |',
      valid: 0,
      run: { state: 'Succeeded', reason: null },
      pdb: 'pod-mark only annotates; no pod is disrupted',
    });
    expect((out.invalid as string[]).join('\n')).toMatch(/^experiments\/mark\.yaml:7: \/spec\/fault\/params\/value$/m);
    expect(out.blast).toMatch(/Deployment\/checkout 0\/\d+ ready \(0%\) within/);
    expect(out.locked).toEqual(expect.arrayContaining(['shop/Deployment/checkout', 'shop/ConfigMap/mark-blue']));
    expect((out.during as unknown[]).length).toBeGreaterThan(0);
    expect(new Set(out.during as unknown[])).toEqual(new Set(['blue']));
    expect(new Set(out.after as unknown[])).toEqual(new Set([null]));
  }, 150_000);
});
