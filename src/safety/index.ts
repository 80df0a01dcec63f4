// The safety stage: guards on live cluster facts, Redis-backed concurrency and locks, the plan.
export { evaluateGuards, allowed, effectiveBlastRadius, protectedNamespaces, workloadLockKey, type GuardInput, type SafetyConfig } from './guards.js';
export { inWindow, localTime, describeWindow } from './windows.js';
export { scaled, desiredHealthy, disruptionsAllowed } from './pdb.js';
export { SafetyState, type SafetyStateOptions, type LockResult } from './state.js';
export { planExperiment, formatPlanTable, seedFromSpecHash, type PlanRow, type PlanDeps } from './plan.js';
export { planWorkflow, formatWorkflowPlans, type WorkflowPlan, type StepPlan } from './workflow-plan.js';
