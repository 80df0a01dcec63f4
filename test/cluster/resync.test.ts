// The watch cache survives a lost connection: while the resolver cannot reach the API server the
// cluster changes more than the server's watch window keeps, so the resume gets 410 Gone and the
// cache must relist. A TCP proxy between client-node and the simulator plays the broken network.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetResolver } from '../../src/cluster/index.js';
import type { ClusterTargetResolver } from '../../src/cluster/types.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { waitFor } from '../helpers/wait.js';

class Proxy {
  private server: Server | undefined;
  private sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly target: number) {}
  async up(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
  }
  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

let sim: Simulator;
let proxy: Proxy;
let resolver: ClusterTargetResolver;
const logLines: { msg: string; resource?: string }[] = [];

beforeAll(async () => {
  sim = await startSimulator({ eventWindow: 20, recreateDelayMs: 50, readyDelayMs: 50 });
  proxy = new Proxy(Number(new URL(sim.url).port));
  await proxy.up();
  const kc = new KubeConfig();
  kc.loadFromString(sim.kubeconfigYaml().replace(sim.url, `http://127.0.0.1:${proxy.port}`));
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as { msg: string; resource?: string });
      done();
    },
  });
  resolver = createTargetResolver(kc, { log: pino({ level: 'debug' }, sink), retryDelayMs: 50 });
  await resolver.ready();
});
afterAll(async () => {
  resolver?.close();
  await proxy?.down();
  await sim?.close();
});

describe('watch cache after a lost connection', () => {
  it('relists on 410 Gone and matches the cluster again', async () => {
    const direct = sim.kubeConfig().makeApiClient(CoreV1Api);
    const target = { namespace: 'shop', selector: { matchLabels: { app: 'frontend' } }, mode: { type: 'all' as const } };
    const before = resolver.resolve(target, 1).pods.map((p) => p.name).sort();
    expect(before).toHaveLength(3);
    const podLists = () => logLines.filter((l) => l.resource === 'pods' && l.msg.startsWith('listing')).length;
    expect(podLists()).toBe(1);

    await proxy.down();
    // far more than 20 events happen while the resolver is cut off
    for (const name of before) await direct.deleteNamespacedPod({ name, namespace: 'shop', gracePeriodSeconds: 0 });
    const replaced = await waitFor('3 new Ready frontend pods', async () => {
      const l = await direct.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=frontend' });
      const ready = l.items.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !p.metadata?.deletionTimestamp);
      return ready.length === 3 && ready.map((p) => p.metadata!.name!).sort();
    });
    expect(replaced.some((n) => before.includes(n))).toBe(false);
    expect(resolver.resolve(target, 1).pods.map((p) => p.name).sort()).toEqual(before); // still the stale view

    await proxy.up();
    await waitFor('the cache to match the cluster', () => {
      const names = resolver.resolve(target, 1).pods.map((p) => p.name).sort();
      return names.join() === replaced.join();
    });
    expect(podLists()).toBeGreaterThanOrEqual(2); // the resume point was gone: a fresh LIST
    expect(logLines.some((l) => l.msg === 'watch failed; restarting')).toBe(true);
  });
});

describe('watch cache after the API server restarts', () => {
  it('the old resourceVersion is gone (410) after the restart: the resolver logs the watch error, relists and sees what changed meanwhile', async () => {
    // Straight to the simulator (no proxy): a stopped API server refuses connections.
    const lines: { msg: string; resource?: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { msg: string; resource?: string });
        done();
      },
    });
    const direct = createTargetResolver(sim.kubeConfig(), { log: pino({ level: 'debug' }, sink), retryDelayMs: 50 });
    try {
      await direct.ready();
      const target = { namespace: 'shop', selector: { matchLabels: { app: 'cart' } }, mode: { type: 'all' as const } };
      await waitFor('cart in the cache', () => direct.resolve(target, 1).pods.length === 3);
      const lists = () => lines.filter((l) => l.resource === 'pods' && l.msg.startsWith('listing')).length;
      const failures = () => lines.filter((l) => l.msg === 'watch failed; restarting').length;
      const listsBefore = lists();
      await sim.pause();
      // Changed while the API server is away (written to its storage directly: no watch saw it).
      const victim = sim.store.list('pods', { namespace: 'shop' }).find((p) => p.metadata.labels?.app === 'cart')!;
      sim.store.mutate('pods', 'shop', victim.metadata.name, (p) => { p.metadata.labels = { ...p.metadata.labels, app: 'cart-moved' }; });
      // While it is down, the resolver's reconnects fail, and say so in the log.
      await waitFor('a logged watch failure while the API server is down', () => failures() > 0);
      await sim.resume(); // no history from before the restart: a resume from the old resourceVersion gets 410
      await waitFor('the cache to drop the relabelled pod', () => direct.resolve(target, 1).pods.every((p) => p.name !== victim.metadata.name) && direct.resolve(target, 1).pods.length === 2);
      expect(lists()).toBeGreaterThan(listsBefore);
      console.log(`[figure] API server restart: resolver relisted pods ${lists() - listsBefore} time(s) after ${failures()} logged watch failure(s)`);
    } finally {
      direct.close();
    }
  });
});
