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
  /** The registered cluster it was injected in; absent: the local one. The revert goes there. */
  cluster?: string;
  /** What the driver read from the cluster to build it (partition peers' IPs), for the run's timeline. */
  note?: string;
}

/** What the executor and the revert loop call; each fault writes a TargetDriver and perTarget() makes this. */
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

/**
 * A fault's driver as one object per target (Chaos Mesh's ChaosImpl: Apply/Recover per record).
 * `perTarget` owns the loop: it checks every target before any is touched, applies them in order
 * (the first error ends the injection; the executor then reverts everything recorded), and
 * recovers every target even when some fail, reporting each failure with its target.
 */
export interface TargetDriver<R> {
  type: FaultType;
  /** Build the injection record (targets and how to undo each) without changing anything. */
  prepare(ctx: FaultContext): Promise<Injection>;
  /** The injection's targets, from its revert data (the same objects: check/apply may note facts on them). */
  targets(injection: Injection): R[];
  /** A target's name in messages (namespace/name, Kind/name). */
  describe(target: R): string;
  /** Refuse before anything changes (one refused target refuses the whole run). */
  check?(ctx: FaultContext, injection: Injection, target: R): Promise<void>;
  apply(ctx: FaultContext, injection: Injection, target: R): Promise<void>;
  confirm?(ctx: FaultContext, injection: Injection, opts: ConfirmOptions): Promise<TargetOutcome[]>;
  /** Undo one target. Idempotent, from the ledger alone; absent: nothing to undo (said once in the log). */
  recover?(kc: KubeConfig, injection: Injection, target: R, log: Logger): Promise<void>;
  /** Why there is nothing to undo, when `recover` is absent. */
  nothingToRecover?: string;
}
