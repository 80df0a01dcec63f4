// node-cordon: cordons the nodes running the chosen pods. Nodes that were already
// unschedulable are recorded and left alone; revert uncordons only the nodes this run cordoned.
// The cordon, the run label and the revert data go in one patch ("cordoned by run X").
import type { TargetRef } from '../../runs/types.js';
import { apis, clearedMarks, faultMarks, isNotFound, mergePatch, RUN_ANNOTATION } from '../k8s.js';
import { perTarget } from '../per-target.js';
import type { FaultDriver } from '../types.js';

interface CordonData extends Record<string, unknown> { nodes: { name: string; wasUnschedulable: boolean }[] }

export const nodeCordon: FaultDriver = perTarget<CordonData['nodes'][number]>({
  type: 'node-cordon',
  targets: (injection) => (injection.revertData as CordonData).nodes,
  describe: (n) => `Node/${n.name}`,
  async prepare(ctx) {
    const { core } = apis(ctx.kc);
    const names = [...new Set(ctx.targets.pods.map((p) => p.nodeName).filter((n): n is string => !!n))].sort();
    if (!names.length) throw new Error('node-cordon: none of the chosen pods is bound to a node');
    const nodes: CordonData['nodes'] = [];
    for (const name of names) {
      const node = await core.readNode({ name });
      nodes.push({ name, wasUnschedulable: node.spec?.unschedulable === true });
    }
    const touched: TargetRef[] = nodes.filter((n) => !n.wasUnschedulable).map((n) => ({ kind: 'Node', name: n.name }));
    return { runId: ctx.runId, experiment: ctx.experiment, fault: 'node-cordon', touched, revertData: { nodes } satisfies CordonData, expiresAt: new Date(Date.now() + ctx.durationMs).toISOString() };
  },
  async apply(ctx, injection, n) {
    if (n.wasUnschedulable) {
      ctx.log.info({ node: n.name }, 'node already cordoned; left alone');
      return;
    }
    await apis(ctx.kc).core.patchNode({ name: n.name, body: { spec: { unschedulable: true }, metadata: faultMarks(injection) } }, mergePatch());
    ctx.log.info({ node: n.name }, 'node cordoned');
  },
  async recover(kc, injection, n, log) {
    if (n.wasUnschedulable) return;
    const { core } = apis(kc);
    try {
      const node = await core.readNode({ name: n.name });
      const owner = node.metadata?.annotations?.[RUN_ANNOTATION];
      // The cordon and the annotation were written in one patch: no annotation of ours, no cordon of ours.
      if (owner !== injection.runId) {
        log.warn({ node: n.name, owner }, 'node not cordoned by this run (never injected, or taken over); left alone');
        return;
      }
      await core.patchNode({ name: n.name, body: { spec: { unschedulable: null }, metadata: clearedMarks() } }, mergePatch());
      log.info({ node: n.name }, 'node uncordoned');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  },
});
