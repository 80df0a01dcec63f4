// `faultline validate` end to end: the real bin, text and JSON output, exit codes, and a
// directory of broken files with every problem at the right line and column.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
function faultline(...args: string[]) {
  const r = spawnSync(join(root, 'node_modules/.bin/node'), [join(root, 'src/cli/bin.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const broken = mkdtempSync(join(tmpdir(), 'fl-cli-'));
afterAll(() => rmSync(broken, { recursive: true, force: true }));
mkdirSync(join(broken, 'nested'));
writeFileSync(
  join(broken, 'bad-fields.yaml'),
  `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata:
  name: Checkout_Kill
spec:
  fault:
    type: network-delay
    params: { latency: 20s, bogus: 1 }
  target:
    namespace: shop
    selector: { matchLabels: { app: checkout } }
    mode: { type: percent, value: 130 }
  duration: 5x
  schedule: { cron: "61 * * * *", timezone: Mars/Olympus }
`,
);
writeFileSync(join(broken, 'nested', 'dup.yml'), 'apiVersion: a\napiVersion: b\n');
writeFileSync(join(broken, 'nested', 'binary.yaml'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1]));
writeFileSync(
  join(broken, 'nested', 'multi.yaml'),
  `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata: { name: fine }
spec:
  fault: { type: pod-kill }
  target: { namespace: shop, selector: { matchLabels: { app: cart } } }
  duration: 10s
---
apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata: { name: second }
spec:
  fault: { type: cpu-stress, params: { workers: 0 } }
  target: { namespace: shop, selector: { matchLabels: { app: cart } } }
  duration: 10s
`,
);

const EXPECTED = [
  ['bad-fields.yaml', 4, 9, '/metadata/name'],
  ['bad-fields.yaml', 8, 24, '/spec/fault/params/latency'],
  ['bad-fields.yaml', 8, 29, '/spec/fault/params/bogus'],
  ['bad-fields.yaml', 12, 35, '/spec/target/mode/value'],
  ['bad-fields.yaml', 13, 13, '/spec/duration'],
  ['bad-fields.yaml', 14, 21, '/spec/schedule/cron'],
  ['bad-fields.yaml', 14, 45, '/spec/schedule/timezone'],
  ['nested/binary.yaml', 1, 1, ''],
  ['nested/dup.yml', 2, 1, ''],
  ['nested/multi.yaml', 13, 49, '/spec/fault/params/workers'],
];

describe('faultline validate', () => {
  it('exits 0 on the example experiments (the default path)', () => {
    const r = faultline('validate');
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^\d+ experiments, 1 workflow valid/); // experiments/shop-gameday.yaml holds the gameday workflow
    expect(r.code).toBe(0);
  });

  it('prints FILE:LINE:COL: message for every problem of every broken file and exits 1', () => {
    const r = faultline('validate', broken);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => /^(.*?):(\d+):(\d+): /.exec(l)!.slice(1, 4))).toEqual(EXPECTED.map(([f, l, c]) => [join(broken, f as string), String(l), String(c)]));
    expect(lines[0]).toMatch(/metadata.name: must be a DNS-1123 label/);
    expect(lines[7]).toMatch(/binary file/);
    expect(lines[8]).toMatch(/Map keys must be unique/);
    expect(r.stderr).toMatch(/10 problems; 1 valid experiment/);
  });

  it('--format json prints {file,line,column,pointer,message} rows', () => {
    const r = faultline('validate', '--format', 'json', broken, join(root, 'experiments'));
    expect(r.code).toBe(1);
    const rows = JSON.parse(r.stdout) as { file: string; line: number; column: number; pointer: string; message: string }[];
    expect(rows.map((p) => [p.file.slice(broken.length + 1), p.line, p.column, p.pointer])).toEqual(EXPECTED);
    for (const p of rows) expect(Object.keys(p)).toEqual(['file', 'line', 'column', 'pointer', 'message']);
  });

  it('--format json on valid files prints an empty array and exits 0', () => {
    const r = faultline('validate', '--format', 'json', 'experiments/checkout-pod-kill.yaml');
    expect(JSON.parse(r.stdout)).toEqual([]);
    expect(r.code).toBe(0);
  });
});
