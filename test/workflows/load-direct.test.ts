// Loading decisions of src/workflows/load.ts called directly: which documents are workflows, one
// problem per field (schema first), the egress policy on every URL, defaults filled, and the
// repository-wide checks (references, the 24h bound with experiments, unique names) at their field.
import { describe, expect, it } from 'vitest';
import { DEFAULT_EGRESS, EgressPolicy, reservedEndpoints } from '../../src/egress/index.js';
import { loadExperimentFiles } from '../../src/experiments/index.js';
import { isWorkflowDocument, normaliseWorkflow, workflowDocumentProblems } from '../../src/workflows/load.js';
import type { Workflow } from '../../src/workflows/model.js';

const enc = (s: string) => new TextEncoder().encode(s);
const wf = (spec: Record<string, unknown>) => ({ apiVersion: 'faultline.dev/v1alpha1', kind: 'ChaosWorkflow', metadata: { name: 'f' }, spec });
const EXP = `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata: { name: kill }
spec:
  fault: { type: pod-kill }
  target: { namespace: shop, selector: { matchLabels: { app: cart } } }
  duration: 1h
`;

describe('workflow documents', () => {
  it('only a map with our apiVersion and kind ChaosWorkflow is a workflow', () => {
    expect(isWorkflowDocument(wf({}))).toBe(true);
    expect(isWorkflowDocument(null)).toBe(false);
    expect(isWorkflowDocument('ChaosWorkflow')).toBe(false);
    expect(isWorkflowDocument({ ...wf({}), kind: 'ChaosExperiment' })).toBe(false);
    expect(isWorkflowDocument({ ...wf({}), apiVersion: 'faultline.dev/v2' })).toBe(false);
  });

  it('one problem per field: a semantic problem where the schema already spoke is not repeated', () => {
    expect(workflowDocumentProblems(wf({ steps: [{ name: 'p', pause: '1s', duration: 5 }] })).map((p) => `${p.pointer} ${p.message}`)).toEqual(['/spec/steps/0/duration must be string']);
  });

  it("every URL goes through the egress policy, a refused one reported at its field, an allowed one not", () => {
    const policy = new EgressPolicy(DEFAULT_EGRESS, reservedEndpoints({ serverPort: 8080, env: {} }));
    const doc = wf({
      steps: [{ name: 'c', check: { probes: [{ name: 'meta', http: { url: 'http://169.254.169.254/latest/' } }] } }],
      notify: { webhook: { url: 'http://shop.svc/hook' } },
    });
    const found = workflowDocumentProblems(doc, policy);
    expect(found.map((p) => p.pointer)).toEqual(['/spec/steps/0/check/probes/0/http/url']);
    expect(found[0]!.message).toMatch(/^http:\/\/169\.254\.169\.254\/latest\/ is refused by the egress policy: /);
    expect(workflowDocumentProblems(doc)).toEqual([]);
  });
});

describe('defaults of a loaded workflow', () => {
  it('probes get their interval, assertions "always", suspend false (true kept), steps continueOnFailure false', () => {
    const w = normaliseWorkflow(
      wf({
        steps: [{ name: 'p', pause: '1s' }],
        probes: [{ name: 'up', kubernetes: { namespace: 'shop', kind: 'Deployment', name: 'a', minReadyReplicas: 1 } }],
        assertions: [{ name: 'a', probe: 'up', operator: 'gte', value: 1 }],
      }) as unknown as Workflow,
    );
    expect(w.spec.probes![0]!.interval).toBeDefined();
    expect(w.spec.assertions![0]!.when).toBe('always');
    expect(w.spec.suspend).toBe(false);
    expect(w.spec.steps[0]!.continueOnFailure).toBe(false);
    expect(normaliseWorkflow(wf({ steps: [{ name: 'p', pause: '1s' }], suspend: true }) as unknown as Workflow).spec.suspend).toBe(true);
  });
});

describe('repository-wide workflow checks', () => {
  const load = (files: Record<string, string>) => loadExperimentFiles(Object.entries(files).map(([path, t]) => ({ path, content: enc(t) })));
  const head = (name: string) => `apiVersion: faultline.dev/v1alpha1\nkind: ChaosWorkflow\nmetadata: { name: ${name} }\nspec:\n  steps:\n`;
  it('exactly 24h with a referenced experiment is allowed; a second more is refused at spec.steps', () => {
    const ok = load({ 'e.yaml': EXP, 'w.yaml': `${head('f')}    - { name: a, pause: 23h }\n    - { name: b, experiment: kill }\n` });
    expect(ok.problems).toEqual([]);
    expect(ok.workflows![0]!.references).toEqual([expect.objectContaining({ experiment: 'kill', path: 'f/b' })]);
    const over = load({ 'e.yaml': EXP, 'w.yaml': `${head('f')}    - { name: a, pause: 23h0m1s }\n    - { name: b, experiment: kill }\n` });
    expect(over.problems.map((p) => `${p.pointer} ${p.line}:${p.column}`)).toEqual(['/spec/steps 5:3']);
  });
  it("a reference's own duration is kept; a missing experiment and a reused name are problems at their pointers", () => {
    const r = load({ 'e.yaml': EXP, 'w.yaml': `${head('f')}    - { name: b, experiment: kill, duration: 5m }\n` });
    expect(r.workflows![0]!.references[0]).toMatchObject({ experiment: 'kill', duration: '5m', pointer: '/spec/steps/0' });
    const bad = load({ 'a.yaml': `${head('f')}    - { name: b, experiment: nope }\n`, 'b.yaml': `${head('f')}    - { name: c, pause: 1s }\n` });
    expect(bad.problems.map((p) => `${p.file} ${p.pointer}`)).toEqual(['a.yaml /metadata/name', 'a.yaml /spec/steps/0/experiment', 'b.yaml /metadata/name']);
  });
});
