// `faultline validate` and spec.target.cluster: validate has no cluster connection, so it checks
// the name's form only (registered or not is known at plan and run time); a bad name is one line
// at its file:line:column with the field.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const faultline = (...args: string[]) => {
  const r = spawnSync(join(root, 'node_modules/.bin/node'), [join(root, 'src/cli/bin.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const dir = mkdtempSync(join(tmpdir(), 'fl-cluster-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const experiment = (cluster: string) => `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata: { name: east-cart-kill }
spec:
  fault: { type: pod-kill }
  target:
    namespace: shop
    cluster: ${cluster}
    selector: { matchLabels: { app: cart } }
  duration: 1s
`;

describe('faultline validate with spec.target.cluster', () => {
  it('a well-formed name passes without any cluster; a malformed one is refused at its line', () => {
    writeFileSync(join(dir, 'good.yaml'), experiment('east.prod'));
    const good = faultline('validate', join(dir, 'good.yaml'));
    expect([good.code, `${good.stdout}${good.stderr}`]).toEqual([0, '1 experiment valid\n']);
    writeFileSync(join(dir, 'bad.yaml'), experiment('East_1'));
    const bad = faultline('validate', join(dir, 'bad.yaml'));
    expect(bad.code).toBe(1);
    expect(`${bad.stdout}${bad.stderr}`).toMatch(/bad\.yaml:8:\d+: .*spec\.target\.cluster/);
  });
});
