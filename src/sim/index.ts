// In-memory Kubernetes API server for tests and the demo; @kubernetes/client-node and kubectl
// talk to it over HTTP through an ordinary kubeconfig. Never a default for a real run.
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { stringify } from 'yaml';
import { silentLogger } from '../log.js';
import { Controllers } from './controllers.js';
import { ExecServer, type ExecCall, type ExecHandler } from './exec.js';
import { handle } from './http.js';
import { InjectorSim } from './injector.js';
import { SimStore } from './store.js';
import { loadTopologyFile, seedTopology, SHOP_TOPOLOGY_PATH, type TopologyFile } from './topology.js';
import type { SimTopology } from './types.js';
import { WatchHub } from './watch.js';
import { watchCrds } from './crd.js';

export interface SimulatorOptions {
  /** A topology object or a YAML file path; default the "shop" topology. */
  topology?: SimTopology | TopologyFile | string;
  /** Delay before a ReplicaSet/StatefulSet replaces a missing pod (default 1000 ms). */
  recreateDelayMs?: number;
  /** Delay from a pod being bound to it being Ready (default 300 ms). */
  readyDelayMs?: number;
  port?: number;
  host?: string;
  /** Interval of BOOKMARK events on watches that allow them (default 10 s). */
  bookmarkIntervalMs?: number;
  /** Events kept for watch resumption; older resourceVersions get 410 Gone (default 10000). */
  eventWindow?: number;
  /** Serve HTTPS with this key pair (the kubeconfig skips TLS verification either way). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Decides the result of exec'd commands that the built-in behaviour does not cover. */
  execHandler?: ExecHandler;
  log?: Logger;
}

export interface Simulator {
  url: string;
  kubeConfig(): KubeConfig;
  kubeconfigYaml(): string;
  store: SimStore;
  /** Commands run through pods/exec, oldest first. */
  execLog: ExecCall[];
  /** Test hook: how Faultline injectors behave (fail, start late, never start, app ignores SIGTERM). */
  injectors: Pick<InjectorSim, 'behave'>;
  /** Test hook: requests whose path matches answer `code` (default 503) until called without a pattern. */
  failRequests(pattern?: RegExp, code?: number): void;
  /** Stops answering (listener closed, connections cut) with the store kept: the API server is down. */
  pause(): Promise<void>;
  /** Listens again on the same address; watches must relist (every watch gets 410 after a restart). */
  resume(): Promise<void>;
  close(): Promise<void>;
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const log = opts.log ?? silentLogger;
  const store = new SimStore({ eventWindow: opts.eventWindow });
  watchCrds(store); // a created CRD is served (before seeding: a topology may bring CRDs)
  const injectors = new InjectorSim();
  const controllers = new Controllers(store, { recreateDelayMs: opts.recreateDelayMs, readyDelayMs: opts.readyDelayMs, log, injectors });
  controllers.start();
  const topo = typeof opts.topology === 'string' ? loadTopologyFile(opts.topology) : (opts.topology ?? loadTopologyFile(SHOP_TOPOLOGY_PATH));
  seedTopology(store, controllers, topo);

  const hub = new WatchHub(store);
  const ctx: Parameters<typeof handle>[0] = { store, hub, bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 10_000 };
  const onRequest = (req: Parameters<typeof handle>[1], res: Parameters<typeof handle>[2]): void => {
    void handle(ctx, req, res);
  };
  const server: Server = opts.tls ? createHttpsServer(opts.tls, onRequest) : createHttpServer(onRequest);
  const exec = new ExecServer(store, opts.execHandler, injectors);
  server.on('upgrade', (req, socket, head) => exec.upgrade(req, socket, head));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `${opts.tls ? 'https' : 'http'}://${host}:${addr.port}`;
  log.info({ url }, 'kubernetes simulator listening');

  const kubeconfigObject = {
    apiVersion: 'v1', kind: 'Config', 'current-context': 'faultline-sim', preferences: {},
    // client-node 2.x refuses plain http unless TLS verification is skipped; the sim has no CA anyway.
    clusters: [{ name: 'faultline-sim', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'faultline-sim', user: { token: 'faultline-sim' } }],
    contexts: [{ name: 'faultline-sim', context: { cluster: 'faultline-sim', user: 'faultline-sim', namespace: 'default' } }],
  };

  return {
    url,
    store,
    execLog: exec.calls,
    injectors,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromString(JSON.stringify(kubeconfigObject));
      return kc;
    },
    kubeconfigYaml: () => stringify(kubeconfigObject),
    failRequests(pattern, code = 503) {
      ctx.failing = pattern ? { pattern, code } : undefined;
    },
    async pause() {
      hub.closeAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    async resume() {
      // A restarted API server serves no watch history from before: old resourceVersions get 410.
      store.compact();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(addr.port, addr.address, () => resolve());
      });
    },
    async close() {
      hub.closeAll();
      exec.close();
      controllers.stop();
      store.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

export { SimStore } from './store.js';
export type { ListOptions, DeleteOptions } from './store.js';
export { SHOP_TOPOLOGY_PATH, loadTopologyFile, workloadManifest } from './topology.js';
export type { TopologyFile, WorkloadSpec } from './topology.js';
export type { SimTopology, KObject } from './types.js';
export type { ExecCall, ExecHandler } from './exec.js';
export type { InjectorBehaviour, InjectorHook } from './injector.js';
export { isPodReady } from './controllers.js';
