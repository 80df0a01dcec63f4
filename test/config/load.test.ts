import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, DEFAULTS, loadConfig, parseDuration } from '../../src/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'fl-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** 1-based line and column of `needle` (on the line containing `lineHint`) in `text`. */
function at(text: string, lineHint: string, needle: string): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.includes(lineHint));
  return `${i + 1}:${lines[i]!.indexOf(needle) + 1}`;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const URL_ENV = { FAULTLINE_REPO_URL: 'https://git.example.com/chaos/experiments.git' };

describe('loadConfig defaults', () => {
  it('fills every documented default and protects the controller namespace', () => {
    const c = loadConfig({ env: URL_ENV });
    expect(c).toEqual({
      repo: { url: URL_ENV.FAULTLINE_REPO_URL, branch: 'main', paths: ['experiments/**/*.y?(a)ml'], pollIntervalMs: 30_000, workdir: join(homedir(), '.local', 'state', 'faultline') },
      redis: { url: 'redis://127.0.0.1:6379', prefix: 'faultline' },
      server: {
        host: '0.0.0.0', port: 8080, bodyLimitBytes: 1024 * 1024, webhookSecrets: [], readRequiresToken: false,
        requestTimeoutMs: 30_000, connectionTimeoutMs: 60_000, headersTimeoutMs: 10_000, rateLimit: { max: 600, windowMs: 60_000 },
      },
      egress: { allowHosts: ['*.svc', '*.svc.cluster.local'], allowCidrs: [], exposeResponses: false },
      kubernetes: { namespace: 'faultline', customResources: false, customResourceTargets: 'own-namespace' },
      safety: {
        protectedNamespaces: ['kube-system', 'kube-public', 'kube-node-lease', 'faultline'],
        optInLabel: { key: 'faultline.dev/chaos', value: 'enabled' },
        maxBlastRadiusPercent: 50,
        maxTargets: 10,
        maxConcurrentRuns: 2,
        allowedWindows: [],
        freezeWindows: [],
      },
      injector: { image: DEFAULTS.injectorImage, startTimeoutMs: 120_000, allowHostNetwork: false },
      status: { branch: 'faultline/status', author: { name: 'Faultline', email: 'faultline@localhost' }, historyLimit: 20 },
      runs: { concurrency: 2, lockWaitMs: 120_000, shutdownTimeoutMs: 60_000 },
    });
  });

  it('run concurrency is bounded by config, not by a small schema constant: 1,000+ runs per replica', () => {
    const c = loadConfig({ env: { ...URL_ENV, FAULTLINE_RUNS_CONCURRENCY: '5000', FAULTLINE_MAX_CONCURRENT_RUNS: '5000' } });
    expect(c.runs.concurrency).toBe(5000);
    expect(c.safety.maxConcurrentRuns).toBe(5000);
    // Still bounded (a typo of extra zeros is refused), at the variable that set it.
    const err = errorOf(() => loadConfig({ env: { ...URL_ENV, FAULTLINE_MAX_CONCURRENT_RUNS: '1000000' } }));
    expect(err.problems).toEqual([expect.objectContaining({ source: 'env FAULTLINE_MAX_CONCURRENT_RUNS', field: 'safety.maxConcurrentRuns' })]);
  });

  it('requires a repository URL from the file or the environment', () => {
    const err = errorOf(() => loadConfig({ env: {} }));
    expect(err.message).toContain('repo.url: is required');
  });

  it('accepts the ConfigMap shipped in deploy/base', () => {
    const cm = parse(readFileSync(new URL('../../deploy/base/configmap.yaml', import.meta.url), 'utf8')) as { data: Record<string, string> };
    const c = loadConfig({ file: file('deploy.yaml', cm.data['faultline.yaml']!), env: {} });
    expect(c.repo.pollIntervalMs).toBe(60_000);
    expect(c.safety.protectedNamespaces).toContain('faultline');
  });
});

describe('loadConfig file', () => {
  it('reads every section and converts durations', () => {
    const text = [
      'repo:',
      '  url: https://git.example.com/chaos/experiments.git',
      '  branch: release',
      '  paths: ["chaos/**/*.yaml"]',
      '  pollInterval: 1m30s',
      '  workdir: /var/lib/faultline/repo',
      'redis: { url: "redis://redis:6379/2", prefix: fl }',
      'server: { port: 9090, bodyLimitBytes: 262144, readRequiresToken: true }',
      'kubernetes: { namespace: chaos-system, context: prod, customResources: true, customResourceTargets: any }',
      'safety:',
      '  protectedNamespaces: [kube-system, payments]',
      '  optInLabel: { key: example.com/chaos, value: "yes" }',
      '  maxBlastRadiusPercent: 25',
      '  freezeWindows:',
      '    - { days: [5, 6], start: "18:00", end: "08:00", timezone: Europe/Berlin }',
      'gitHost: { type: gitlab, apiUrl: "https://gitlab.example.com/api/v4/", repository: chaos/experiments }',
      'slack: { defaultChannel: "#chaos" }',
      'runs: { concurrency: 4 }',
    ].join('\n');
    const c = loadConfig({ file: file('full.yaml', text), env: {} });
    expect(c.repo).toEqual({ url: 'https://git.example.com/chaos/experiments.git', branch: 'release', paths: ['chaos/**/*.yaml'], pollIntervalMs: 90_000, workdir: '/var/lib/faultline/repo' });
    expect(c.redis).toEqual({ url: 'redis://redis:6379/2', prefix: 'fl' });
    expect(c.server).toMatchObject({ port: 9090, bodyLimitBytes: 262144, readRequiresToken: true });
    expect(c.kubernetes).toEqual({ namespace: 'chaos-system', context: 'prod', customResources: true, customResourceTargets: 'any' });
    // The controller's own namespace is added even to a list that replaces the defaults.
    expect(c.safety.protectedNamespaces).toEqual(['kube-system', 'payments', 'chaos-system']);
    expect(c.safety.optInLabel).toEqual({ key: 'example.com/chaos', value: 'yes' });
    expect(c.safety.freezeWindows).toEqual([{ days: [5, 6], start: '18:00', end: '08:00', timezone: 'Europe/Berlin' }]);
    expect(c.gitHost).toEqual({ type: 'gitlab', apiUrl: 'https://gitlab.example.com/api/v4', repository: 'chaos/experiments' });
    expect(c.slack).toEqual({ defaultChannel: '#chaos' });
    expect(c.runs.concurrency).toBe(4);
  });

  it('reports every schema error at once with file:line:column and the field', () => {
    const text = [
      '# controller config',
      'repo:',
      '  url: https://git.example.com/chaos/experiments.git',
      '  pollInterval: 30 seconds',
      'server:',
      '  port: 70000',
      'safety:',
      '  maxBlastRadiusPercent: 150',
      '  maxTarget: 5',
      '  allowedWindows:',
      '    - { start: "9:00", end: "17:00" }',
      'gitHost: { type: bitbucket, apiUrl: "https://x.example.com", repository: a/b }',
    ].join('\n');
    const path = file('faultline.yaml', text);
    const err = errorOf(() => loadConfig({ file: path, env: {} }));
    const lines = err.message.split('\n');
    expect(lines).toEqual([
      `${path}:${at(text, 'pollInterval', '30 seconds')}: repo.pollInterval: must be a duration such as 500ms, 30s, 5m, 1h30m`,
      `${path}:${at(text, 'port:', '70000')}: server.port: must be <= 65535`,
      `${path}:${at(text, 'maxBlastRadiusPercent', '150')}: safety.maxBlastRadiusPercent: must be <= 100`,
      `${path}:${at(text, 'maxTarget:', 'maxTarget')}: safety.maxTarget: is not a known field`,
      `${path}:${at(text, '9:00', '"9:00"')}: safety.allowedWindows[0].start: must match pattern "^([01][0-9]|2[0-3]):[0-5][0-9]$"`,
      `${path}:${at(text, 'bitbucket', 'bitbucket')}: gitHost.type: must be one of: github, gitlab, gitea`,
    ]);
    expect(err.problems.find((p) => p.field === 'safety.maxBlastRadiusPercent')).toEqual({
      source: path,
      line: 8,
      column: 26,
      field: 'safety.maxBlastRadiusPercent',
      message: 'must be <= 100',
    });
  });

  it('egress: allow lists from the file and the environment, bad CIDRs at their place', () => {
    const text = ['egress:', '  allowHosts: ["*.svc", status.example.com]', '  allowCidrs: [10.0.0.0/8, 10.0.0.0/33, "::1", nonsense]', '  exposeResponses: true'].join('\n');
    const path = file('egress.yaml', text);
    const err = errorOf(() => loadConfig({ file: path, env: URL_ENV }));
    expect(err.message.split('\n')).toEqual([
      `${path}:${at(text, 'allowCidrs', '10.0.0.0/33')}: egress.allowCidrs[1]: "10.0.0.0/33" is not an address or CIDR (e.g. 10.0.0.0/8, fd00::/8, 127.0.0.1)`,
      `${path}:${at(text, 'allowCidrs', 'nonsense')}: egress.allowCidrs[3]: "nonsense" is not an address or CIDR (e.g. 10.0.0.0/8, fd00::/8, 127.0.0.1)`,
    ]);
    const ok = loadConfig({ file: file('egress-ok.yaml', text.replace(', 10.0.0.0/33', '').replace(', nonsense', '')), env: { ...URL_ENV, FAULTLINE_EGRESS_ALLOW_CIDRS: '127.0.0.1/32, ::1' } });
    expect(ok.egress).toEqual({ allowHosts: ['*.svc', 'status.example.com'], allowCidrs: ['127.0.0.1/32', '::1'], exposeResponses: true });
    const bad = errorOf(() => loadConfig({ env: { ...URL_ENV, FAULTLINE_EGRESS_ALLOW_CIDRS: '127.0.0.1/99' } }));
    expect(bad.message).toBe('env FAULTLINE_EGRESS_ALLOW_CIDRS: egress.allowCidrs[0]: "127.0.0.1/99" is not an address or CIDR (e.g. 10.0.0.0/8, fd00::/8, 127.0.0.1)');
  });

  it('refuses secrets written into the file and says where they belong', () => {
    const text = 'repo:\n  url: https://git.example.com/x.git\n  token: ghp_secret\nserver:\n  webhookSecrets: [abc]\n';
    const path = file('secrets.yaml', text);
    const err = errorOf(() => loadConfig({ file: path, env: {} }));
    expect(err.message).toContain(`${path}:3:3: repo.token: secrets are not read from the config file: use FAULTLINE_REPO_TOKEN(_FILE) or repo.tokenFile`);
    expect(err.message).toContain(`${path}:5:3: server.webhookSecrets: secrets are not read from the config file`);
    expect(err.message).not.toContain('ghp_secret');
  });

  it('reports YAML syntax errors with their position', () => {
    const path = file('broken.yaml', 'repo:\n  url: https://x.example.com/r.git\n  paths: [a, b\nserver: {}\n');
    const err = errorOf(() => loadConfig({ file: path, env: {} }));
    expect(err.problems).toHaveLength(1);
    expect(err.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `));
  });

  it('names an unreadable config file', () => {
    const err = errorOf(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} }));
    expect(err.message).toContain('missing.yaml: cannot read config file');
  });
});

describe('loadConfig environment', () => {
  it('overrides the file', () => {
    const path = file('base.yaml', 'repo:\n  url: https://a.example.com/r.git\n  branch: main\n  pollInterval: 5m\nserver: { port: 9000 }\n');
    const c = loadConfig({
      file: path,
      env: {
        FAULTLINE_REPO_URL: 'https://b.example.com/r.git',
        FAULTLINE_BRANCH: 'prod',
        REDIS_URL: 'redis://redis.example:6380',
        FAULTLINE_POLL_INTERVAL: '45s',
        FAULTLINE_PORT: '8181',
        FAULTLINE_NAMESPACE: 'chaos',
        KUBECONFIG: '/home/a/.kube/config:/home/a/.kube/other',
        FAULTLINE_INJECTOR_IMAGE: 'registry.example.com/injector:1.2.3',
      },
    });
    expect(c.repo).toMatchObject({ url: 'https://b.example.com/r.git', branch: 'prod', pollIntervalMs: 45_000 });
    expect(c.redis.url).toBe('redis://redis.example:6380');
    expect(c.server.port).toBe(8181);
    expect(c.kubernetes).toEqual({ namespace: 'chaos', kubeconfig: '/home/a/.kube/config', customResources: false, customResourceTargets: 'own-namespace' });
    expect(c.safety.protectedNamespaces).toContain('chaos');
    expect(c.injector.image).toBe('registry.example.com/injector:1.2.3');
    expect(loadConfig({ env: { ...URL_ENV, KUBECONFIG: '/a', FAULTLINE_KUBECONFIG: '/b' } }).kubernetes.kubeconfig).toBe('/b');
    expect(loadConfig({ env: { ...URL_ENV, FAULTLINE_POLL_INTERVAL: '0s' } }).repo.pollIntervalMs).toBe(0);
  });

  it('reports bad environment values against the variable', () => {
    const err = errorOf(() => loadConfig({ env: { ...URL_ENV, FAULTLINE_PORT: 'eighty', FAULTLINE_POLL_INTERVAL: '30', REDIS_URL: 'http://nope' } }));
    expect(err.message.split('\n').sort()).toEqual([
      'env FAULTLINE_POLL_INTERVAL: repo.pollInterval: must be a duration such as 500ms, 30s, 5m, 1h30m',
      'env FAULTLINE_PORT: server.port: must be integer',
      'env REDIS_URL: redis.url: must match pattern "^rediss?://"',
    ]);
  });

  it('takes secrets from variables and mounted files, several webhook secrets at once', () => {
    const webhookFile = file('webhook-secret', 'from-file-1\nfrom-file-2\n');
    const repoTokenFile = file('repo-token', 'ghp_fromfile\n');
    const apiTokenFile = file('api-token', 'api-from-file');
    const c = loadConfig({
      env: {
        ...URL_ENV,
        FAULTLINE_WEBHOOK_SECRET: 'a, b',
        FAULTLINE_WEBHOOK_SECRET_FILE: webhookFile,
        FAULTLINE_REPO_TOKEN_FILE: repoTokenFile,
        FAULTLINE_API_TOKEN_FILE: apiTokenFile,
        SLACK_BOT_TOKEN: 'xoxb-1',
        SLACK_WEBHOOK_URL: 'https://hooks.slack.example/T/B/X',
      },
    });
    expect(c.server.webhookSecrets).toEqual(['a', 'b', 'from-file-1', 'from-file-2']);
    expect(c.repo.token).toBe('ghp_fromfile');
    expect(c.repo.username).toBe('x-access-token');
    expect(c.server.apiToken).toBe('api-from-file');
    expect(c.slack).toEqual({ botToken: 'xoxb-1', webhookUrl: 'https://hooks.slack.example/T/B/X' });
    // A variable wins over its _FILE twin.
    expect(loadConfig({ env: { ...URL_ENV, FAULTLINE_API_TOKEN: 'direct', FAULTLINE_API_TOKEN_FILE: apiTokenFile } }).server.apiToken).toBe('direct');
  });

  it('reads secret files named in the config file', () => {
    const tokenFile = file('host-token', 'glpat-123');
    const secretFile = file('wh', 'one');
    const path = file(
      'with-files.yaml',
      `repo: { url: "https://x.example.com/r.git" }\nserver: { webhookSecretFiles: ["${secretFile}"] }\ngitHost: { type: github, apiUrl: "https://api.github.com", repository: o/r, tokenFile: "${tokenFile}" }\n`,
    );
    const c = loadConfig({ file: path, env: {} });
    expect(c.server.webhookSecrets).toEqual(['one']);
    expect(c.gitHost).toEqual({ type: 'github', apiUrl: 'https://api.github.com', repository: 'o/r', token: 'glpat-123' });
  });

  it('names a missing or empty secret file', () => {
    const empty = file('empty-secret', '\n');
    const err = errorOf(() => loadConfig({ env: { ...URL_ENV, FAULTLINE_REPO_TOKEN_FILE: join(dir, 'nope'), FAULTLINE_WEBHOOK_SECRET_FILE: empty } }));
    expect(err.message).toContain(`env FAULTLINE_REPO_TOKEN_FILE: repo.tokenFile: cannot read secret file ${join(dir, 'nope')}: ENOENT`);
    expect(err.message).toContain(`env FAULTLINE_WEBHOOK_SECRET_FILE: server.webhookSecretFiles: secret file ${empty} is empty`);
  });
});

describe('parseDuration', () => {
  it('parses compound durations and rejects anything else', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    for (const bad of ['', '30', '1.5s', '5 m', 's', '1d', '-1s', '30s ']) expect(() => parseDuration(bad), bad).toThrow();
  });
});

describe('git host kinds', () => {
  it('the config schema lists exactly the host kinds of the registry in src/hosts/index.ts', async () => {
    const { HOST_KINDS, HOSTS } = await import('../../src/hosts/index.js');
    const schema = JSON.parse(readFileSync(new URL('../../schemas/controller-config.schema.json', import.meta.url), 'utf8')) as { properties: { gitHost: { properties: { type: { enum: string[] } } } } };
    expect(schema.properties.gitHost.properties.type.enum).toEqual([...HOST_KINDS]);
    for (const kind of HOST_KINDS) expect(HOSTS[kind].kind).toBe(kind);
  });
});
