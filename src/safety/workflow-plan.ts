// The plan of a ChaosWorkflow: every fault step planned exactly as an experiment is
// (planExperiment: live targets, blast radius, every guard), and each parallel group's blast
// radius added up per workload, since its steps hit at the same time, against the caps. A
// workflow is refused when any step is. Read-only, like the experiment plan.
import type { TargetResolver } from '../cluster/types.js';
import type { LoadedExperiment } from '../experiments/model.js';
import type { BlastRadius, GuardVerdict } from '../runs/types.js';
import { stepKind, type LoadedWorkflow, type WorkflowStep } from '../workflows/model.js';
import { planExperiment, type PlanDeps, type PlanRow } from './plan.js';

export interface StepPlan {
  name: string;
  path: string; // workflow/step/…
  kind: ReturnType<typeof stepKind>;
  continueOnFailure: boolean;
  duration?: string; // a pause's length, a check's or an overriding duration
  experiment?: string; // a referenced experiment's name
  row?: PlanRow; // fault and experiment steps
  steps?: StepPlan[]; // a parallel group's steps
  combined?: { blastRadius: BlastRadius[]; targets: number; guards: GuardVerdict[] }; // a parallel group
  allowed: boolean;
}

export interface WorkflowPlan {
  name: string;
  file: string;
  schedule?: string;
  steps: StepPlan[];
  allowed: boolean;
  refusedSteps: string[]; // paths of refused steps
}

export function planWorkflow(loaded: LoadedWorkflow, experiments: Map<string, LoadedExperiment>, resolver: TargetResolver, deps: PlanDeps): WorkflowPlan {
  const name = loaded.workflow.metadata.name;
  const caps = loaded.workflow.spec.safety;
  const refused: string[] = [];
  const planStep = (s: WorkflowStep, parent: string): StepPlan => {
    const path = `${parent}/${s.name}`;
    const kind = stepKind(s);
    const out: StepPlan = { name: s.name, path, kind, continueOnFailure: s.continueOnFailure ?? false, allowed: true };
    if (kind === 'pause') out.duration = (s as Extract<WorkflowStep, { pause: string }>).pause;
    else if ('duration' in s && s.duration) out.duration = s.duration;
    if (kind === 'fault' || kind === 'experiment') {
      const ref = kind === 'experiment' ? (s as Extract<WorkflowStep, { experiment: string }>).experiment : undefined;
      if (ref) out.experiment = ref;
      const exp = ref ? experiments.get(ref) : loaded.inline[path];
      if (!exp) {
        // resolveWorkflows refuses a workflow whose experiment is missing; stay safe if called without it
        out.allowed = false;
      } else {
        out.row = { ...planExperiment(exp, resolver, deps), name: path };
        out.allowed = out.row.allowed;
      }
    } else if (kind === 'parallel') {
      out.steps = (s as Extract<WorkflowStep, { parallel: WorkflowStep[] }>).parallel.map((c) => planStep(c, path));
      out.combined = combine(out.steps, deps, caps);
      out.allowed = out.steps.every((c) => c.allowed) && out.combined.guards.every((g) => g.ok);
    }
    if (!out.allowed && !(kind === 'parallel' && out.steps!.some((c) => !c.allowed))) refused.push(path);
    return out;
  };
  const steps = loaded.workflow.spec.steps.map((s) => planStep(s, name));
  const plan: WorkflowPlan = { name, file: loaded.file, steps, allowed: steps.every((s) => s.allowed), refusedSteps: refused };
  if (loaded.workflow.spec.schedule) plan.schedule = loaded.workflow.spec.schedule.cron;
  return plan;
}

function rowsOf(steps: StepPlan[]): PlanRow[] {
  return steps.flatMap((s) => (s.row ? [s.row] : s.steps ? rowsOf(s.steps) : []));
}

// Steps of a group hit at once: their hits on one workload add up (counted as if they never
// chose the same pod, which can only overstate the radius), against the tightest cap that applies.
function combine(steps: StepPlan[], deps: PlanDeps, caps: { maxBlastRadiusPercent?: number; maxTargets?: number } | undefined): NonNullable<StepPlan['combined']> {
  const rows = rowsOf(steps);
  const byWorkload = new Map<string, BlastRadius>();
  for (const b of rows.flatMap((r) => r.blastRadius)) {
    const key = `${b.namespace}/${b.workload}`;
    const seen = byWorkload.get(key);
    if (!seen) byWorkload.set(key, { ...b });
    else {
      seen.ready = Math.max(seen.ready, b.ready);
      seen.hit = Math.min(seen.ready, seen.hit + b.hit);
      seen.percent = seen.ready ? Math.round((seen.hit / seen.ready) * 10000) / 100 : 100; // as effectiveBlastRadius rounds
    }
  }
  const blastRadius = [...byWorkload.values()];
  const targets = rows.reduce((n, r) => n + r.targets.length, 0);
  const cap = Math.min(deps.config.maxBlastRadiusPercent, caps?.maxBlastRadiusPercent ?? Infinity);
  const capSrc = cap < deps.config.maxBlastRadiusPercent ? 'workflow' : 'controller';
  const maxTargets = Math.min(deps.config.maxTargets, caps?.maxTargets ?? Infinity);
  const pct = (n: number) => `${Math.round(n)}%`;
  const list = (bs: BlastRadius[]) => bs.map((b) => `${b.workload} ${b.hit}/${b.ready} ready (${pct(b.percent)})`).join(', ');
  const over = blastRadius.filter((b) => b.percent > cap);
  const guards: GuardVerdict[] = [
    {
      guard: 'combined-blast-radius',
      ok: over.length === 0,
      reason: blastRadius.length === 0 ? 'no workload hit' : over.length ? `together ${list(over)} over the ${pct(cap)} cap (${capSrc})` : `together ${list(blastRadius)} within the ${pct(cap)} cap (${capSrc})`,
    },
    { guard: 'combined-max-targets', ok: targets <= maxTargets, reason: `together ${targets} target${targets === 1 ? '' : 's'} ${targets <= maxTargets ? '<=' : '>'} ${maxTargets}` },
  ];
  return { blastRadius, targets, guards };
}

/** Plain text: one line per step, indented by nesting, then why refused steps are refused. */
export function formatWorkflowPlans(plans: WorkflowPlan[]): string {
  const out: string[] = [];
  const radius = (bs: BlastRadius[]) => (bs.length ? bs.map((b) => `${b.workload} ${b.hit}/${b.ready} (${Math.round(b.percent)}%)`).join(', ') : '-');
  for (const p of plans) {
    out.push(`WORKFLOW ${p.name} (${p.file}) ${p.schedule ?? 'once'}: ${p.allowed ? 'allowed' : `REFUSED (${p.refusedSteps.join(', ')})`}`);
    const walk = (steps: StepPlan[], depth: number): void => {
      for (const s of steps) {
        const pad = '  '.repeat(depth);
        const flags = s.continueOnFailure ? ' [continueOnFailure]' : '';
        const verdict = s.allowed ? 'allowed' : 'REFUSED';
        if (s.row) {
          const r = s.row;
          out.push(`${pad}${s.name}: ${r.fault}${s.experiment ? ` (experiment ${s.experiment})` : ''} ${r.namespace} targets ${r.targets.length}/${r.candidates} blast radius ${radius(r.blastRadius)}${flags} ${verdict}`);
          if (r.targets.length) out.push(`${pad}  targets (seed ${r.seed}): ${r.targets.map((t) => t.name).join(', ')}`);
          for (const g of r.guards.filter((g) => !g.ok)) out.push(`${pad}  ✗ ${g.guard}: ${g.reason}`);
        } else if (s.steps) {
          out.push(`${pad}${s.name}: parallel, together ${s.combined!.targets} targets blast radius ${radius(s.combined!.blastRadius)}${flags} ${verdict}`);
          for (const g of s.combined!.guards.filter((g) => !g.ok)) out.push(`${pad}  ✗ ${g.guard}: ${g.reason}`);
          walk(s.steps, depth + 1);
        } else if (s.kind === 'experiment') {
          out.push(`${pad}${s.name}: experiment ${s.experiment ?? '?'} not found REFUSED`);
        } else {
          out.push(`${pad}${s.name}: ${s.kind}${s.duration ? ` ${s.duration}` : ''}${flags}`);
        }
      }
    };
    walk(p.steps, 1);
  }
  return out.join('\n') + '\n';
}
