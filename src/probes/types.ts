import type { KubeConfig } from '@kubernetes/client-node';
import type { ProbeSpec } from '../experiments/model.js';

export interface ProbeResult {
  ok: boolean;
  error?: string;
  latencyMs: number;
}

/** One steady-state check. `check` never throws: a failure is a result. */
export interface Probe {
  name: string;
  spec: ProbeSpec;
  check(signal?: AbortSignal): Promise<ProbeResult>;
}

export interface ProbeDeps {
  kc?: KubeConfig; // needed by kubernetes probes
  fetch?: typeof fetch; // the controller passes its egress-guarded fetch; default global fetch
  /** Errors may quote what the far side answered (egress.exposeResponses); default false. */
  exposeResponses?: boolean;
}
