// Steady-state probes: http, prometheus, kubernetes. Adding a probe kind: one file and one
// branch in createProbe.
import type { ProbeSpec } from '../experiments/model.js';
import { checkHttp } from './http.js';
import { checkKubernetes } from './kubernetes.js';
import { checkPrometheus } from './prometheus.js';
import type { Probe, ProbeDeps } from './types.js';

export function createProbe(spec: ProbeSpec, deps: ProbeDeps = {}): Probe {
  const kinds = [spec.http, spec.prometheus, spec.kubernetes].filter(Boolean).length;
  if (kinds !== 1) throw new Error(`probe ${spec.name}: exactly one of http, prometheus, kubernetes is required`);
  if (spec.http) {
    const http = spec.http;
    return { name: spec.name, spec, check: (signal) => checkHttp(http, { fetch: deps.fetch, signal }) };
  }
  if (spec.prometheus) {
    const prom = spec.prometheus;
    return { name: spec.name, spec, check: (signal) => checkPrometheus(prom, { fetch: deps.fetch, signal, exposeResponses: deps.exposeResponses }) };
  }
  const k8s = spec.kubernetes!;
  const kc = deps.kc;
  if (!kc) throw new Error(`probe ${spec.name}: a kubernetes probe needs a KubeConfig`);
  return { name: spec.name, spec, check: () => checkKubernetes(k8s, kc) };
}

export { ProbeRunner, measureRecovery, sleep, type DuringHandle, type RecoveryOptions, type RecoveryResult } from './runner.js';
export { checkHttp } from './http.js';
export { checkPrometheus, queryPrometheus } from './prometheus.js';
export { checkKubernetes, readyReplicas } from './kubernetes.js';
export type { Probe, ProbeDeps, ProbeResult } from './types.js';
