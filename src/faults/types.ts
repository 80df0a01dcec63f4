import type { KubeConfig } from '@kubernetes/client-node';
import type { FaultType } from '../experiments/model.js';
import type { ResolvedTargets } from '../cluster/types.js';
import type { TargetRef } from '../runs/types.js';
import type { Logger } from '../log.js';

export interface FaultContext {
  kc: KubeConfig;
  runId: string;
  experiment: string;
  params: Record<string, unknown>; // already validated against the fault type's params schema
  durationMs: number;
  targets: ResolvedTargets;
  injectorImage: string;
  log: Logger;
  /** The experiment's target namespace (http-fault finds its VirtualService there). */
  namespace?: string;
}

/**
 * What an injection left behind, enough to revert it with nothing else: it is written to the
 * active-fault ledger in Redis before the fault is applied, so a new controller can revert it.
 */
export interface Injection {
  runId: string;
  experiment: string;
  fault: FaultType;
  touched: TargetRef[];
  revertData: Record<string, unknown>; // JSON-serialisable
  expiresAt: string; // ISO: in-pod faults end on their own then
}

export interface FaultDriver {
  type: FaultType;
  /** Build the injection record (what will be touched and how to undo it) without changing anything. */
  prepare(ctx: FaultContext): Promise<Injection>;
  /** Apply the fault described by `injection`. */
  inject(ctx: FaultContext, injection: Injection): Promise<void>;
  /** Undo it. Must be idempotent and work from the ledger alone (after a crash). */
  revert(kc: KubeConfig, injection: Injection, log: Logger): Promise<void>;
}
