// network-partition with peers given as pods: the selector is resolved to the pods' IPs when the
// run prepares (against the simulator, whose pods have IPs as on a cluster), the IPs are in the
// ledger record and the injector's argv, and revert works from that record alone after the peers
// have changed. Peers in a protected namespace refuse the run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { createTargetResolver } from '../../src/cluster/index.js';
import type { ClusterTargetResolver } from '../../src/cluster/types.js';
import { FAULT_DRIVERS, shortRunId } from '../../src/faults/index.js';
import type { FaultContext, Injection } from '../../src/faults/types.js';
import type { Target } from '../../src/experiments/model.js';
import { silentLogger } from '../../src/log.js';
import { evaluateGuards } from '../../src/safety/guards.js';
import { loadText } from '../experiments/helpers.js';
import { experiment, input } from '../safety/guard-fixtures.js';
import { waitFor } from '../helpers/wait.js';

let sim: Simulator;
let kc: KubeConfig;
let resolver: ClusterTargetResolver;
let core: CoreV1Api;

beforeAll(async () => {
  sim = await startSimulator({ readyDelayMs: 20, recreateDelayMs: 100 });
  kc = sim.kubeConfig();
  resolver = createTargetResolver(kc);
  await resolver.ready();
  core = kc.makeApiClient(CoreV1Api);
});
afterAll(async () => {
  resolver?.close();
  await sim?.close();
});

const catalog: Target = { namespace: 'shop', selector: { matchLabels: { app: 'catalog' } }, mode: { type: 'all' } };
let n = 0;
function ctx(params: Record<string, unknown>): FaultContext {
  return {
    kc, runId: `peers.${String(++n).padStart(16, '0')}.once`, experiment: 'cut-catalog', params, durationMs: 2000,
    targets: resolver.resolve(catalog, 7), injectorImage: 'ghcr.io/faultline/agent:test', log: silentLogger, namespace: 'shop',
  };
}
const livePeers = async (selector: string) =>
  (await core.listNamespacedPod({ namespace: 'shop', labelSelector: selector })).items
    .filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp)
    .map((p) => ({ name: p.metadata!.name!, ip: p.status!.podIP! }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));

describe('network-partition peers', () => {
  it('resolves the peer selector to the running pods\' IPs: in the ledger record, the argv and the timeline note', async () => {
    const driver = FAULT_DRIVERS['network-partition'];
    const c = ctx({ direction: 'egress', peers: { selector: { matchLabels: { app: 'checkout' } } }, cidrs: ['192.0.2.0/24'] });
    const peers = await livePeers('app=checkout');
    expect(peers.length).toBeGreaterThan(1);
    const inj = await driver.prepare(c);
    const data = inj.revertData as { args: string[]; resolved: { peers: { namespace: string; selector: string; pods: { name: string; ips: string[] }[] } } };
    expect(data.resolved.peers).toEqual({ namespace: 'shop', selector: 'app=checkout', pods: peers.map((p) => ({ name: p.name, ips: [p.ip] })) });
    // NOT_AFTER, DURATION, iface, direction, ports, chain suffix, the given CIDRs, then the peers
    expect(data.args.slice(1)).toEqual(['2', 'eth0', 'egress', '-', shortRunId(c.runId), '192.0.2.0/24', ...peers.map((p) => `${p.ip}/32`)]);
    expect(inj.note).toBe(`peers shop/app=checkout resolved to ${peers.map((p) => `${p.name} ${p.ip}`).join(', ')}`);

    await driver.inject(c, inj);
    for (const p of c.targets.pods) {
      const pod = await core.readNamespacedPod({ namespace: 'shop', name: p.name });
      const ec = pod.spec?.ephemeralContainers?.find((e) => e.name === `faultline-${shortRunId(c.runId)}`);
      expect(ec?.command?.slice(-peers.length)).toEqual(peers.map((x) => `${x.ip}/32`));
    }
    expect((await driver.confirm!(c, inj, { timeoutMs: 10_000 })).every((o) => o.ok)).toBe(true);

    // A peer is replaced (new IP) while the fault holds: revert works from the ledger's record
    // (a JSON copy, as a new controller reads it) and never re-resolves.
    await core.deleteNamespacedPod({ namespace: 'shop', name: peers[0]!.name, gracePeriodSeconds: 0 });
    await waitFor('checkout replaced', async () => (await livePeers('app=checkout')).length === peers.length && !(await livePeers('app=checkout')).some((p) => p.name === peers[0]!.name));
    const fromLedger = JSON.parse(JSON.stringify(inj)) as Injection;
    await driver.revert(kc, fromLedger, silentLogger);
    expect((fromLedger.revertData as { args: string[] }).args).toEqual(data.args);
    for (const p of c.targets.pods) {
      const pod = await core.readNamespacedPod({ namespace: 'shop', name: p.name });
      const st = pod.status?.ephemeralContainerStatuses?.find((e) => e.name === `faultline-${shortRunId(c.runId)}`);
      await waitFor(`injector of ${p.name} ended`, async () => {
        const now = await core.readNamespacedPod({ namespace: 'shop', name: p.name });
        return !!now.status?.ephemeralContainerStatuses?.find((e) => e.name === st?.name)?.state?.terminated;
      });
    }
  });

  it('a peer mode picks among the matching pods with the run\'s seed, and says so', async () => {
    const params = { peers: { selector: { matchLabels: { app: 'checkout' } }, mode: { type: 'one' } } };
    const peers = await livePeers('app=checkout');
    const a = (await FAULT_DRIVERS['network-partition'].prepare(ctx(params))).revertData as { resolved: { peers: { pods: { name: string }[]; of: number } } };
    const b = (await FAULT_DRIVERS['network-partition'].prepare(ctx(params))).revertData as typeof a;
    expect(a.resolved.peers.pods).toHaveLength(1);
    expect(a.resolved.peers.of).toBe(peers.length);
    expect(b.resolved.peers.pods).toEqual(a.resolved.peers.pods); // same seed, same choice
    const inj = await FAULT_DRIVERS['network-partition'].prepare(ctx(params));
    expect(inj.note).toMatch(new RegExp(`^peers shop/app=checkout \\(mode one: 1 of ${peers.length}\\) resolved to checkout-`));
  });

  it('refuses a selector that picks no running pod, before anything is recorded', async () => {
    const c = ctx({ peers: { namespace: 'shop', selector: { matchLabels: { app: 'no-such-app' } } } });
    await expect(FAULT_DRIVERS['network-partition'].prepare(c)).rejects.toThrow('peers shop/app=no-such-app picks no running pod with an IP: nothing to cut the targets off from');
  });

  it('validates: peers or cidrs is required, and the selector is a label selector', () => {
    const doc = (params: string) => `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata:
  name: cut
spec:
  fault:
    type: network-partition
    params: ${params}
  target:
    namespace: shop
    selector: { matchLabels: { app: catalog } }
    mode: { type: all }
  duration: 30s
`;
    expect(loadText(doc('{ peers: { namespace: data, selector: { matchLabels: { app: db } } } }')).problems).toEqual([]);
    expect(loadText(doc('{}')).problems.map((p) => `${p.line}: ${p.message}`)).toEqual(['8: spec.fault.params: network-partition needs cidrs, peers, or both (what to cut the pods off from)']);
    expect(loadText(doc('{ peers: { selector: { matchLabels: { app: db } }, pods: [db-0] } }')).problems.map((p) => p.message)).toEqual([
      'spec.fault.params.peers.pods: unknown field "pods" (allowed: namespace, selector, mode)',
    ]);
    expect(loadText(doc('{ peers: { selector: {}, mode: { type: fixed } } }')).problems.map((p) => p.message)).toEqual(['spec.fault.params.peers.mode: mode fixed needs a value']);
  });

  it('a peer namespace that is protected refuses the run at the protected-namespace guard', () => {
    const partition = (peers: object) => experiment({ fault: { type: 'network-partition', params: { direction: 'both', peers } } });
    const verdict = (peers: object) => evaluateGuards(input({ experiment: partition(peers) })).find((v) => v.guard === 'protected-namespace');
    expect(verdict({ namespace: 'kube-system', selector: { matchLabels: { 'k8s-app': 'kube-dns' } } })).toEqual({
      guard: 'protected-namespace', ok: false,
      reason: 'peer namespace kube-system is protected (protected: kube-system, kube-public, kube-node-lease, faultline): a fault aimed at its pods is refused as one in it is',
    });
    expect(verdict({ namespace: 'data', selector: {} })).toEqual({ guard: 'protected-namespace', ok: true, reason: 'namespace shop and peer namespace data are not protected' });
    expect(verdict({ selector: {} })).toEqual({ guard: 'protected-namespace', ok: true, reason: 'namespace shop is not protected' });
  });
});
