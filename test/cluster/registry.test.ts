// Cluster Secrets (Argo CD shape) → clusters: what a Secret must hold and the error naming the
// Secret and field otherwise; the registry against the simulator (both labels, one Secret seen
// once, a label removed, a Secret deleted, a bad Secret ignored); per-cluster safety config.
import { CoreV1Api, VersionApi, type V1Secret } from '@kubernetes/client-node';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterRegistry, clusterFromSecret, type RegisteredCluster } from '../../src/cluster/registry.js';
import { clusterSafety } from '../../src/controller/clusters.js';
import { loadConfig } from '../../src/config/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const secret = (data: Record<string, string>, name = 'c'): V1Secret => ({
  metadata: { name, namespace: 'faultline', uid: `uid-${name}` },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
});

describe('clusterFromSecret', () => {
  it('a token and TLS options become the cluster\'s own kubeconfig', () => {
    const r = clusterFromSecret(secret({ name: 'east', server: 'https://east.example:6443', config: JSON.stringify({ bearerToken: 'tok', tlsClientConfig: { insecure: false, caData: b64('CA'), serverName: 'api.east' } }) }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.cluster.name).toBe('east');
    expect(r.cluster.kc.getCurrentCluster()).toMatchObject({ server: 'https://east.example:6443', skipTLSVerify: false, caData: b64('CA'), tlsServerName: 'api.east' });
    expect(r.cluster.kc.getCurrentUser()).toMatchObject({ token: 'tok' });
  });

  it('every bad field is named with its Secret', () => {
    const err = (data: Record<string, string>) => {
      const r = clusterFromSecret(secret(data, 'bad'));
      return r.ok ? 'ok' : r.error;
    };
    expect(err({ server: 'https://x' })).toBe('Secret faultline/bad: data.name is missing');
    expect(err({ name: 'East_1', server: 'https://x' })).toMatch(/^Secret faultline\/bad: data.name "East_1" is not a DNS-1123 subdomain/);
    expect(err({ name: 'in-cluster', server: 'https://x' })).toBe('Secret faultline/bad: data.name "in-cluster" is the controller\'s own cluster and cannot be registered');
    expect(err({ name: 'e', server: 'east:6443' })).toBe('Secret faultline/bad: data.server must be the API server\'s http(s) URL');
    expect(err({ name: 'e', server: 'https://x', config: '{bearer' })).toMatch(/^Secret faultline\/bad: data.config is not JSON: /);
    expect(err({ name: 'e', server: 'https://x', config: '[]' })).toBe('Secret faultline/bad: data.config must be a JSON object');
    expect(err({ name: 'e', server: 'https://x', config: '{"tlsClientConfig":{"insecure":"yes"}}' })).toBe('Secret faultline/bad: data.config.tlsClientConfig.insecure must be true or false');
    expect(err({ name: 'e', server: 'https://x', config: '{"tlsClientConfig":{"certData":"x"}}' })).toBe('Secret faultline/bad: data.config.tlsClientConfig needs certData and keyData together');
    expect(err({ name: 'e', server: 'https://x', config: '{"bearerToken":3}' })).toBe('Secret faultline/bad: data.config.bearerToken must be a string');
  });
});

describe('ClusterRegistry against the simulator', () => {
  let sim: Simulator | undefined;
  let registry: ClusterRegistry | undefined;
  afterEach(async () => {
    registry?.close();
    await sim?.close();
  });

  it('adds, keeps and removes clusters as their Secrets come and go, without a restart', async () => {
    sim = await startSimulator();
    const s = sim;
    const core = s.kubeConfig().makeApiClient(CoreV1Api);
    const added: RegisteredCluster[] = [];
    const removed: string[] = [];
    registry = new ClusterRegistry(s.kubeConfig(), { namespace: 'faultline', onAdd: (c) => added.push(c), onRemove: (n) => removed.push(n) });
    expect(await registry.synced(10_000)).toBe(true);
    const body = (name: string, labels: Record<string, string>, server = s.url): V1Secret => ({
      metadata: { name: `cluster-${name}`, labels }, type: 'Opaque',
      stringData: { name, server, config: JSON.stringify({ bearerToken: 'faultline-sim', tlsClientConfig: { insecure: true } }) },
    });
    const until = async (check: () => boolean, what: string) => {
      const end = Date.now() + 10_000;
      while (!check()) {
        if (Date.now() > end) throw new Error(`timed out: ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    // Both labels on one Secret: one cluster, added once; its kubeconfig reaches the server.
    await core.createNamespacedSecret({ namespace: 'faultline', body: body('east', { 'faultline.dev/secret-type': 'cluster', 'argocd.argoproj.io/secret-type': 'cluster' }) });
    await core.createNamespacedSecret({ namespace: 'faultline', body: body('broken', { 'argocd.argoproj.io/secret-type': 'cluster' }, 'not-a-url') });
    await core.createNamespacedSecret({ namespace: 'faultline', body: body('ignored', { 'faultline.dev/secret-type': 'repository' }) });
    await until(() => added.length >= 1, 'east added');
    await new Promise((r) => setTimeout(r, 300));
    expect(added.map((c) => c.name)).toEqual(['east']);
    expect((await added[0]!.kc.makeApiClient(VersionApi).getCode()).gitVersion).toBeTruthy();

    // One label removed: still registered through the other.
    await core.patchNamespacedSecret({ namespace: 'faultline', name: 'cluster-east', body: [{ op: 'remove', path: '/metadata/labels/argocd.argoproj.io~1secret-type' }] });
    await new Promise((r) => setTimeout(r, 500));
    expect(removed).toEqual([]);

    // Deleted: removed.
    await core.deleteNamespacedSecret({ namespace: 'faultline', name: 'cluster-east' });
    await until(() => removed.length === 1, 'east removed');
    expect(removed).toEqual(['east']);
  });
});

describe('per-cluster safety', () => {
  it('a cluster overrides the caps and adds protected namespaces; the rest comes from the global config', () => {
    const config = loadConfig({ env: { FAULTLINE_REPO_URL: 'http://git.example/x.git' } });
    config.clusters = { east: { safety: { maxBlastRadiusPercent: 20, protectedNamespaces: ['payments'] } } };
    const east = clusterSafety(config, 'east');
    expect(east.maxBlastRadiusPercent).toBe(20);
    expect(east.maxTargets).toBe(config.safety.maxTargets);
    expect(east.protectedNamespaces).toEqual([...config.safety.protectedNamespaces, 'payments']);
    expect(clusterSafety(config, 'west')).toEqual({ ...config.safety, ownNamespace: config.kubernetes.namespace });
  });
});

describe('clusters in the controller config file', () => {
  const file = (text: string) => {
    const f = join(mkdtempSync(join(tmpdir(), 'fl-clusters-')), 'faultline.yaml');
    writeFileSync(f, text);
    return f;
  };
  it('kubernetes.clusterSecrets and clusters.<name>.safety load; a bad field is named at its line', () => {
    const c = loadConfig({ env: {}, file: file('repo: { url: http://git.example/x.git }\nkubernetes: { clusterSecrets: true }\nclusters:\n  east: { safety: { maxTargets: 3 } }\n') });
    expect(c.kubernetes.clusterSecrets).toBe(true);
    expect(c.clusters).toEqual({ east: { safety: { maxTargets: 3 } } });
    expect(clusterSafety(c, 'east').maxTargets).toBe(3);
    expect(() => loadConfig({ env: {}, file: file('repo: { url: http://git.example/x.git }\nclusters:\n  east: { safety: { maxTargets: 0 } }\n') }))
      .toThrow(/faultline\.yaml:3:.*clusters\.east\.safety\.maxTargets/);
    // Nothing set: the single-cluster path, no Secret read.
    expect(loadConfig({ env: { FAULTLINE_REPO_URL: 'http://git.example/x.git' } }).kubernetes.clusterSecrets).toBeUndefined();
  });
});
