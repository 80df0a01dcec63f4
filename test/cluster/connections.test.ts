import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnection, createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { loadKubeConfig } from '../../src/cluster/kubeconfig.js';
import { listClusterFaults } from '../../src/runs/cluster-faults.js';

// A TCP relay in front of the simulator that counts the connections clients open.
let sim: Simulator;
let relay: Server;
let connections = 0;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  sim = await startSimulator({});
  const target = new URL(sim.url);
  relay = createServer((client) => {
    connections++;
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
  const port = (relay.address() as { port: number }).port;
  dir = mkdtempSync(join(tmpdir(), 'fl-conn-'));
  kubeconfig = join(dir, 'kubeconfig.yaml');
  writeFileSync(kubeconfig, sim.kubeconfigYaml().replace(sim.url, `http://127.0.0.1:${port}`));
});
afterAll(async () => {
  relay.close();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('API connections', () => {
  it("the controller's kubeconfig reuses its connections: 48 requests over at most 16 connections (client-node alone opens one per request)", async () => {
    const kc = loadKubeConfig({ kubeconfig, env: {} });
    const core = kc.makeApiClient(CoreV1Api);
    connections = 0;
    for (let i = 0; i < 24; i++) await core.listNamespacedPod({ namespace: 'default' });
    expect(connections).toBeLessThanOrEqual(3); // one after another: the same connection
    // The revert loop's scan: six lists at once, four times.
    for (let i = 0; i < 4; i++) {
      expect((await listClusterFaults(kc)).injections).toEqual([]);
    }
    const reused = connections;
    expect(reused).toBeGreaterThan(0);
    // Six at once need up to six connections; 48 requests in all, a third of that at most.
    expect(reused).toBeLessThanOrEqual(16);

    // The same requests through a plain KubeConfig: one connection each (what the patch removes).
    const plain = new KubeConfig();
    plain.loadFromFile(kubeconfig);
    const plainCore = plain.makeApiClient(CoreV1Api);
    connections = 0;
    for (let i = 0; i < 24; i++) await plainCore.listNamespacedPod({ namespace: 'default' });
    expect(connections).toBeGreaterThanOrEqual(20);
  }, 60_000);

  it('a changed TLS option (as a rotated certificate would) gets its own pool; requests keep working', async () => {
    const kc = loadKubeConfig({ kubeconfig, env: {} });
    const core = kc.makeApiClient(CoreV1Api);
    await core.listNamespacedPod({ namespace: 'default' });
    const cluster = kc.getCurrentCluster()! as { tlsServerName?: string };
    for (const name of ['a.example', 'b.example', 'c.example', 'd.example', 'e.example', 'f.example']) {
      cluster.tlsServerName = name; // part of the agent options: a new pool each, the oldest closed
      expect((await core.listNamespacedPod({ namespace: 'default' })).items).toBeDefined();
    }
  }, 60_000);
});
