// Small helpers over @kubernetes/client-node 2.x shared by the drivers.
import { createHash } from 'node:crypto';
import {
  AppsV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig,
} from '@kubernetes/client-node';

/** Annotation put on every object a run touches, so a human can see who changed it. */
export const RUN_ANNOTATION = 'faultline.dev/run-id';
/** Label with the same name (value: shortRunId, label-safe), so a label-selector list finds every active fault. */
export const RUN_LABEL = 'faultline.dev/run-id';
/** The whole Injection (revert data included) as JSON: the cluster holds the undo, Redis only an index. */
export const REVERT_ANNOTATION = 'faultline.dev/revert';

/** Metadata that marks an object as changed by a run: written in the same request as the change (or before it). */
export function faultMarks(injection: { runId: string }): { labels: Record<string, string>; annotations: Record<string, string> } {
  return {
    labels: { [RUN_LABEL]: shortRunId(injection.runId) },
    annotations: { [RUN_ANNOTATION]: injection.runId, [REVERT_ANNOTATION]: JSON.stringify(injection) },
  };
}

/** A merge patch's metadata that removes the marks again. */
export function clearedMarks(): { labels: Record<string, null>; annotations: Record<string, null> } {
  return { labels: { [RUN_LABEL]: null }, annotations: { [RUN_ANNOTATION]: null, [REVERT_ANNOTATION]: null } };
}

export const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
export const strategicPatch = () => setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

export function apis(kc: KubeConfig) {
  return { core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

/** The HTTP status of a client-node ApiException, or undefined. */
export function statusCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
export const isNotFound = (err: unknown) => statusCode(err) === 404;
export const isConflict = (err: unknown) => statusCode(err) === 409;

/** Retries fn on 409 Conflict (read-modify-write with resourceVersion). */
export async function retryOnConflict<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!isConflict(err) || i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 20 * i));
    }
  }
}

/** A short, DNS-label-safe id for a run (ephemeral container and iptables chain names). */
export function shortRunId(runId: string): string {
  return createHash('sha256').update(runId).digest('hex').slice(0, 10);
}
