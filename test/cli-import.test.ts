// `faultline import` end to end through the real bin: foreign files in, native files out; the
// native files pass `faultline validate` and hash the same as their sources (round trip).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CORPUS, NO_CORPUS } from './experiments/corpus.js';

const root = new URL('..', import.meta.url).pathname;
function faultline(...args: string[]) {
  const r = spawnSync(join(root, 'node_modules/.bin/node'), [join(root, 'src/cli/bin.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
interface Row { file: string; line: number; source: { apiVersion: string | null; kind: string | null }; experiment: { metadata: { name: string } }; specHash: string; notes?: string[] }
interface ProblemRow { file: string; line: number; column: number; pointer: string; message: string }
const rowsOf = (stdout: string) => {
  const all = JSON.parse(stdout) as (Row | ProblemRow)[];
  return { rows: all.filter((r): r is Row => 'experiment' in r), problems: all.filter((r): r is ProblemRow => 'message' in r) };
};

const out = mkdtempSync(join(tmpdir(), 'fl-import-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const fixtures = join(root, 'test/experiments/fixtures');

describe('faultline import', () => {
  const sources = [join(fixtures, 'chaosio-canonical.yaml'), join(fixtures, 'chaosmesh.yaml'), ...(NO_CORPUS ? [] : [join(CORPUS, 'chaos-mesh/examples')])];
  const first = faultline('import', ...sources, '--out', join(out, 'native'), '--format', 'json');
  // (the corpus's status-check Workflow probes an address the default egress policy refuses: not written)
  const imported = rowsOf(first.stdout);

  it('writes one native file per experiment, named after it, saying what it came from', () => {
    expect(imported.rows.length).toBeGreaterThanOrEqual(10);
    const files = readdirSync(join(out, 'native')).sort();
    expect(files).toEqual(imported.rows.map((r) => `${r.experiment.metadata.name}.yaml`).sort());
    const canonical = readFileSync(join(out, 'native', 'checkout-pod-killer.yaml'), 'utf8');
    expect(canonical).toMatch(/^# Imported by faultline import from chaos\.io\/v1 ChaosExperiment in .*chaosio-canonical\.yaml:2\.\n/);
    expect(canonical).toMatch(/gracePeriodSeconds: 30/);
    const row = imported.rows.find((r) => r.experiment.metadata.name === 'checkout-pod-killer')!;
    expect(row.source).toEqual({ apiVersion: 'chaos.io/v1', kind: 'ChaosExperiment' });
    // problems are the ones validate prints, and the exit code says there were some
    if (!NO_CORPUS) {
      expect(first.code).toBe(1);
      expect(imported.problems.some((p) => /Task "the-entry" .* has no Faultline equivalent/.test(p.message))).toBe(true);
      for (const p of imported.problems) expect(p.message).not.toMatch(/undefined/);
    }
  });

  it('round trip: the native files pass validate and hash the same as their sources', () => {
    const v = faultline('validate', join(out, 'native'));
    const workflows = imported.rows.filter((r) => r.source.kind === 'Workflow').length;
    const experiments = imported.rows.length - workflows;
    expect(v.stderr.trim()).toBe(`${experiments} experiments${workflows ? `, ${workflows} workflow${workflows === 1 ? '' : 's'}` : ''} valid`);
    expect(v.code).toBe(0);
    const again = rowsOf(faultline('import', join(out, 'native'), '--format', 'json').stdout);
    expect(again.problems).toEqual([]);
    const hashOf = (rows: Row[]) => Object.fromEntries(rows.map((r) => [r.experiment.metadata.name, r.specHash]));
    expect(hashOf(again.rows)).toEqual(hashOf(imported.rows));
    for (const r of again.rows) {
      const native = imported.rows.find((x) => x.experiment.metadata.name === r.experiment.metadata.name)!;
      expect(r.source).toEqual({ apiVersion: 'faultline.dev/v1alpha1', kind: native.source.kind === 'Workflow' ? 'ChaosWorkflow' : 'ChaosExperiment' });
    }
  });

  it.skipIf(NO_CORPUS)('every Chaos Mesh Workflow of the corpus: imported ones pass validate as ChaosWorkflows, the rest are refused by name', () => {
    const files = [
      ...readdirSync(join(CORPUS, 'chaos-mesh/examples/workflow')).map((f) => join(CORPUS, 'chaos-mesh/examples/workflow', f)),
      join(CORPUS, 'chaos-mesh/test/integration_test/physical_machine/workflow.yaml'),
      ...readdirSync(join(CORPUS, 'chaos-mesh-docs')).filter((f) => readFileSync(join(CORPUS, 'chaos-mesh-docs', f), 'utf8').includes('kind: Workflow')).map((f) => join(CORPUS, 'chaos-mesh-docs', f)),
    ];
    expect(files.length).toBe(8);
    const dir = join(out, 'workflows');
    // status-check.yaml probes http://123.123.123.123: refused by the default egress policy, in
    // import exactly as in validate, until the config allows that address.
    const refusedUrl = rowsOf(faultline('import', join(CORPUS, 'chaos-mesh/examples/workflow/status-check.yaml'), '--format', 'json').stdout);
    expect(refusedUrl.rows).toEqual([]);
    expect(refusedUrl.problems.map((p) => p.message)).toEqual([
      'chaos-mesh.org/v1alpha1 Workflow: spec.steps[0].parallel[0].check.probes[0].http.url (mapped from spec.templates[1].statusCheck.http.url): http://123.123.123.123 is refused by the egress policy: address 123.123.123.123 is not in egress.allowCidrs (none)',
    ]);
    const config = join(out, 'allow-status-check.yaml');
    writeFileSync(config, 'egress:\n  allowCidrs: [123.123.123.123/32]\n');
    const r = rowsOf(faultline('import', ...files, '--out', dir, '--format', 'json', '--config', config).stdout);
    const names = r.rows.map((x) => `${x.file.split('/').pop()} ${x.experiment.metadata.name}`).sort();
    expect(names).toEqual(['run-serial-or-parallel-experiments--1.yaml try-workflow-serial', 'run-serial-or-parallel-experiments--2.yaml try-workflow-parallel', 'status-check.yaml try-workflow-status-check']);
    for (const x of r.rows) expect(x.source).toEqual({ apiVersion: 'chaos-mesh.org/v1alpha1', kind: 'Workflow' });
    // each refused file is refused with a reason naming the template that has no equivalent
    const refused = new Set(r.problems.map((p) => p.file.split('/').pop()));
    expect([...refused].sort()).toEqual(['create-chaos-mesh-workflow--1.yaml', 'custom-task.yaml', 'parallel.yaml', 'serial.yaml', 'workflow.yaml']);
    for (const p of r.problems) expect(p.message).toMatch(/^chaos-mesh\.org\/v1alpha1 Workflow: (Schedule|Task|template) "[a-z-]+"/);
    expect(faultline('validate', dir).code).toBe(1); // the default policy still refuses that address
    const v = faultline('validate', dir, '--config', config);
    expect(v.stderr.trim()).toBe('0 experiments, 3 workflows valid');
    expect(v.code).toBe(0);
    const serial = parseAllDocuments(readFileSync(join(dir, 'try-workflow-serial.yaml'), 'utf8'));
    const doc = (Array.isArray(serial) ? serial[0]! : serial).toJS() as { kind: string; spec: { steps: { name: string }[] } };
    expect(doc.kind).toBe('ChaosWorkflow');
    expect(doc.spec.steps.map((s) => s.name)).toEqual(['workflow-stress-chaos', 'suspending', 'workflow-network-chaos']);
  });

  it('prints the native documents when there is no --out, and never overwrites without --force', () => {
    const printed = faultline('import', join(fixtures, 'chaosio-canonical.yaml'));
    expect(printed.code).toBe(0);
    const docs = parseAllDocuments(printed.stdout);
    expect(Array.isArray(docs) && docs.map((d) => d.toJS().spec.fault.type)).toEqual(['pod-kill']);
    expect(printed.stderr).toBe('1 experiment imported\n');
    const again = faultline('import', join(fixtures, 'chaosio-canonical.yaml'), '--out', join(out, 'native'));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/checkout-pod-killer\.yaml:1:1: already exists; not overwritten \(use --force\)/);
    expect(faultline('import', join(fixtures, 'chaosio-canonical.yaml'), '--out', join(out, 'native'), '--force').code).toBe(0);
  });

  it.skipIf(NO_CORPUS)('resolves a Chaos Toolkit configuration from --set values, and names the variable without them', () => {
    const file = join(CORPUS, 'ctk/pg/kubernetes-pack/kill-pods-experiment.json');
    const without = faultline('import', file);
    expect(without.code).toBe(1);
    expect(without.stderr).toMatch(/kill-pods-experiment\.json:\d+:\d+: Chaos Toolkit experiment: \$\{service_url\} comes from the environment variable APPLICATION_ENTRYPOINT_URL/);
    const given = faultline('import', file, '--format', 'json', '--set', 'APPLICATION_ENTRYPOINT_URL=http://app.shop.svc/', '--set', 'POD_LABEL=app=web', '--set', 'POD_NAMESPACE=shop');
    expect(given.code).toBe(0);
    const { rows } = rowsOf(given.stdout);
    expect(rows.map((r) => [r.source, (r.experiment as unknown as { spec: { target: object } }).spec.target])).toEqual([
      [{ apiVersion: null, kind: null }, { namespace: 'shop', selector: { matchLabels: { app: 'web' } }, mode: { type: 'fixed', value: 2 } }],
    ]);
  });

  it('validate walks .json files too', () => {
    const dir = join(out, 'json');
    const native = readFileSync(join(out, 'native', 'checkout-pod-killer.yaml'), 'utf8');
    const doc = parseAllDocuments(native);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'killer.json'), JSON.stringify(Array.isArray(doc) ? doc[0]!.toJS() : {}));
    writeFileSync(join(dir, 'broken.json'), '{"apiVersion": "faultline.dev/v1alpha1", "kind": "ChaosExperiment",\n "metadata": {"name": "Bad_Name"}}');
    const v = faultline('validate', dir);
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/broken\.json:2:23: metadata\.name: must be a DNS-1123 label/);
    expect(v.stderr).toMatch(/; 1 valid experiment\n$/);
  });

  it('answers a bad setup with one line and an exit code', () => {
    const bad = faultline('import', fixtures, '--format', 'xml');
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    writeFileSync(join(out, 'a-file'), 'x');
    const notDir = faultline('import', fixtures, '--out', join(out, 'a-file'));
    expect(notDir.code).toBe(2);
    expect(notDir.stderr).toMatch(/^faultline import: --out .* is not a directory\n$/);
    const set = faultline('import', fixtures, '--set', 'NOEQUALS');
    expect(set).toMatchObject({ code: 2, stdout: '', stderr: 'faultline import: --set needs KEY=VALUE, not "NOEQUALS"\n' });
    const missing = faultline('import', join(out, 'nope.yaml'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.yaml:1:1: cannot read: ENOENT/);
  });
});
