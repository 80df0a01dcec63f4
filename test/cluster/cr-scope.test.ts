// What a custom resource may fault: its own namespace only (no node faults) unless the
// controller is told `customResourceTargets: any`; Git files are never judged by this rule.
import { describe, expect, it } from 'vitest';
import { applyCustomResourceScope } from '../../src/cluster/cr-scope.js';
import { loadExperimentFiles } from '../../src/experiments/index.js';
import { resolveWorkflows } from '../../src/workflows/load.js';

const experiment = (name: string, namespace: string, type = 'pod-kill') =>
  `apiVersion: faultline.dev/v1alpha1\nkind: ChaosExperiment\nmetadata: { name: ${name} }\nspec:\n  fault: { type: ${type} }\n  target: { namespace: ${namespace}, selector: { matchLabels: { app: cart } } }\n  duration: 1s\n`;
const workflow = (name: string, steps: string[]) =>
  `apiVersion: faultline.dev/v1alpha1\nkind: ChaosWorkflow\nmetadata: { name: ${name} }\nspec:\n  steps:\n${steps.map((s) => `    ${s}`).join('\n')}\n`;

function load(files: Record<string, string>) {
  const r = loadExperimentFiles(Object.entries(files).map(([path, text]) => ({ path, content: new TextEncoder().encode(text) })), { resolveReferences: false });
  if (!r.workflows?.length) return r;
  const resolved = resolveWorkflows(r.workflows, r.experiments);
  return { ...r, problems: [...r.problems, ...resolved.problems], workflows: resolved.workflows };
}

describe('custom resource scope', () => {
  const files = {
    'k8s:shop/chaosexperiments/own': experiment('own', 'shop'),
    'k8s:dev/chaosexperiments/far': experiment('far', 'shop'),
    'k8s:shop/chaosexperiments/cordon': experiment('cordon', 'shop', 'node-cordon'),
    'experiments/git.yaml': experiment('git', 'payments'),
    'k8s:dev/chaosworkflows/wf-inline': workflow('wf-inline', ['- name: kill', '  fault: { type: pod-kill }', '  target: { namespace: shop, selector: { matchLabels: { app: cart } } }', '  duration: 1s']),
    'k8s:payments/chaosworkflows/wf-ref-ok': workflow('wf-ref-ok', ['- name: run-git', '  experiment: git']),
    'k8s:dev/chaosworkflows/wf-ref': workflow('wf-ref', ['- name: run-git', '  experiment: git']),
  };

  it('keeps what stays in its namespace and Git files; refuses the rest naming the field and both namespaces', () => {
    const before = load(files);
    expect(before.problems).toEqual([]);
    const r = applyCustomResourceScope(before, 'own-namespace');
    expect(r.experiments.map((e) => e.experiment.metadata.name).sort()).toEqual(['git', 'own']);
    expect(r.workflows?.map((w) => w.workflow.metadata.name)).toEqual(['wf-ref-ok']);
    const byFile = Object.fromEntries(r.problems.map((p) => [p.file, p]));
    expect(byFile['k8s:dev/chaosexperiments/far']).toMatchObject({ pointer: '/spec/target/namespace' });
    expect(byFile['k8s:dev/chaosexperiments/far']!.message).toBe('spec.target.namespace: targets namespace "shop", but a resource in namespace "dev" may only fault its own namespace (kubernetes.customResourceTargets: own-namespace)');
    expect(byFile['k8s:shop/chaosexperiments/cordon']!.message).toMatch(/^spec\.target\.namespace: a node-cordon fault reaches every namespace on the node/);
    expect(byFile['k8s:dev/chaosworkflows/wf-inline']!.message).toMatch(/^step wf-inline\/kill: targets namespace "shop", but a resource in namespace "dev"/);
    expect(byFile['k8s:dev/chaosworkflows/wf-ref']!.message).toMatch(/^step wf-ref\/run-git \(experiment git\): targets namespace "payments"/);
    expect(byFile['k8s:dev/chaosworkflows/wf-ref']!.line).toBeGreaterThan(0);
    expect(r.problems).toHaveLength(4);
  });

  it('"any" leaves everything to the guards', () => {
    const before = load(files);
    expect(applyCustomResourceScope(before, 'any')).toBe(before);
  });
});
