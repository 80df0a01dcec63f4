// pod-failure: the pods stay, but every container (and init container) runs a pause image until
// revert puts the original images back, as Chaos Mesh's pod-failure does. The originals are
// recorded in the ledger and on the pod (annotation, with the run label and the revert data that
// runs/cluster-faults.ts lists), so a controller with an empty Redis can still revert; the uid precondition makes sure a successor with the same name is never touched.
import { PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { TargetRef } from '../../runs/types.js';
import { apis, faultMarks, isNotFound, REVERT_ANNOTATION, RUN_ANNOTATION, RUN_LABEL, statusCode } from '../k8s.js';
import { perTarget } from '../per-target.js';
import type { FaultDriver, Injection, TargetOutcome } from '../types.js';
import type { Logger } from '../../log.js';

/** A pause image: sleeps, serves nothing. Fixed here: an experiment file never chooses an image. */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.9';
export const IMAGES_ANNOTATION = 'faultline.dev/pod-failure-images';

interface Images { containers: Record<string, string>; initContainers: Record<string, string> }
interface PodFailureData extends Record<string, unknown> {
  pauseImage: string;
  pods: ({ namespace: string; name: string; uid: string } & Images)[];
}

const jsonPatch = () => setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const escape = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

type FailedPod = PodFailureData['pods'][number];

export const podFailure: FaultDriver = perTarget<FailedPod>({
  type: 'pod-failure',
  targets: (injection) => (injection.revertData as PodFailureData).pods,
  describe: (p) => `${p.namespace}/${p.name}`,
  async prepare(ctx) {
    const { core } = apis(ctx.kc);
    const pods: PodFailureData['pods'] = [];
    for (const t of ctx.targets.pods) {
      const pod = await core.readNamespacedPod({ namespace: t.namespace, name: t.name });
      if (pod.metadata?.uid !== t.uid) throw new Error(`pod-failure: ${t.namespace}/${t.name} was replaced since it was chosen`);
      if (pod.metadata?.annotations?.[IMAGES_ANNOTATION]) throw new Error(`pod-failure: ${t.namespace}/${t.name} already has its images replaced by another run`);
      const images = (list: { name: string; image?: string }[] | undefined) => Object.fromEntries((list ?? []).map((c) => [c.name, c.image ?? '']));
      pods.push({ namespace: t.namespace, name: t.name, uid: t.uid, containers: images(pod.spec?.containers), initContainers: images(pod.spec?.initContainers) });
    }
    const touched: TargetRef[] = ctx.targets.pods.map((p) => ({
      kind: 'Pod', namespace: p.namespace, name: p.name, ...(p.owner ? { owner: `${p.owner.kind}/${p.owner.name}` } : {}),
    }));
    const revertData: PodFailureData = { pauseImage: PAUSE_IMAGE, pods };
    return { runId: ctx.runId, experiment: ctx.experiment, fault: 'pod-failure', touched, revertData, expiresAt: new Date(Date.now() + ctx.durationMs).toISOString() };
  },
  async apply(ctx, injection, p) {
    const { core } = apis(ctx.kc);
    const data = injection.revertData as PodFailureData;
    const pod = await core.readNamespacedPod({ namespace: p.namespace, name: p.name });
    const marks = faultMarks(injection);
    // The originals go on the pod in the same patch that swaps the images (uid-guarded).
    const originals: Images = {
      containers: Object.fromEntries((pod.spec?.containers ?? []).map((c) => [c.name, c.image ?? ''])),
      initContainers: Object.fromEntries((pod.spec?.initContainers ?? []).map((c) => [c.name, c.image ?? ''])),
    };
    const ops: object[] = [
      { op: 'test', path: '/metadata/uid', value: p.uid },
      ...(pod.metadata?.annotations ? [] : [{ op: 'add', path: '/metadata/annotations', value: {} }]),
      ...(pod.spec?.containers ?? []).map((_c, i) => ({ op: 'replace', path: `/spec/containers/${i}/image`, value: data.pauseImage })),
      ...(pod.spec?.initContainers ?? []).map((_c, i) => ({ op: 'replace', path: `/spec/initContainers/${i}/image`, value: data.pauseImage })),
      ...(pod.metadata?.labels ? [] : [{ op: 'add', path: '/metadata/labels', value: {} }]),
      { op: 'add', path: `/metadata/annotations/${escape(IMAGES_ANNOTATION)}`, value: JSON.stringify(originals) },
      // The run label and revert data: a controller that lost Redis lists and reverts it.
      ...Object.entries(marks.labels).map(([k, v]) => ({ op: 'add', path: `/metadata/labels/${escape(k)}`, value: v })),
      ...Object.entries(marks.annotations).map(([k, v]) => ({ op: 'add', path: `/metadata/annotations/${escape(k)}`, value: v })),
    ];
    await core.patchNamespacedPod({ namespace: p.namespace, name: p.name, body: ops }, jsonPatch());
    ctx.log.info({ pod: `${p.namespace}/${p.name}`, image: data.pauseImage }, 'pod-failure: containers set to the pause image');
  },
  /** In place once the kubelet runs the pause image in every container of every pod. */
  async confirm(ctx, injection, opts): Promise<TargetOutcome[]> {
    const { core } = apis(ctx.kc);
    const data = injection.revertData as PodFailureData;
    const deadline = Date.now() + opts.timeoutMs;
    const out = new Map<string, TargetOutcome>();
    for (;;) {
      for (const p of data.pods) {
        const key = `${p.namespace}/${p.name}`;
        if (out.get(key)?.ok) continue;
        try {
          const pod = await core.readNamespacedPod({ namespace: p.namespace, name: p.name });
          if (pod.metadata?.uid !== p.uid) out.set(key, { target: key, ok: false, message: 'pod replaced before the pause image ran' });
          else {
            const running = (pod.status?.containerStatuses ?? []).filter((s) => s.image === data.pauseImage && s.state?.running).length;
            const want = Object.keys(p.containers).length;
            out.set(key, running === want ? { target: key, ok: true, message: 'applied' } : { target: key, ok: false, message: `${running} of ${want} containers run the pause image` });
          }
        } catch (err) {
          out.set(key, { target: key, ok: false, message: isNotFound(err) ? 'pod gone' : String((err as Error).message) });
        }
      }
      const all = [...out.values()];
      if (all.every((o) => o.ok) || Date.now() >= deadline || opts.signal?.aborted) return all;
      await new Promise((r) => setTimeout(r, 200));
    }
  },
  recover: restoreImages,
});

async function restoreImages(kc: KubeConfig, injection: Injection, p: FailedPod, log: Logger): Promise<void> {
  const { core } = apis(kc);
  const at = `${p.namespace}/${p.name}`;
  try {
    const pod = await core.readNamespacedPod({ namespace: p.namespace, name: p.name });
    const images = pod.metadata?.annotations?.[IMAGES_ANNOTATION];
    // Ours only: same pod, and the images annotation written by this run (inject writes both in one patch).
    if (pod.metadata?.uid !== p.uid || pod.metadata?.annotations?.[RUN_ANNOTATION] !== injection.runId || !images) {
      log.warn({ pod: at }, 'pod-failure: pod not changed by this run (never injected, replaced, or already reverted); left alone');
      return;
    }
    // The pod's own record (written with the swap) is exact; the ledger's is the fallback.
    let orig: Images = p;
    try {
      orig = JSON.parse(images) as Images;
    } catch {
      log.warn({ pod: at }, 'pod-failure: unreadable images annotation; restoring from the ledger');
    }
    const names = (pod.spec?.containers ?? []).map((c) => c.name);
    const initNames = (pod.spec?.initContainers ?? []).map((c) => c.name);
    const ops: object[] = [
      { op: 'test', path: '/metadata/uid', value: p.uid },
      ...names.map((n, i) => [n, i] as const).filter(([n]) => orig.containers?.[n] !== undefined).map(([n, i]) => ({ op: 'replace', path: `/spec/containers/${i}/image`, value: orig.containers[n] })),
      ...initNames.map((n, i) => [n, i] as const).filter(([n]) => orig.initContainers?.[n] !== undefined).map(([n, i]) => ({ op: 'replace', path: `/spec/initContainers/${i}/image`, value: orig.initContainers[n] })),
      { op: 'remove', path: `/metadata/annotations/${escape(IMAGES_ANNOTATION)}` },
      { op: 'remove', path: `/metadata/annotations/${escape(RUN_ANNOTATION)}` },
      // Present on pods marked since the run label was added (removing an absent key would fail).
      ...(pod.metadata?.annotations?.[REVERT_ANNOTATION] !== undefined ? [{ op: 'remove', path: `/metadata/annotations/${escape(REVERT_ANNOTATION)}` }] : []),
      ...(pod.metadata?.labels?.[RUN_LABEL] !== undefined ? [{ op: 'remove', path: `/metadata/labels/${escape(RUN_LABEL)}` }] : []),
    ];
    await core.patchNamespacedPod({ namespace: p.namespace, name: p.name, body: ops }, jsonPatch());
    log.info({ pod: at }, 'pod-failure: original images restored');
  } catch (err) {
    if (!(isNotFound(err) || statusCode(err) === 422)) throw err;
    log.warn({ pod: at }, 'pod-failure: pod gone or replaced; nothing to restore');
  }
}
