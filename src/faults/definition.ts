// What a fault is, apart from the code that does it: its params schema, what it acts on, what its
// injector needs, its locks, its blast-radius and disruption-budget rules, whether it is held or
// instant, and where its driver is. Pure data and small functions (no @kubernetes/client-node), so
// `faultline validate`, the JSON Schema and the docs load every fault cheaply; the driver (apply /
// recover per target) is imported only when a run needs it.
import type { PdbStatus } from '../cluster/types.js';
import type { BlastRadius } from '../runs/types.js';
import type { FaultDriver } from './types.js';

export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';
export const POD_SECURITY_LABEL = 'pod-security.kubernetes.io/enforce';

/** What an in-pod fault's injector (ephemeral container) gets, and so which namespaces admit it. */
export interface InjectorNeeds {
  /** Linux capabilities added after `drop: [ALL]`. */
  capabilities: string[];
  /** 0 where the kernel only honours the capabilities for root (no_new_privs ignores file caps). */
  runAsUser: number;
  /** The strictest Pod Security level (namespace label pod-security.kubernetes.io/enforce) that admits it. */
  podSecurity: PodSecurityLevel;
}

/** Injector user when no capability needs root (the image's non-root user). */
export const INJECTOR_NONROOT_UID = 65532;

export type ParamProblem = { pointer: string; message: string };

export interface FaultDefinition<T extends string = string> {
  type: T;
  /** One line for the schema, the docs and `plan`. */
  description: string;
  /** What happens and how it is undone, for the README's fault table (markdown). */
  docs: string;
  scope: 'pods' | 'workload' | 'node' | 'service';
  /** JSON Schema of `params`: bounded, no extra fields. The experiment schema embeds it. */
  paramsSchema: object;
  /** Rules the schema cannot say, with the reason (pointer relative to the params). */
  checkParams?(params: Record<string, unknown>): ParamProblem[];
  /** In-pod faults: the injector's privileges (and so the Pod Security level that admits it). */
  injector?: InjectorNeeds;
  /**
   * Over once applied (recovery is measured from injection, not from revert). `replacesPods`: the
   * chosen pods are deleted, so a workload counts as recovered only once they are gone.
   */
  instant?: { replacesPods: boolean };
  /**
   * Namespaces besides the target's whose pods the fault reaches (network-partition's peers: read,
   * never changed). The protected-namespace guard judges them as it judges the target namespace.
   */
  peerNamespaces?(params: Record<string, unknown>, targetNamespace: string): string[];
  /** Objects besides the target workloads that one run at a time may hold, as `Kind/name` in the target namespace. */
  lockKeys?(params: Record<string, unknown>): string[];
  /** What the fault really takes away per workload; absent: the chosen pods. */
  blastRadius?(params: Record<string, unknown>, chosen: BlastRadius[]): BlastRadius[];
  /**
   * How the fault counts against a PodDisruptionBudget: `exempt` (why no pod is disrupted), or the
   * pods it takes from one budget given the total effective hit; absent: the chosen pods in it.
   */
  disruption?: { exempt: string } | { hit(pdb: PdbStatus, effectiveTotal: number): number };
  /** The driver (apply/recover per target), loaded on first use. */
  driver(): Promise<FaultDriver>;
}

/** Declares a fault; `const T` keeps its type name a literal, so FaultType stays a union of names. */
export function defineFault<const T extends string>(d: FaultDefinition<T>): FaultDefinition<T> {
  return d;
}
