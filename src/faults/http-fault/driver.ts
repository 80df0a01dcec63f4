// http-fault: Istio VirtualService abort/delay. The original spec.http is recorded before the
// change; the fault and the run annotation are written in one replace guarded by
// resourceVersion, and revert puts the original http routes back the same way (retry on 409).
import type { KubeConfig } from '@kubernetes/client-node';
import { apis, faultMarks, isNotFound, retryOnConflict, REVERT_ANNOTATION, RUN_ANNOTATION, RUN_LABEL } from '../k8s.js';
import { durationMsParam, FaultParamError, intParam, numberParam } from '../params.js';
import { perTarget } from '../per-target.js';
import type { FaultContext, FaultDriver } from '../types.js';

const VS = { group: 'networking.istio.io', version: 'v1beta1', plural: 'virtualservices' } as const;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

interface VirtualService {
  metadata: { name: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: { http?: Record<string, unknown>[]; [k: string]: unknown };
  [k: string]: unknown;
}
interface HttpFaultData extends Record<string, unknown> { namespace: string; name: string; originalHttp: Record<string, unknown>[] | null }

/** The Istio `fault` block from validated params. */
export function istioFault(params: Record<string, unknown>): Record<string, unknown> {
  const fault: Record<string, unknown> = {};
  const abort = params.abort as Record<string, unknown> | undefined;
  const delay = params.delay as Record<string, unknown> | undefined;
  if (abort !== undefined) {
    if (typeof abort !== 'object' || abort === null) throw new FaultParamError('abort', 'expected an object');
    fault.abort = { httpStatus: Number(intParam(abort, 'httpStatus', 200, 599)), percentage: { value: Number(numberParam(abort, 'percent', 0, 100)) } };
  }
  if (delay !== undefined) {
    if (typeof delay !== 'object' || delay === null) throw new FaultParamError('delay', 'expected an object');
    const ms = Number(durationMsParam(delay, 'fixedDelay', 1, 60_000));
    // protobuf Duration JSON form: seconds with an "s" suffix
    fault.delay = { fixedDelay: `${ms / 1000}s`, percentage: { value: Number(numberParam(delay, 'percent', 0, 100)) } };
  }
  if (!fault.abort && !fault.delay) throw new FaultParamError('abort/delay', 'at least one of abort or delay is required');
  return fault;
}

function vsName(params: Record<string, unknown>): string {
  const v = params.virtualService;
  if (typeof v !== 'string' || v.length > 253 || !DNS_SUBDOMAIN.test(v)) throw new FaultParamError('virtualService', 'expected a VirtualService name');
  return v;
}

function namespaceOf(ctx: FaultContext): string {
  const ns = ctx.namespace ?? ctx.targets.pods[0]?.namespace;
  if (!ns) throw new Error('http-fault: no target namespace');
  return ns;
}

async function getVs(kc: KubeConfig, namespace: string, name: string): Promise<VirtualService> {
  return (await apis(kc).custom.getNamespacedCustomObject({ ...VS, namespace, name })) as VirtualService;
}

async function replaceVs(kc: KubeConfig, vs: VirtualService): Promise<void> {
  await apis(kc).custom.replaceNamespacedCustomObject({ ...VS, namespace: vs.metadata.namespace!, name: vs.metadata.name, body: vs });
}

// One target: the VirtualService.
export const httpFault: FaultDriver = perTarget<HttpFaultData>({
  type: 'http-fault',
  targets: (injection) => [injection.revertData as HttpFaultData],
  describe: (d) => `VirtualService ${d.namespace}/${d.name}`,
  async prepare(ctx) {
    istioFault(ctx.params);
    const name = vsName(ctx.params);
    const namespace = namespaceOf(ctx);
    const vs = await getVs(ctx.kc, namespace, name);
    const owner = vs.metadata.annotations?.[RUN_ANNOTATION];
    if (owner) throw new Error(`VirtualService ${namespace}/${name} already carries a fault of run ${owner}`);
    if (!vs.spec.http?.length) throw new Error(`VirtualService ${namespace}/${name} has no http routes`);
    const revertData: HttpFaultData = { namespace, name, originalHttp: structuredClone(vs.spec.http) };
    return {
      runId: ctx.runId, experiment: ctx.experiment, fault: 'http-fault',
      touched: [{ kind: 'VirtualService', namespace, name }], revertData,
      expiresAt: new Date(Date.now() + ctx.durationMs).toISOString(),
    };
  },
  async apply(ctx, injection, data) {
    const fault = istioFault(ctx.params);
    await retryOnConflict(async () => {
      const vs = await getVs(ctx.kc, data.namespace, data.name);
      const owner = vs.metadata.annotations?.[RUN_ANNOTATION];
      if (owner && owner !== ctx.runId) throw new Error(`VirtualService ${data.namespace}/${data.name} taken by run ${owner}`);
      // Patch the routes recorded in the ledger, so revert restores exactly what we changed.
      vs.spec.http = (data.originalHttp ?? []).map((route) => ({ ...route, fault }));
      // The original routes travel with the object (REVERT_ANNOTATION), not only in Redis.
      const marks = faultMarks(injection);
      vs.metadata.annotations = { ...(vs.metadata.annotations ?? {}), ...marks.annotations };
      vs.metadata.labels = { ...(vs.metadata.labels ?? {}), ...marks.labels };
      await replaceVs(ctx.kc, vs);
    });
    ctx.log.info({ virtualService: `${data.namespace}/${data.name}`, fault }, 'http fault added to VirtualService routes');
  },
  async recover(kc, injection, data, log) {
    await retryOnConflict(async () => {
      let vs: VirtualService;
      try {
        vs = await getVs(kc, data.namespace, data.name);
      } catch (err) {
        if (isNotFound(err)) {
          log.warn({ virtualService: `${data.namespace}/${data.name}` }, 'VirtualService gone; nothing to restore');
          return;
        }
        throw err;
      }
      if (vs.metadata.annotations?.[RUN_ANNOTATION] !== injection.runId) {
        log.info({ virtualService: `${data.namespace}/${data.name}` }, 'VirtualService carries no fault of this run; nothing to restore');
        return;
      }
      if (data.originalHttp) vs.spec.http = data.originalHttp;
      else delete vs.spec.http;
      const annotations = { ...(vs.metadata.annotations ?? {}) };
      delete annotations[RUN_ANNOTATION];
      delete annotations[REVERT_ANNOTATION];
      vs.metadata.annotations = annotations;
      if (vs.metadata.labels) {
        const labels = { ...vs.metadata.labels };
        delete labels[RUN_LABEL];
        vs.metadata.labels = labels;
      }
      await replaceVs(kc, vs); // carries resourceVersion: a concurrent change gives 409 and we retry
      log.info({ virtualService: `${data.namespace}/${data.name}` }, 'VirtualService http routes restored');
    });
  },
});
