// Several clusters: target clusters registered as Secrets in the controller's namespace, in the
// Argo CD cluster-secret shape (data: name, server, config JSON with bearerToken and/or
// tlsClientConfig {caData, certData, keyData, insecure, serverName}). Secrets labelled
// `faultline.dev/secret-type: cluster` or `argocd.argoproj.io/secret-type: cluster` are watched:
// adding or removing one adds or removes a cluster without a restart. The local cluster (the
// controller's own kubeconfig) is always there as LOCAL_CLUSTER.
import { CoreV1Api, KubeConfig, ListWatch, Watch, type V1Secret } from '@kubernetes/client-node';
import { silentLogger, type Logger } from '../log.js';
import { reuseConnections } from './connections.js';

/** The name of the controller's own cluster; experiments without `target.cluster` run there. */
export const LOCAL_CLUSTER = 'in-cluster';
export const CLUSTER_SECRET_LABELS = ['faultline.dev/secret-type', 'argocd.argoproj.io/secret-type'] as const;

export interface RegisteredCluster {
  name: string;
  server: string;
  kc: KubeConfig;
  /** The Secret it came from (`namespace/name`), for messages. */
  secret: string;
}

export type ClusterSecretResult = { ok: true; cluster: RegisteredCluster } | { ok: false; error: string };

const decode = (v: string | undefined): string | undefined => (v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8'));

/** One cluster Secret → a cluster with its own KubeConfig, or why not (named by the Secret and field). */
export function clusterFromSecret(secret: V1Secret): ClusterSecretResult {
  const where = `Secret ${secret.metadata?.namespace ?? ''}/${secret.metadata?.name ?? '?'}`;
  const data = secret.data ?? {};
  const name = decode(data.name)?.trim();
  const server = decode(data.server)?.trim();
  if (!name) return { ok: false, error: `${where}: data.name is missing` };
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) return { ok: false, error: `${where}: data.name "${name}" is not a DNS-1123 subdomain (lowercase letters, digits, '-', '.')` };
  if (name === LOCAL_CLUSTER) return { ok: false, error: `${where}: data.name "${LOCAL_CLUSTER}" is the controller's own cluster and cannot be registered` };
  if (!server || !/^https?:\/\/\S+$/.test(server)) return { ok: false, error: `${where}: data.server must be the API server's http(s) URL` };
  let config: { bearerToken?: unknown; tlsClientConfig?: { caData?: unknown; certData?: unknown; keyData?: unknown; insecure?: unknown; serverName?: unknown } } = {};
  const rawConfig = decode(data.config);
  if (rawConfig !== undefined && rawConfig.trim() !== '') {
    try {
      config = JSON.parse(rawConfig) as typeof config;
    } catch (err) {
      return { ok: false, error: `${where}: data.config is not JSON: ${(err as Error).message}` };
    }
    if (!config || typeof config !== 'object' || Array.isArray(config)) return { ok: false, error: `${where}: data.config must be a JSON object` };
  }
  const tls = config.tlsClientConfig ?? {};
  for (const f of ['caData', 'certData', 'keyData', 'serverName'] as const) {
    if (tls[f] !== undefined && typeof tls[f] !== 'string') return { ok: false, error: `${where}: data.config.tlsClientConfig.${f} must be a string` };
  }
  if (tls.insecure !== undefined && typeof tls.insecure !== 'boolean') return { ok: false, error: `${where}: data.config.tlsClientConfig.insecure must be true or false` };
  if (config.bearerToken !== undefined && typeof config.bearerToken !== 'string') return { ok: false, error: `${where}: data.config.bearerToken must be a string` };
  if ((tls.certData === undefined) !== (tls.keyData === undefined)) return { ok: false, error: `${where}: data.config.tlsClientConfig needs certData and keyData together` };
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{
      name, server, skipTLSVerify: tls.insecure === true,
      ...(tls.caData ? { caData: tls.caData as string } : {}),
      ...(tls.serverName ? { tlsServerName: tls.serverName as string } : {}),
    }],
    users: [{
      name,
      ...(config.bearerToken ? { token: config.bearerToken } : {}),
      ...(tls.certData ? { certData: tls.certData as string, keyData: tls.keyData as string } : {}),
    }],
    contexts: [{ name, cluster: name, user: name }],
    currentContext: name,
  });
  return { ok: true, cluster: { name, server, kc: reuseConnections(kc), secret: `${secret.metadata?.namespace ?? ''}/${secret.metadata?.name ?? ''}` } };
}

export interface ClusterRegistryOptions {
  namespace: string;
  log?: Logger;
  onAdd(cluster: RegisteredCluster): void;
  onRemove(name: string): void;
  retryDelayMs?: number;
}

/**
 * Watches the cluster Secrets of the controller's namespace (list + watch there only). A Secret
 * that does not parse is logged with its reason and ignored; two Secrets naming one cluster: the
 * first one seen wins and the other is reported.
 */
export class ClusterRegistry {
  private readonly log: Logger;
  private readonly informers: ListWatch<V1Secret>[] = [];
  private readonly bySecret = new Map<string, { name: string; version: string }>(); // secret uid → cluster
  private readonly owners = new Map<string, string>(); // cluster name → secret uid
  private readonly syncs: Promise<void>[] = [];
  private closed = false;

  constructor(kc: KubeConfig, private readonly opts: ClusterRegistryOptions) {
    this.log = (opts.log ?? silentLogger).child({ component: 'clusters' });
    const core = kc.makeApiClient(CoreV1Api);
    const path = '/api/v1/namespaces/{namespace}/secrets'.replace('{namespace}', encodeURIComponent(opts.namespace));
    for (const label of CLUSTER_SECRET_LABELS) {
      const selector = `${label}=cluster`;
      const list = () => core.listNamespacedSecret({ namespace: opts.namespace, labelSelector: selector });
      const informer = new ListWatch<V1Secret>(path, new Watch(kc), list as never, false, selector);
      let delay = opts.retryDelayMs ?? 1000;
      let markSynced: () => void = () => undefined;
      this.syncs.push(new Promise<void>((resolve) => (markSynced = resolve)));
      const listed = () => {
        if (informer.latestResourceVersion()) markSynced();
      };
      informer.on('add', (s) => this.upsert(s));
      informer.on('update', (s) => this.upsert(s));
      informer.on('delete', (s) => this.remove(s, informer));
      informer.on('error', (err: unknown) => {
        if (this.closed) return;
        this.log.warn({ label, err: (err as Error | undefined)?.message ?? String(err), retryInMs: delay }, 'cluster Secret watch failed; restarting');
        const t = setTimeout(() => {
          if (!this.closed) void informer.start().then(listed, () => undefined);
        }, delay);
        t.unref();
        delay = Math.min(delay * 2, 10_000);
      });
      void informer.start().then(listed, () => undefined);
      this.informers.push(informer);
    }
  }

  /** Resolves once both label selectors have been listed (or after `timeoutMs`). */
  async synced(timeoutMs = 10_000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([Promise.all(this.syncs).then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]);
    clearTimeout(timer);
    return ok;
  }

  private upsert(secret: V1Secret): void {
    if (this.closed) return;
    const uid = secret.metadata?.uid ?? `${secret.metadata?.namespace}/${secret.metadata?.name}`;
    // What the cluster is made of: a label change or a resync (or the same Secret seen through
    // both labels) changes nothing; a new server or credentials reconnect.
    const version = JSON.stringify([secret.data?.name, secret.data?.server, secret.data?.config]);
    const had = this.bySecret.get(uid);
    if (had?.version === version) return;
    const parsed = clusterFromSecret(secret);
    if (had && (!parsed.ok || parsed.cluster.name !== had.name)) this.drop(uid);
    else if (had) this.bySecret.delete(uid); // same name: onAdd below replaces its connection
    if (!parsed.ok) {
      this.log.error({ secret: `${secret.metadata?.namespace}/${secret.metadata?.name}` }, `cluster Secret ignored: ${parsed.error}`);
      return;
    }
    const { cluster } = parsed;
    const owner = this.owners.get(cluster.name);
    if (owner !== undefined && owner !== uid) {
      this.log.error({ cluster: cluster.name, secret: cluster.secret }, `cluster Secret ignored: another Secret already registers cluster "${cluster.name}"`);
      return;
    }
    this.bySecret.set(uid, { name: cluster.name, version });
    this.owners.set(cluster.name, uid);
    this.log.info({ cluster: cluster.name, server: cluster.server, secret: cluster.secret }, 'cluster registered');
    this.opts.onAdd(cluster);
  }

  private remove(secret: V1Secret, from: ListWatch<V1Secret>): void {
    // A Secret with both labels that lost one is still registered through the other.
    const name = secret.metadata?.name ?? '';
    if (this.informers.some((i) => i !== from && i.get(name, secret.metadata?.namespace)?.metadata?.uid === secret.metadata?.uid)) return;
    const uid = secret.metadata?.uid ?? `${secret.metadata?.namespace}/${secret.metadata?.name}`;
    this.drop(uid);
  }

  private drop(uid: string): void {
    const had = this.bySecret.get(uid);
    if (!had) return;
    this.bySecret.delete(uid);
    if (this.owners.get(had.name) === uid) this.owners.delete(had.name);
    this.log.info({ cluster: had.name }, 'cluster removed');
    this.opts.onRemove(had.name);
  }

  close(): void {
    this.closed = true;
    for (const i of this.informers) void i.stop();
  }
}
