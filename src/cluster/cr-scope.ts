// Who may fault what through custom resources. Creating a ChaosExperiment in a namespace is a
// namespaced permission, so by default a resource may only fault its own namespace: RBAC on the
// resource then decides who may break what, as RBAC on Deployments decides who may deploy.
// Node faults reach every namespace on the node and are refused for resources under that rule.
// `kubernetes.customResourceTargets: any` lifts it (the resource's creators are trusted like
// the Git repository's mergers).
import { faultDefinition } from '../faults/registry.js';
import type { LoadedExperiment, LoadResult, Problem } from '../experiments/model.js';
import type { LoadedWorkflow } from '../workflows/model.js';
import { parseCrPath } from './custom-resources.js';

export type CustomResourceTargets = 'own-namespace' | 'any';
export const CUSTOM_RESOURCE_TARGETS: CustomResourceTargets[] = ['own-namespace', 'any'];

/** Why this experiment may not come from a resource in `namespace`, or undefined when it may. */
function refusal(e: LoadedExperiment, namespace: string, where: string): string | undefined {
  const { fault, target } = e.experiment.spec;
  if (faultDefinition(fault.type)?.scope === 'node') {
    return `${where}: a ${fault.type} fault reaches every namespace on the node; a resource may only fault its own namespace "${namespace}" (kubernetes.customResourceTargets: own-namespace)`;
  }
  if (target.namespace !== namespace) {
    return `${where}: targets namespace "${target.namespace}", but a resource in namespace "${namespace}" may only fault its own namespace (kubernetes.customResourceTargets: own-namespace)`;
  }
  return undefined;
}

function problem(file: string, line: number, pointer: string, message: string): Problem {
  return { file, line, column: 1, pointer, message };
}

function workflowProblems(w: LoadedWorkflow, namespace: string, byName: Map<string, LoadedExperiment>): Problem[] {
  const out: Problem[] = [];
  for (const [path, e] of Object.entries(w.inline)) {
    const why = refusal(e, namespace, `step ${path}`);
    if (why) out.push(problem(w.file, e.line || w.line, '/spec/steps', why));
  }
  for (const ref of w.references) {
    const e = byName.get(ref.experiment);
    const why = e && refusal(e, namespace, `step ${ref.path} (experiment ${ref.experiment})`);
    if (why) out.push({ file: w.file, line: ref.line, column: ref.column, pointer: ref.pointer, message: why });
  }
  return out;
}

/**
 * Moves what resources may not do into problems: experiments and workflows of `k8s:` paths that
 * fault outside their resource's namespace. Git files are left alone.
 */
export function applyCustomResourceScope(result: LoadResult, targets: CustomResourceTargets): LoadResult {
  if (targets === 'any') return result;
  const byName = new Map(result.experiments.map((e) => [e.experiment.metadata.name, e]));
  const problems = [...result.problems];
  const experiments = result.experiments.filter((e) => {
    const ref = parseCrPath(e.file);
    const why = ref && refusal(e, ref.namespace, 'spec.target.namespace');
    if (why) problems.push(problem(e.file, e.line, '/spec/target/namespace', why));
    return !why;
  });
  const workflows = result.workflows?.filter((w) => {
    const ref = parseCrPath(w.file);
    const found = ref ? workflowProblems(w, ref.namespace, byName) : [];
    problems.push(...found);
    return found.length === 0;
  });
  return workflows ? { experiments, problems, workflows } : { experiments, problems };
}
