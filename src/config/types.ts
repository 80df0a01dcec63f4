// Controller configuration, after defaults are applied. The JSON Schema in
// schemas/controller-config.schema.json describes the file form (durations as strings).

import type { HostKind } from '../hosts/index.js';

export interface TimeWindow {
  days?: number[]; // 0 = Sunday … 6 = Saturday; absent = every day
  start: string; // "HH:MM"
  end: string; // "HH:MM", exclusive; may wrap past midnight
  timezone?: string; // IANA, default UTC
}

export interface ControllerConfig {
  repo: {
    url: string; // smart-HTTP(S) URL of the experiments repository
    branch: string; // default main
    token?: string; // from env/file, never from the repository
    username?: string; // basic-auth user for the token, default x-access-token
    paths: string[]; // globs, default ['experiments/**/*.y?(a)ml']
    pollIntervalMs: number; // default 30s; 0 disables polling
    workdir: string; // data directory (clones, status index and outbox), kept across restarts; default $XDG_STATE_HOME/faultline or ~/.local/state/faultline
  };
  redis: { url: string; prefix: string }; // prefix default 'faultline'
  server: {
    host: string; // default 0.0.0.0
    port: number; // FAULTLINE_PORT, default 8080
    bodyLimitBytes: number; // default 1 MiB
    webhookSecrets: string[]; // several at once, for rotation
    apiToken?: string; // bearer token for state-changing API calls
    readRequiresToken: boolean; // default false
    requestTimeoutMs: number; // default 30s: headers and body of one request
    connectionTimeoutMs: number; // default 60s: idle socket
    headersTimeoutMs: number; // default 10s
    rateLimit: { max: number; windowMs: number }; // per client address, shared across replicas
  };
  egress: {
    allowHosts: string[]; // default *.svc, *.svc.cluster.local
    allowCidrs: string[]; // default none; loopback/link-local only when listed
    exposeResponses: boolean; // default false
  };
  kubernetes: {
    kubeconfig?: string; // path; absent = in-cluster or ~/.kube/config
    context?: string;
    namespace: string; // the controller's own namespace (always protected)
    customResources: boolean; // FAULTLINE_CUSTOM_RESOURCES: also watch ChaosExperiment/ChaosWorkflow resources (default false)
    /** FAULTLINE_CUSTOM_RESOURCE_TARGETS: what a resource may fault (default own-namespace: its namespace only, no node faults). */
    customResourceTargets: 'own-namespace' | 'any';
    /** FAULTLINE_CLUSTER_SECRETS: watch cluster Secrets in the namespace (several clusters). Default false. */
    clusterSecrets?: boolean;
  };
  /** Per-cluster safety overrides by cluster name; unset fields take the global safety values. */
  clusters?: Record<string, { safety?: { protectedNamespaces?: string[]; maxBlastRadiusPercent?: number; maxTargets?: number } }>;
  /** The validating admission webhook (HTTPS on its own port), when a certificate is given. */
  admission?: { port: number; certFile: string; keyFile: string; host: string };
  safety: {
    protectedNamespaces: string[]; // default kube-system, kube-public, kube-node-lease (+ own ns)
    optInLabel: { key: string; value: string }; // default faultline.dev/chaos=enabled
    maxBlastRadiusPercent: number; // default 50
    maxTargets: number; // default 10
    maxConcurrentRuns: number; // default 2
    allowedWindows: TimeWindow[]; // empty = any time
    freezeWindows: TimeWindow[]; // no run starts inside one
  };
  injector: {
    image: string; // ephemeral-container image (deploy/agent): iproute2, iptables, stress-ng, busybox
    startTimeoutMs: number; // injectors must confirm within this; default 2m
    allowHostNetwork: boolean; // network/stress faults on hostNetwork pods; default false
  };
  status: {
    branch: string; // default faultline/status
    author: { name: string; email: string }; // default Faultline <faultline@localhost>
    historyLimit: number; // runs kept per experiment file, default 20
  };
  gitHost?: {
    type: HostKind;
    apiUrl: string;
    token?: string;
    repository: string; // owner/name (GitHub, Gitea) or project path/id (GitLab)
    // GitHub App mode (all three together): Check Runs instead of commit statuses.
    appId?: number;
    installationId?: number;
    privateKey?: string; // PEM, from gitHost.privateKeyFile or env, never from the repository
  };
  slack?: { botToken?: string; webhookUrl?: string; defaultChannel?: string; apiUrl?: string };
  webhookNotifier?: { url: string };
  /** Delivery of notifications (BullMQ `notifications`); absent: 12 attempts, first retry after 2 s, doubling. */
  notifications?: { attempts?: number; retryDelayMs?: number };
  runs: {
    concurrency: number; // worker concurrency per replica (runs in flight at once), default 2
    lockWaitMs: number; // a run waits this long for a busy workload lock or run slot, then fails; default 2m
    shutdownTimeoutMs: number; // SIGTERM: runs aborted and reverted (or handed over), process gone within this; default 60s
  };
}
