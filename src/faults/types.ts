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
  /** How long injectors may take to start and confirm (controller config injector.startTimeout). */
  startTimeoutMs?: number;
  /** In-pod faults on hostNetwork pods (controller config injector.allowHostNetwork; default false). */
  allowHostNetwork?: boolean;
}

/** One target's answer to the handshake. */
export interface TargetOutcome {
  target: string; // namespace/name
  ok: boolean;
  message: string; // "applied", or the injector's own error
}

export interface ConfirmOptions {
  timeoutMs: number;
  signal?: AbortSignal;
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
  /**
   * Wait until the fault is verifiably in place on every target, or has failed there; at most
   * timeoutMs. Drivers whose inject() already proves the effect (API faults) leave it out.
   */
  confirm?(ctx: FaultContext, injection: Injection, opts: ConfirmOptions): Promise<TargetOutcome[]>;
  /** Undo it. Must be idempotent and work from the ledger alone (after a crash). */
  revert(kc: KubeConfig, injection: Injection, log: Logger): Promise<void>;
}
