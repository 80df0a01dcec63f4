// Why a run ended (or waits), as Kubernetes condition reasons: a code for machines and the
// message people read, side by side. Messages that take details are functions.
import type { ReasonCode, RunOutcome } from './types.js';

export interface Ending {
  outcome: RunOutcome;
  code: ReasonCode;
  reason?: string;
}

export const REASONS = {
  guardRefused: (refusals: string) => ({ outcome: 'failed', code: 'GuardRefused', reason: `refused by safety guards: ${refusals}` }),
  slotsTaken: (max: number) => ({ outcome: 'failed', code: 'GuardRefused', reason: `refused by safety guards: concurrency: all ${max} run slots are taken` }),
  workloadLocked: (heldBy: string) => ({ outcome: 'failed', code: 'GuardRefused', reason: `refused by safety guards: lock: workload ${heldBy}` }),
  beforeProbeFailed: (reason: string) => ({ outcome: 'failed', code: 'BeforeProbeFailed', reason }),
  notInPlace: (failed: string[], total: number) => ({ outcome: 'failed', code: 'InjectFailed', reason: `fault not in place on ${failed.length} of ${total} target(s): ${failed.join('; ')}` }),
  steadyStateLost: (reason: string) => ({ outcome: 'failed', code: 'SteadyStateLost', reason: `steady state lost: ${reason}` }),
  aborted: (why: string, code: ReasonCode = 'Aborted') => ({ outcome: 'aborted', code, reason: `aborted: ${why}` }),
  killSwitch: (why: string) => ({ outcome: 'aborted', code: 'KillSwitch', reason: `aborted: kill switch: ${why}` }),
  frozenWhileRunning: () => ({ outcome: 'aborted', code: 'Frozen', reason: 'aborted: the repository has .faultline/freeze' }),
  durationOver: () => ({ outcome: 'succeeded', code: 'DurationOver' }),
  error: (message: string, injected: boolean) => ({ outcome: 'failed', code: injected ? 'Error' : 'InjectFailed', reason: `error: ${message}` }),
  revertHandedOver: (error: string, before?: string) => {
    const why = `revert failed: ${error}; handed to the revert loop (the cluster and the ledger keep the revert data)`;
    return { outcome: 'failed', code: 'RevertHandedOver', reason: before ? `${before}; ${why}` : why };
  },
  // Endings outside the executor (the worker, the revert loop).
  controllerDied: (revertError?: string) => ({
    outcome: 'failed', code: 'ControllerDied',
    reason: revertError ? `${ORPHAN_REASON}; revert failed: ${revertError} (the revert loop keeps retrying)` : ORPHAN_REASON,
  }),
  // Several clusters: the target cluster is not registered or does not answer; nothing was injected.
  clusterUnavailable: (why: string) => ({ outcome: 'failed', code: 'ClusterUnavailable', reason: why }),
  notStartedFrozen: () => ({ outcome: 'aborted', code: 'Frozen', reason: 'freeze: the kill switch is on; run not started' }),
} satisfies Record<string, (...args: never[]) => Ending>;

/** The run's controller died mid-run; the revert loop reverted what it had injected. */
export const ORPHAN_REASON = 'controller died mid-run; reverted by orphan sweep';
