// Controller configuration: YAML file (validated against schemas/controller-config.schema.json,
// errors with file:line:column), then environment overrides, then defaults. Secrets come only
// from the environment or from files (mounted Kubernetes secrets), never from the file itself
// and never from the experiments repository.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { ControllerConfig, TimeWindow } from './types.js';
import type { HostKind } from '../hosts/index.js';
import { parseDuration } from './duration.js';
import ipaddr from 'ipaddr.js';

function isCidr(c: string): boolean {
  return c.includes('/') ? ipaddr.isValidCIDR(c) : ipaddr.IPv6.isValid(c) || ipaddr.IPv4.isValidFourPartDecimal(c);
}

export const DEFAULTS = {
  branch: 'main',
  username: 'x-access-token',
  paths: ['experiments/**/*.y?(a)ml'],
  pollInterval: '30s',
  redisUrl: 'redis://127.0.0.1:6379',
  redisPrefix: 'faultline',
  host: '0.0.0.0',
  port: 8080,
  bodyLimitBytes: 1024 * 1024,
  namespace: 'faultline',
  protectedNamespaces: ['kube-system', 'kube-public', 'kube-node-lease'],
  optInLabel: { key: 'faultline.dev/chaos', value: 'enabled' },
  maxBlastRadiusPercent: 50,
  maxTargets: 10,
  maxConcurrentRuns: 2,
  injectorImage: 'ghcr.io/faultline-dev/faultline-injector:0.1.0',
  injectorStartTimeout: '2m',
  statusBranch: 'faultline/status',
  author: { name: 'Faultline', email: 'faultline@localhost' },
  historyLimit: 20,
  runsConcurrency: 2,
  lockWait: '2m',
  requestTimeout: '30s',
  connectionTimeout: '60s',
  headersTimeout: '10s',
  rateLimitMax: 600,
  rateLimitWindow: '1m',
  allowHosts: ['*.svc', '*.svc.cluster.local'],
  shutdownTimeout: '60s',
} as const;

/** The default data directory: `$XDG_STATE_HOME/faultline`, else `~/.local/state/faultline`. */
export function defaultDataRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'faultline');
}

export interface ConfigProblem {
  source: string; // the file path, or `env NAME`
  line?: number; // 1-based, file problems only
  column?: number;
  field: string; // dotted path, e.g. safety.maxBlastRadiusPercent
  message: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line !== undefined ? `${p.source}:${p.line}:${p.column ?? 1}` : p.source;
  return [where, p.field, p.message].filter(Boolean).join(': ');
}

export interface LoadConfigOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
}

type Json = Record<string, unknown>;
type Path = (string | number)[];

const schemaPath = join(dirname(fileURLToPath(import.meta.url)), '../../schemas/controller-config.schema.json');
let validator: ValidateFunction | undefined;
function validate(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    validator = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')) as object);
  }
  return validator;
}

// Plain (non-secret) settings that the environment may override, in file form.
const ENV_FIELDS: { name: string; path: Path; convert?: (v: string) => unknown }[] = [
  { name: 'FAULTLINE_REPO_URL', path: ['repo', 'url'] },
  { name: 'FAULTLINE_BRANCH', path: ['repo', 'branch'] },
  { name: 'FAULTLINE_REPO_USERNAME', path: ['repo', 'username'] },
  { name: 'FAULTLINE_REPO_PATHS', path: ['repo', 'paths'], convert: list },
  { name: 'FAULTLINE_POLL_INTERVAL', path: ['repo', 'pollInterval'] },
  { name: 'FAULTLINE_WORKDIR', path: ['repo', 'workdir'] },
  { name: 'FAULTLINE_DATA_DIR', path: ['repo', 'workdir'] },
  { name: 'REDIS_URL', path: ['redis', 'url'] },
  { name: 'FAULTLINE_REDIS_PREFIX', path: ['redis', 'prefix'] },
  { name: 'FAULTLINE_HOST', path: ['server', 'host'] },
  { name: 'FAULTLINE_PORT', path: ['server', 'port'], convert: integer },
  { name: 'FAULTLINE_BODY_LIMIT_BYTES', path: ['server', 'bodyLimitBytes'], convert: integer },
  { name: 'FAULTLINE_READ_REQUIRES_TOKEN', path: ['server', 'readRequiresToken'], convert: boolean },
  { name: 'FAULTLINE_REQUEST_TIMEOUT', path: ['server', 'requestTimeout'] },
  { name: 'FAULTLINE_RATE_LIMIT_MAX', path: ['server', 'rateLimit', 'max'], convert: integer },
  { name: 'FAULTLINE_EGRESS_ALLOW_HOSTS', path: ['egress', 'allowHosts'], convert: list },
  { name: 'FAULTLINE_EGRESS_ALLOW_CIDRS', path: ['egress', 'allowCidrs'], convert: list },
  { name: 'FAULTLINE_EGRESS_EXPOSE_RESPONSES', path: ['egress', 'exposeResponses'], convert: boolean },
  { name: 'KUBECONFIG', path: ['kubernetes', 'kubeconfig'], convert: (v) => v.split(':').find(Boolean) ?? v },
  { name: 'FAULTLINE_KUBECONFIG', path: ['kubernetes', 'kubeconfig'] },
  { name: 'FAULTLINE_KUBE_CONTEXT', path: ['kubernetes', 'context'] },
  { name: 'FAULTLINE_NAMESPACE', path: ['kubernetes', 'namespace'] },
  { name: 'FAULTLINE_CUSTOM_RESOURCES', path: ['kubernetes', 'customResources'], convert: boolean },
  { name: 'FAULTLINE_CUSTOM_RESOURCE_TARGETS', path: ['kubernetes', 'customResourceTargets'] },
  { name: 'FAULTLINE_CLUSTER_SECRETS', path: ['kubernetes', 'clusterSecrets'], convert: boolean },
  { name: 'FAULTLINE_ADMISSION_PORT', path: ['admission', 'port'], convert: integer },
  { name: 'FAULTLINE_ADMISSION_CERT_FILE', path: ['admission', 'certFile'] },
  { name: 'FAULTLINE_ADMISSION_KEY_FILE', path: ['admission', 'keyFile'] },
  { name: 'FAULTLINE_PROTECTED_NAMESPACES', path: ['safety', 'protectedNamespaces'], convert: list },
  { name: 'FAULTLINE_MAX_BLAST_RADIUS_PERCENT', path: ['safety', 'maxBlastRadiusPercent'], convert: number },
  { name: 'FAULTLINE_MAX_TARGETS', path: ['safety', 'maxTargets'], convert: integer },
  { name: 'FAULTLINE_MAX_CONCURRENT_RUNS', path: ['safety', 'maxConcurrentRuns'], convert: integer },
  { name: 'FAULTLINE_INJECTOR_IMAGE', path: ['injector', 'image'] },
  { name: 'FAULTLINE_STATUS_BRANCH', path: ['status', 'branch'] },
  { name: 'FAULTLINE_GIT_HOST', path: ['gitHost', 'type'] },
  { name: 'FAULTLINE_GIT_HOST_API_URL', path: ['gitHost', 'apiUrl'] },
  { name: 'FAULTLINE_GIT_HOST_REPOSITORY', path: ['gitHost', 'repository'] },
  { name: 'FAULTLINE_GITHUB_APP_ID', path: ['gitHost', 'appId'], convert: integer },
  { name: 'FAULTLINE_GITHUB_INSTALLATION_ID', path: ['gitHost', 'installationId'], convert: integer },
  { name: 'SLACK_CHANNEL', path: ['slack', 'defaultChannel'] },
  { name: 'SLACK_API_URL', path: ['slack', 'apiUrl'] },
  { name: 'FAULTLINE_NOTIFY_WEBHOOK_URL', path: ['webhookNotifier', 'url'] },
  { name: 'FAULTLINE_NOTIFY_ATTEMPTS', path: ['notifications', 'attempts'], convert: integer },
  { name: 'FAULTLINE_NOTIFY_RETRY_DELAY', path: ['notifications', 'retryDelay'] },
  { name: 'FAULTLINE_RUNS_CONCURRENCY', path: ['runs', 'concurrency'], convert: integer },
  { name: 'FAULTLINE_LOCK_WAIT', path: ['runs', 'lockWait'] },
  { name: 'FAULTLINE_SHUTDOWN_TIMEOUT', path: ['runs', 'shutdownTimeout'] },
];

function list(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}
// Unparseable numbers stay strings so the schema reports them ("must be integer").
function integer(v: string): unknown {
  return /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : v;
}
function number(v: string): unknown {
  return v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
}
function boolean(v: string): unknown {
  const t = v.trim().toLowerCase();
  return t === 'true' || t === '1' ? true : t === 'false' || t === '0' ? false : v;
}

export function loadConfig(opts: LoadConfigOptions = {}): ControllerConfig {
  const env = opts.env ?? process.env;
  const problems: ConfigProblem[] = [];
  const source = opts.file ?? '(no file)';

  // 1. The file, with positions.
  let doc: Document | undefined;
  let lines: LineCounter | undefined;
  let data: Json = {};
  if (opts.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (err) {
      throw new ConfigError([{ source, field: '', message: `cannot read config file: ${(err as Error).message}` }]);
    }
    lines = new LineCounter();
    doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
    for (const e of doc.errors) {
      const pos = e.linePos?.[0];
      problems.push({ source, line: pos?.line ?? 1, column: pos?.col ?? 1, field: '', message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '') });
    }
    if (problems.length) throw new ConfigError(problems);
    const js: unknown = doc.toJS({ maxAliasCount: 100 });
    if (js !== null && js !== undefined) {
      if (typeof js !== 'object' || Array.isArray(js)) throw new ConfigError([{ source, line: 1, column: 1, field: '', message: 'must be a mapping' }]);
      data = js as Json;
    }
  }

  // 2. Environment overrides (plain settings), remembering where each value came from.
  const fromEnv = new Map<string, string>();
  for (const f of ENV_FIELDS) {
    const raw = env[f.name];
    if (raw === undefined || raw === '') continue;
    setIn(data, f.path, f.convert ? f.convert(raw) : raw);
    fromEnv.set(f.path.join('.'), f.name);
  }

  // 3. Schema, with every error at once.
  const check = validate();
  if (!check(data)) {
    for (const err of check.errors ?? []) problems.push(problemFor(err, { source, doc, lines, fromEnv }));
    throw new ConfigError(dedupe(problems).sort(byPlace));
  }

  // 4. Secrets, from the environment or files only.
  const secret = (name: string, fileFromConfig?: string, field = name): string | undefined => {
    const direct = env[name];
    if (direct) return direct.trim();
    const file = env[`${name}_FILE`] || fileFromConfig;
    if (!file) return undefined;
    const value = readSecretFile(file, env[`${name}_FILE`] ? `env ${name}_FILE` : source, field, problems);
    return value;
  };
  const repo = (data.repo ?? {}) as Json;
  const server = (data.server ?? {}) as Json;
  const kube = (data.kubernetes ?? {}) as Json;
  const safety = (data.safety ?? {}) as Json;
  const status = (data.status ?? {}) as Json;
  const slackFile = data.slack as Json | undefined;
  const egress = (data.egress ?? {}) as Json;
  const allowCidrs = (egress.allowCidrs as string[] | undefined) ?? [];
  allowCidrs.forEach((c, i) => {
    if (!isCidr(c)) problems.push(problemAt({ source, doc, lines, fromEnv }, ['egress', 'allowCidrs', i], `${JSON.stringify(c)} is not an address or CIDR (e.g. 10.0.0.0/8, fd00::/8, 127.0.0.1)`));
  });
  const rateLimit = (server.rateLimit ?? {}) as Json;
  const gitHostFile = data.gitHost as Json | undefined;

  const webhookSecrets: string[] = [];
  if (env.FAULTLINE_WEBHOOK_SECRET) webhookSecrets.push(...list(env.FAULTLINE_WEBHOOK_SECRET));
  const secretFiles = env.FAULTLINE_WEBHOOK_SECRET_FILE ? list(env.FAULTLINE_WEBHOOK_SECRET_FILE) : ((server.webhookSecretFiles as string[] | undefined) ?? []);
  for (const file of secretFiles) {
    const text = readSecretFile(file, env.FAULTLINE_WEBHOOK_SECRET_FILE ? 'env FAULTLINE_WEBHOOK_SECRET_FILE' : source, 'server.webhookSecretFiles', problems);
    // One secret per line, so a rotation can mount old and new in one file.
    if (text) webhookSecrets.push(...text.split(/\r?\n/).map((s) => s.trim()).filter(Boolean));
  }

  const repoUrl = repo.url as string | undefined;
  if (!repoUrl) problems.push({ source: opts.file ? source : 'config', field: 'repo.url', message: 'is required (set repo.url in the file or FAULTLINE_REPO_URL)' });

  const namespace = (kube.namespace as string | undefined) ?? DEFAULTS.namespace;
  const protectedNamespaces = [...new Set([...((safety.protectedNamespaces as string[] | undefined) ?? DEFAULTS.protectedNamespaces), namespace])];

  const repoToken = secret('FAULTLINE_REPO_TOKEN', repo.tokenFile as string | undefined, 'repo.tokenFile');
  const apiToken = secret('FAULTLINE_API_TOKEN', server.apiTokenFile as string | undefined, 'server.apiTokenFile');
  const gitHostToken = secret('FAULTLINE_GIT_HOST_TOKEN', gitHostFile?.tokenFile as string | undefined, 'gitHost.tokenFile');
  const slackBotToken = secret('SLACK_BOT_TOKEN', slackFile?.botTokenFile as string | undefined, 'slack.botTokenFile');
  const slackWebhookUrl = secret('SLACK_WEBHOOK_URL', slackFile?.webhookUrlFile as string | undefined, 'slack.webhookUrlFile');
  if (slackWebhookUrl && !/^https?:\/\/\S+$/.test(slackWebhookUrl)) problems.push({ source: 'env SLACK_WEBHOOK_URL', field: 'slack.webhookUrl', message: 'must be an http(s) URL' });
  // The App key is read like the other secrets: FAULTLINE_GITHUB_PRIVATE_KEY(_FILE) or gitHost.privateKeyFile.
  const githubAppKey = secret('FAULTLINE_GITHUB_PRIVATE_KEY', gitHostFile?.privateKeyFile as string | undefined, 'gitHost.privateKeyFile');
  const appFields = { appId: gitHostFile?.appId, installationId: gitHostFile?.installationId, privateKeyFile: githubAppKey };
  const appSet = Object.entries(appFields).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (gitHostFile && appSet.length > 0) {
    const field = 'gitHost';
    if (gitHostFile.type !== 'github') problems.push({ source, field, message: `appId, installationId and privateKeyFile are for GitHub Apps, but gitHost.type is ${String(gitHostFile.type)}` });
    else if (appSet.length < 3) {
      const missing = Object.keys(appFields).filter((k) => !appSet.includes(k));
      problems.push({ source, field, message: `GitHub App mode needs appId, installationId and privateKeyFile together; missing ${missing.join(', ')} (env FAULTLINE_GITHUB_APP_ID, FAULTLINE_GITHUB_INSTALLATION_ID, FAULTLINE_GITHUB_PRIVATE_KEY_FILE)` });
    }
  }
  if ((env.FAULTLINE_GITHUB_PRIVATE_KEY || env.FAULTLINE_GITHUB_PRIVATE_KEY_FILE) && !gitHostFile) problems.push({ source: 'env FAULTLINE_GITHUB_PRIVATE_KEY_FILE', field: 'gitHost', message: 'a GitHub App key is set but no git host (set gitHost in the file or FAULTLINE_GIT_HOST, FAULTLINE_GIT_HOST_API_URL, FAULTLINE_GIT_HOST_REPOSITORY)' });
  if (env.FAULTLINE_GIT_HOST_TOKEN && !gitHostFile) problems.push({ source: 'env FAULTLINE_GIT_HOST_TOKEN', field: 'gitHost', message: 'a token is set but no git host (set gitHost in the file or FAULTLINE_GIT_HOST, FAULTLINE_GIT_HOST_API_URL, FAULTLINE_GIT_HOST_REPOSITORY)' });

  if (problems.length) throw new ConfigError(problems);

  const windows = (v: unknown): TimeWindow[] => ((v as TimeWindow[] | undefined) ?? []).map((w) => ({ ...w }));
  const optIn = safety.optInLabel as { key: string; value: string } | undefined;
  const author = status.author as { name: string; email: string } | undefined;
  const slack =
    slackFile || slackBotToken || slackWebhookUrl
      ? compact({ botToken: slackBotToken, webhookUrl: slackWebhookUrl, defaultChannel: slackFile?.defaultChannel as string | undefined, apiUrl: slackFile?.apiUrl as string | undefined })
      : undefined;

  const config: ControllerConfig = {
    repo: compact({
      url: repoUrl!,
      branch: (repo.branch as string | undefined) ?? DEFAULTS.branch,
      token: repoToken,
      username: (repo.username as string | undefined) ?? (repoToken ? DEFAULTS.username : undefined),
      paths: (repo.paths as string[] | undefined) ?? [...DEFAULTS.paths],
      pollIntervalMs: parseDuration((repo.pollInterval as string | undefined) ?? DEFAULTS.pollInterval),
      workdir: (repo.workdir as string | undefined) ?? defaultDataRoot(env),
    }),
    redis: {
      url: ((data.redis as Json | undefined)?.url as string | undefined) ?? DEFAULTS.redisUrl,
      prefix: ((data.redis as Json | undefined)?.prefix as string | undefined) ?? DEFAULTS.redisPrefix,
    },
    server: compact({
      host: (server.host as string | undefined) ?? DEFAULTS.host,
      port: (server.port as number | undefined) ?? DEFAULTS.port,
      bodyLimitBytes: (server.bodyLimitBytes as number | undefined) ?? DEFAULTS.bodyLimitBytes,
      webhookSecrets: [...new Set(webhookSecrets)],
      apiToken,
      readRequiresToken: (server.readRequiresToken as boolean | undefined) ?? false,
      requestTimeoutMs: parseDuration((server.requestTimeout as string | undefined) ?? DEFAULTS.requestTimeout),
      connectionTimeoutMs: parseDuration((server.connectionTimeout as string | undefined) ?? DEFAULTS.connectionTimeout),
      headersTimeoutMs: parseDuration((server.headersTimeout as string | undefined) ?? DEFAULTS.headersTimeout),
      rateLimit: {
        max: (rateLimit.max as number | undefined) ?? DEFAULTS.rateLimitMax,
        windowMs: parseDuration((rateLimit.window as string | undefined) ?? DEFAULTS.rateLimitWindow),
      },
    }),
    egress: {
      allowHosts: (egress.allowHosts as string[] | undefined) ?? [...DEFAULTS.allowHosts],
      allowCidrs,
      exposeResponses: (egress.exposeResponses as boolean | undefined) ?? false,
    },
    kubernetes: compact({ kubeconfig: kube.kubeconfig as string | undefined, context: kube.context as string | undefined, namespace, customResources: (kube.customResources as boolean | undefined) ?? false,
      customResourceTargets: (kube.customResourceTargets as ControllerConfig['kubernetes']['customResourceTargets'] | undefined) ?? 'own-namespace',
      clusterSecrets: kube.clusterSecrets === true ? true : undefined }),
    ...(data.clusters ? { clusters: structuredClone(data.clusters) as ControllerConfig['clusters'] } : {}),
    ...(data.admission ? { admission: admissionFrom(data.admission as Json, server) } : {}),
    safety: {
      protectedNamespaces,
      optInLabel: optIn ? { ...optIn } : { ...DEFAULTS.optInLabel },
      maxBlastRadiusPercent: (safety.maxBlastRadiusPercent as number | undefined) ?? DEFAULTS.maxBlastRadiusPercent,
      maxTargets: (safety.maxTargets as number | undefined) ?? DEFAULTS.maxTargets,
      maxConcurrentRuns: (safety.maxConcurrentRuns as number | undefined) ?? DEFAULTS.maxConcurrentRuns,
      allowedWindows: windows(safety.allowedWindows),
      freezeWindows: windows(safety.freezeWindows),
    },
    injector: {
      image: ((data.injector as Json | undefined)?.image as string | undefined) ?? DEFAULTS.injectorImage,
      startTimeoutMs: parseDuration(((data.injector as Json | undefined)?.startTimeout as string | undefined) ?? DEFAULTS.injectorStartTimeout),
      allowHostNetwork: ((data.injector as Json | undefined)?.allowHostNetwork as boolean | undefined) ?? false,
    },
    status: {
      branch: (status.branch as string | undefined) ?? DEFAULTS.statusBranch,
      author: author ? { ...author } : { ...DEFAULTS.author },
      historyLimit: (status.historyLimit as number | undefined) ?? DEFAULTS.historyLimit,
    },
    runs: {
      concurrency: ((data.runs as Json | undefined)?.concurrency as number | undefined) ?? DEFAULTS.runsConcurrency,
      lockWaitMs: parseDuration(((data.runs as Json | undefined)?.lockWait as string | undefined) ?? DEFAULTS.lockWait),
      shutdownTimeoutMs: parseDuration(((data.runs as Json | undefined)?.shutdownTimeout as string | undefined) ?? DEFAULTS.shutdownTimeout),
    },
  };
  if (gitHostFile) {
    config.gitHost = compact({
      type: gitHostFile.type as HostKind,
      apiUrl: (gitHostFile.apiUrl as string).replace(/\/+$/, ''),
      repository: gitHostFile.repository as string,
      token: gitHostToken,
      appId: gitHostFile.appId as number | undefined,
      installationId: gitHostFile.installationId as number | undefined,
      privateKey: githubAppKey,
    });
  }
  if (slack) config.slack = slack;
  const notifier = data.webhookNotifier as Json | undefined;
  if (notifier) config.webhookNotifier = { url: notifier.url as string };
  const notifications = data.notifications as Json | undefined;
  if (notifications) {
    config.notifications = compact({
      attempts: notifications.attempts as number | undefined,
      retryDelayMs: notifications.retryDelay === undefined ? undefined : parseDuration(notifications.retryDelay as string),
    });
  }
  return config;
}

function readSecretFile(file: string, source: string, field: string, problems: ConfigProblem[]): string | undefined {
  try {
    const value = readFileSync(file, 'utf8').trim();
    if (!value) {
      problems.push({ source, field, message: `secret file ${file} is empty` });
      return undefined;
    }
    return value;
  } catch (err) {
    problems.push({ source, field, message: `cannot read secret file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    return undefined;
  }
}

/** Drops undefined values so optional fields are absent rather than present-but-undefined. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function setIn(root: Json, path: Path, value: unknown): void {
  let cur = root;
  for (const key of path.slice(0, -1)) {
    const next = cur[key as string];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[key as string] = {};
    cur = cur[key as string] as Json;
  }
  cur[path[path.length - 1] as string] = value;
}

function byPlace(a: ConfigProblem, b: ConfigProblem): number {
  if ((a.line === undefined) !== (b.line === undefined)) return a.line === undefined ? 1 : -1;
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

/** safety.allowedWindows[0].start */
function dotted(path: Path): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = formatProblem(p);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

interface Where {
  source: string;
  doc: Document | undefined;
  lines: LineCounter | undefined;
  fromEnv: Map<string, string>;
}

function problemFor(err: ErrorObject, where: Where): ConfigProblem {
  const path: Path = err.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const params = err.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
  let field = dotted(path);
  let message = err.message ?? 'is invalid';
  let keyOf: string | undefined; // point at this key of the node (unknown field)
  if (err.keyword === 'required' && params.missingProperty) {
    field = dotted([...path, params.missingProperty]);
    message = 'is required';
  } else if (err.keyword === 'additionalProperties' && params.additionalProperty) {
    field = dotted([...path, params.additionalProperty]);
    keyOf = params.additionalProperty;
    message = secretHint(field) ?? 'is not a known field';
  } else if (err.keyword === 'enum' && params.allowedValues) {
    message = `must be one of: ${params.allowedValues.map(String).join(', ')}`;
  } else if (err.keyword === 'pattern' && field.endsWith('pollInterval')) {
    message = 'must be a duration such as 500ms, 30s, 5m, 1h30m';
  }
  // A value that came from the environment is reported against the variable.
  for (let i = path.length; i > 0; i--) {
    const envName = where.fromEnv.get(path.slice(0, i).join('.'));
    if (envName) return { source: `env ${envName}`, field, message };
  }
  const pos = where.doc && where.lines ? position(where.doc, where.lines, path, keyOf) : undefined;
  return pos ? { source: where.source, ...pos, field, message } : { source: where.source, field, message };
}

/** A problem found after the schema, at the field's place (or its environment variable). */
function problemAt(where: Where, path: Path, message: string): ConfigProblem {
  const field = dotted(path);
  for (let i = path.length; i > 0; i--) {
    const envName = where.fromEnv.get(path.slice(0, i).join('.'));
    if (envName) return { source: `env ${envName}`, field, message };
  }
  const pos = where.doc && where.lines ? position(where.doc, where.lines, path) : undefined;
  return pos ? { source: where.source, ...pos, field, message } : { source: where.source, field, message };
}

function secretHint(field: string): string | undefined {
  const hints: Record<string, string> = {
    'repo.token': 'secrets are not read from the config file: use FAULTLINE_REPO_TOKEN(_FILE) or repo.tokenFile',
    'server.webhookSecret': 'secrets are not read from the config file: use FAULTLINE_WEBHOOK_SECRET(_FILE) or server.webhookSecretFiles',
    'server.webhookSecrets': 'secrets are not read from the config file: use FAULTLINE_WEBHOOK_SECRET(_FILE) or server.webhookSecretFiles',
    'server.apiToken': 'secrets are not read from the config file: use FAULTLINE_API_TOKEN(_FILE) or server.apiTokenFile',
    'gitHost.token': 'secrets are not read from the config file: use FAULTLINE_GIT_HOST_TOKEN(_FILE) or gitHost.tokenFile',
    'gitHost.privateKey': 'secrets are not read from the config file: use FAULTLINE_GITHUB_PRIVATE_KEY_FILE or gitHost.privateKeyFile',
    'slack.botToken': 'secrets are not read from the config file: use SLACK_BOT_TOKEN(_FILE) or slack.botTokenFile',
    'slack.webhookUrl': 'secrets are not read from the config file: use SLACK_WEBHOOK_URL(_FILE) or slack.webhookUrlFile',
  };
  return hints[field];
}

/** Line and column of the deepest node on the path (or of one of its keys). */
function position(doc: Document, lines: LineCounter, path: Path, keyOf?: string): { line: number; column: number } | undefined {
  let node: unknown = doc.contents;
  let best: YamlNode | undefined = isNodeWithRange(node) ? node : undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      if (isNodeWithRange(pair.key)) best = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
    } else break;
    if (isNodeWithRange(node)) best = node;
  }
  if (keyOf !== undefined && isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === keyOf);
    if (pair && isNodeWithRange(pair.key)) best = pair.key;
  }
  if (!best?.range) return undefined;
  const { line, col } = lines.linePos(best.range[0]);
  return { line, column: col };
}

function isNodeWithRange(n: unknown): n is YamlNode {
  return typeof n === 'object' && n !== null && 'range' in n && Array.isArray((n as YamlNode).range);
}

/** The webhook's TLS files are paths (a mounted Secret); they are read when the server starts. */
function admissionFrom(a: Json, server: Json): NonNullable<ControllerConfig['admission']> {
  return { port: (a.port as number | undefined) ?? 9443, host: (a.host as string | undefined) ?? (server.host as string | undefined) ?? '0.0.0.0', certFile: a.certFile as string, keyFile: a.keyFile as string };
}
