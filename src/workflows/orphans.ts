// Workflow runs whose controller died (kill -9, node lost). The fault steps' own durable revert
// (ledger, cluster marks, the revert loop) undoes whatever they had injected; the workflow run is
// NOT continued: it ends Failed with ControllerDied, the steps that were running end Failed, the
// later ones Skipped. A gameday's later steps assume the earlier ones ran in one go (a baseline,
// then faults on top of a known state); picking up half-way after minutes of outage and a revert
// would judge a different experiment. Its workloads' locks are released.
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { keys } from '../queue/keys.js';
import { hasHeartbeat } from '../runs/heartbeat.js';
import type { SafetyState } from '../safety/state.js';
import type { WorkflowListener } from './runner.js';
import type { WorkflowRunRecord } from './run-types.js';
import { isTerminalWorkflow, type WorkflowRunStore } from './run-store.js';

export const WORKFLOW_ORPHAN_REASON = 'controller died mid-workflow; its active steps were reverted by the orphan sweep and the workflow was not continued';

export interface OrphanDeps {
  redis: Redis;
  prefix: string;
  store: WorkflowRunStore;
  listeners: WorkflowListener[];
  safetyState: SafetyState;
  log: Logger;
  /** Workflow run ids executing in this process. */
  isLocal(runId: string): boolean;
}

/** Ends one workflow run as ControllerDied; undefined when it had already ended or is unknown. */
export async function endDeadWorkflow(deps: OrphanDeps, runId: string, at = new Date()): Promise<WorkflowRunRecord | undefined> {
  const record = await deps.store.get(runId);
  if (!record || isTerminalWorkflow(record.phase)) return undefined;
  const when = at.toISOString();
  for (const s of record.steps) {
    if (s.phase === 'Running') {
      s.phase = 'Failed';
      s.reasonCode = 'ControllerDied';
      s.reason = 'controller died while this step ran; its fault was reverted by the orphan sweep';
      s.endedAt = when;
      if (s.faultWindow && !s.faultWindow.to) s.faultWindow.to = when; // the revert loop's run record has the exact time
    } else if (s.phase === 'Pending') {
      s.phase = 'Skipped';
      s.reason = 'not run: the controller died before this step';
    }
  }
  record.phase = 'Failed';
  record.reasonCode = 'ControllerDied';
  record.reason = WORKFLOW_ORPHAN_REASON;
  record.endedAt = when;
  await deps.store.save(record);
  for (const l of deps.listeners) {
    try {
      await l.onWorkflowUpdate(record);
    } catch (err) {
      deps.log.error({ err: (err as Error).message, runId }, 'workflow listener failed');
    }
  }
  try {
    await deps.safetyState.releaseWorkloads(await deps.safetyState.workloadsHeldBy(runId), runId);
  } catch (err) {
    deps.log.warn({ err: (err as Error).message, runId }, 'could not release a dead workflow run\'s locks (they expire)');
  }
  deps.log.warn({ workflow: record.workflow, runId, code: 'ControllerDied' }, `workflow Failed: ${WORKFLOW_ORPHAN_REASON}`);
  return record;
}

/** Every unfinished workflow run without a live heartbeat that is not running here: ended as ControllerDied. */
export async function sweepDeadWorkflows(deps: OrphanDeps): Promise<string[]> {
  const ended: string[] = [];
  for (const r of await deps.store.unfinished()) {
    if (deps.isLocal(r.id)) continue;
    // Pending records without a heartbeat are written just before it starts: give them its TTL.
    if (r.phase === 'Pending' && Date.now() - Date.parse(r.createdAt) < 10_000) continue;
    if (await hasHeartbeat(deps.redis, keys.workflowHeartbeats(deps.prefix), r.id)) continue;
    if (await endDeadWorkflow(deps, r.id)) ended.push(r.id);
  }
  return ended;
}
