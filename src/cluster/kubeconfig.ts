// Where the Kubernetes credentials come from: an explicit file, else KUBECONFIG, else the
// in-cluster service account, else ~/.kube/config. No silent fallback to anything else.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import { reuseConnections } from './connections.js';

export interface LoadKubeConfigOptions {
  kubeconfig?: string;
  context?: string;
  /** For tests; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** For tests; default the real service-account directory. */
  serviceAccountDir?: string;
}

export class KubeConfigError extends Error {
  override name = 'KubeConfigError';
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export function loadKubeConfig(opts: LoadKubeConfigOptions = {}): KubeConfig {
  const env = opts.env ?? process.env;
  const kc = new KubeConfig();
  const saDir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  let source: string;
  if (opts.kubeconfig) {
    if (!existsSync(opts.kubeconfig)) throw new KubeConfigError(`kubeconfig ${opts.kubeconfig} does not exist`);
    loadFile(kc, opts.kubeconfig);
    source = opts.kubeconfig;
  } else if (env.KUBECONFIG && env.KUBECONFIG.split(delimiter).some(Boolean)) {
    const files = env.KUBECONFIG.split(delimiter).filter(Boolean);
    const present = files.filter((f) => existsSync(f));
    if (present.length === 0) throw new KubeConfigError(`KUBECONFIG names ${files.join(', ')}, none of which exists`);
    loadFile(kc, present[0]!);
    // Later files add clusters/users/contexts; the first file's current-context wins, as kubectl does.
    for (const f of present.slice(1)) {
      const more = new KubeConfig();
      loadFile(more, f);
      kc.mergeConfig(more, true);
    }
    source = `KUBECONFIG (${present.join(delimiter)})`;
  } else if (env.KUBERNETES_SERVICE_HOST && existsSync(join(saDir, 'token'))) {
    kc.loadFromCluster(saDir.endsWith(SERVICE_ACCOUNT_DIR) ? saDir.slice(0, -SERVICE_ACCOUNT_DIR.length) : undefined);
    source = 'in-cluster service account';
  } else {
    const home = join(env.HOME ?? homedir(), '.kube', 'config');
    if (!existsSync(home)) {
      throw new KubeConfigError(
        'no Kubernetes configuration found: pass --kubeconfig FILE, set KUBECONFIG, run inside a cluster, or create ~/.kube/config',
      );
    }
    loadFile(kc, home);
    source = home;
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new KubeConfigError(`context "${opts.context}" is not in ${source} (known: ${known.join(', ') || 'none'})`);
    }
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster()) throw new KubeConfigError(`${source} has no current cluster (set a current-context or pass --context)`);
  return reuseConnections(kc);
}

function loadFile(kc: KubeConfig, file: string): void {
  try {
    kc.loadFromFile(file);
  } catch (err) {
    throw new KubeConfigError(`cannot load kubeconfig ${file}: ${(err as Error).message}`);
  }
}

/**
 * Waits until the API server answers at all (GET /version; any HTTP status counts, a 403 too),
 * for at most `timeoutMs`. Rejects with the last network error's message otherwise, so a command
 * can say "cannot reach" instead of retrying its watches forever.
 */
export async function waitForApiServer(kc: KubeConfig, timeoutMs: number): Promise<void> {
  const api = kc.makeApiClient(VersionApi);
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(last);
    try {
      await raceTimeout(api.getCode(), Math.min(left, 5000));
      return;
    } catch (err) {
      if (typeof (err as { code?: unknown }).code === 'number') return; // an HTTP answer: it is there
      last = reason(err);
    }
    await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(0, deadline - Date.now()))));
  }
}

function reason(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string }; code?: string };
  const code = e.cause?.code ?? e.code;
  const text = e.cause?.message ?? e.message ?? String(err);
  return code && !text.includes(code) ? `${code}: ${text}` : text;
}

async function raceTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
