// The egress policy on URL text (validate/plan time) and the guarded fetch at connect time,
// against loopback stand-ins that count what reaches them.
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_EGRESS, EgressPolicy, EgressRefused, guardedFetch, reservedEndpoints } from '../../src/egress/index.js';
import { checkHttp, checkPrometheus } from '../../src/probes/index.js';
import { standIn, type StandIn } from './stand-in.js';

const servers: StandIn[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const reserved = reservedEndpoints({ serverPort: 8080, redisUrl: 'redis://127.0.0.1:6379', apiServerUrl: 'https://10.96.0.1:443', env: {} });

describe('egress policy on URL text', () => {
  const policy = new EgressPolicy(DEFAULT_EGRESS, reserved);
  const refused: [string, RegExp][] = [
    ['http://169.254.169.254/latest/meta-data/', /cloud metadata/],
    ['http://[fd00:ec2::254]/latest/', /cloud metadata/],
    ['http://[::ffff:169.254.169.254]/', /cloud metadata/],
    ['http://127.0.0.1:9999/', /loopback/],
    ['http://0x7f000001/', /loopback/],
    ['http://2130706433/', /loopback/],
    ['http://[::1]/', /loopback/],
    ['http://0.0.0.0:8080/api/experiments', /controller's own port/],
    ['http://127.0.0.1:8080/api/experiments', /controller's own port/],
    ['http://localhost:6379/', /Redis/],
    ['http://169.254.1.1/', /link-local/],
    ['https://10.96.0.1/api', /Kubernetes API server/],
    ['https://kubernetes.default.svc/api', /Kubernetes API server/],
    ['https://example.com/', /not in egress.allowHosts/],
    ['http://10.1.2.3/', /not in egress.allowCidrs/],
    ['file:///etc/passwd', /only http and https/],
    ['http://user:pw@checkout.shop.svc/', /credentials/],
  ];
  it.each(refused)('refuses %s', (url, why) => {
    expect(policy.checkUrl(url)).toMatch(why);
  });
  it.each(['http://checkout.shop.svc/healthz', 'http://prometheus.monitoring.svc.cluster.local:9090/', 'https://a.b.svc./x'])('allows in-cluster service %s', (url) => {
    expect(policy.checkUrl(url)).toBeUndefined();
  });
  it('explicit allows open loopback stand-ins but never the controller, Redis or metadata', () => {
    const p = new EgressPolicy({ ...DEFAULT_EGRESS, allowCidrs: ['127.0.0.0/8', '169.254.0.0/16'], allowHosts: ['status.example.com'] }, reserved);
    expect(p.checkUrl('http://127.0.0.1:9999/')).toBeUndefined();
    expect(p.checkUrl('https://status.example.com/')).toBeUndefined();
    expect(p.checkUrl('http://127.0.0.1:8080/')).toMatch(/controller's own port/);
    expect(p.checkUrl('http://127.0.0.1:6379/')).toMatch(/Redis/);
    expect(p.checkUrl('http://169.254.169.254/')).toMatch(/metadata/);
  });
});

describe('guarded fetch at connect time', () => {
  it('a name allowed on paper that resolves to a loopback stand-in is refused, and the stand-in is never contacted', async () => {
    const internal = await standIn();
    servers.push(internal);
    // DNS rebinding: the name passed validation; at connect time it points inside.
    const policy = new EgressPolicy(DEFAULT_EGRESS, reserved);
    const f = guardedFetch(policy, { lookup: async (h) => (h === 'rebind.evil.svc' ? [{ address: '127.0.0.1' }] : []) });
    const url = `http://rebind.evil.svc:${internal.port}/latest/meta-data/`;
    expect(policy.checkUrl(url)).toBeUndefined(); // the text is fine: an in-cluster name
    await expect(f(url)).rejects.toThrow(EgressRefused);
    await expect(f(url)).rejects.toThrow(/resolves to address 127\.0\.0\.1 is a loopback address/);
    const r = await checkHttp({ url, bodyMatch: 'AKIA' }, { fetch: f });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/egress refused/);
    expect(internal.hits).toEqual([]);
    await f.close();
  });

  it('a mixed answer (one address inside) is refused as a whole', async () => {
    const internal = await standIn();
    servers.push(internal);
    const f = guardedFetch(new EgressPolicy(DEFAULT_EGRESS, reserved), { lookup: async () => [{ address: '10.0.0.7' }, { address: '169.254.169.254' }] });
    await expect(f(`http://mixed.x.svc:${internal.port}/`)).rejects.toThrow(/cloud metadata/);
    expect(internal.hits).toEqual([]);
    await f.close();
  });

  it('an explicitly allowed stand-in is reached; redirects are not followed', async () => {
    const target = await standIn('fine');
    servers.push(target);
    const f = guardedFetch(new EgressPolicy({ ...DEFAULT_EGRESS, allowCidrs: ['127.0.0.1/32'] }, reserved));
    const r = await checkHttp({ url: `${target.url}/healthz`, bodyMatch: 'fine' }, { fetch: f });
    expect(r).toMatchObject({ ok: true });
    expect(target.hits).toEqual(['GET /healthz']);
    await f.close();
  });

  it('the controller port reserved after listening is refused even when loopback is allowed', async () => {
    const own = await standIn('{"experiments":[]}');
    servers.push(own);
    const policy = new EgressPolicy({ ...DEFAULT_EGRESS, allowCidrs: ['127.0.0.0/8'] }, []);
    policy.reserve({ host: 'self', port: own.port, what: "the controller's own port" });
    const f = guardedFetch(policy);
    await expect(f(`http://127.0.0.1:${own.port}/api/experiments`)).rejects.toThrow(/controller's own port/);
    await expect(f(`http://localhost:${own.port}/api/experiments`)).rejects.toThrow(/controller's own port/);
    expect(own.hits).toEqual([]);
    await f.close();
  });
});

describe('probe results do not echo response content', () => {
  it('a Prometheus stand-in answering its secret in the error field: the secret is not in the probe error unless config allows it', async () => {
    const secret = 'internal-token-1234';
    const prom = await standIn(JSON.stringify({ status: 'error', error: secret }), 400);
    servers.push(prom);
    const spec = { url: prom.url, query: 'up', op: '>' as const, threshold: 0 };
    const hidden = await checkPrometheus(spec);
    expect(hidden.ok).toBe(false);
    expect(hidden.error).toBe('query failed: status 400');
    const shown = await checkPrometheus(spec, { exposeResponses: true });
    expect(shown.error).toContain(secret);
  });
  it('a body that is not JSON is not quoted by the parse error', async () => {
    const prom = await standIn('SECRET-ACCESS-KEY=AKIAEXAMPLE');
    servers.push(prom);
    const r = await checkPrometheus({ url: prom.url, query: 'up', op: '>', threshold: 0 });
    expect(r.ok).toBe(false);
    expect(r.error).not.toContain('AKIA');
  });
});
