// Every Kubernetes object in deploy/ validates against the OpenAPI schema of its kind (unknown
// fields rejected), the kustomizations are consistent, the objects refer to each other
// correctly, and the controller Deployment runs with the configuration src/config reads.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { allManifests, isKustomization, loadDocs, name, parseDocs, ROOT, yamlFiles } from './manifests.js';
import { validateObject } from './schema.js';

type Obj = Record<string, unknown>;
type Labels = Record<string, string>;

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'ValidatingWebhookConfiguration', 'PriorityClass', 'StorageClass', 'PersistentVolume']);
const manifests = allManifests();
const meta = (o: Obj) => (o.metadata ?? {}) as { name?: string; namespace?: string; labels?: Labels };
const find = (kind: string, nm?: string) => manifests.filter((d) => d.obj.kind === kind && (nm === undefined || meta(d.obj).name === nm));
const one = (kind: string, nm?: string): Obj => {
  const found = find(kind, nm);
  expect(found, `exactly one ${kind}${nm ? ` ${nm}` : ''} in deploy/`).toHaveLength(1);
  return found[0]!.obj;
};
const matches = (selector: Labels | undefined, labels: Labels | undefined) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

interface Container { name: string; ports?: { name?: string; containerPort: number }[]; env?: { name: string; value?: string; valueFrom?: Obj }[]; volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[]; [k: string]: unknown }
interface PodSpec { containers: Container[]; volumes?: ({ name: string } & Obj)[]; serviceAccountName?: string; securityContext?: Obj; [k: string]: unknown }
const podSpec = (d: Obj) => ((d.spec as Obj).template as Obj).spec as PodSpec;
const podLabels = (d: Obj) => (((d.spec as Obj).template as Obj).metadata as { labels: Labels }).labels;

describe('deploy/ manifests against the Kubernetes OpenAPI schemas', () => {
  it('finds the manifests', () => {
    const kinds = new Set(manifests.map((d) => d.obj.kind));
    for (const k of ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ConfigMap', 'Deployment', 'Service', 'NetworkPolicy', 'ServiceMonitor', 'PrometheusRule', 'Secret', 'PodDisruptionBudget']) {
      expect(kinds, `a ${k} in deploy/`).toContain(k);
    }
    // The example secret and the optional Redis are validated too.
    expect(manifests.some((d) => d.file === 'deploy/base/secret.example.yaml')).toBe(true);
    expect(manifests.some((d) => d.file.startsWith('deploy/redis/'))).toBe(true);
  });

  it.each(manifests.map((d) => [name(d), d] as const))('%s is valid for its kind', async (_label, d) => {
    expect(await validateObject(d.obj)).toEqual([]);
  });

  it('a broken manifest fails: unknown fields, wrong types, missing required fields', async () => {
    const dep = structuredClone(one('Deployment', 'faultline'));
    const c = podSpec(dep).containers[0]!;
    c.imagePullPolcy = 'Always'; // typo
    (dep.spec as Obj).replicas = 'two';
    delete (dep.spec as Obj).selector;
    (dep.metadata as Obj).lables = { a: 'b' };
    const problems = await validateObject(dep);
    expect(problems).toEqual(expect.arrayContaining([
      { path: '/spec/template/spec/containers/0/imagePullPolcy', message: 'unknown field' },
      { path: '/metadata/lables', message: 'unknown field' },
      { path: '/spec/replicas', message: 'must be integer' },
      expect.objectContaining({ path: '/spec', message: expect.stringContaining('selector') as string }),
    ]));
    // Unknown top-level fields and fields of the prometheus-operator kinds too.
    const sm = structuredClone(one('ServiceMonitor'));
    ((sm.spec as Obj).endpoints as Obj[])[0]!.intervall = '30s';
    sm.specs = {};
    expect(await validateObject(sm)).toEqual(expect.arrayContaining([
      { path: '/spec/endpoints/0/intervall', message: 'unknown field' },
      { path: '/specs', message: 'unknown field' },
    ]));
    const rule = structuredClone(one('PrometheusRule'));
    (((rule.spec as Obj).groups as Obj[])[0]!.rules as Obj[])[0]!.for = 5;
    expect((await validateObject(rule)).map((p) => p.path)).toContain('/spec/groups/0/rules/0/for');
    // A role rule with a misspelled key, and a kind that does not exist.
    expect(await validateObject({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'x' }, rules: [{ apiGroup: [''], resources: ['pods'], verb: ['get'] }] }))
      .toEqual(expect.arrayContaining([
        { path: '/rules/0/apiGroup', message: 'unknown field' },
        { path: '/rules/0/verb', message: 'unknown field' },
        expect.objectContaining({ path: '/rules/0', message: expect.stringContaining('verbs') as string }),
      ]));
    await expect(validateObject({ apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } })).rejects.toThrow(/no schema/);
    // Maps (labels, data) are free of course; a valid object gives nothing.
    expect(await validateObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', labels: { anything: 'goes' } }, data: { 'a.yaml': 'x' } })).toEqual([]);
  });

  it('parse errors in a manifest are reported with the file', () => {
    expect(() => parseDocs('deploy/x.yaml', 'a: [1\n')).toThrow(/deploy\/x\.yaml document 0/);
  });
});

describe('kustomizations', () => {
  const kustomizations = yamlFiles().filter(isKustomization);
  const KNOWN = new Set(['apiVersion', 'kind', 'namespace', 'namePrefix', 'nameSuffix', 'labels', 'commonLabels', 'commonAnnotations', 'resources', 'components', 'patches', 'images', 'replicas', 'configMapGenerator', 'secretGenerator', 'generatorOptions']);

  it('there are three: deploy/base, the CRDs and the optional deploy/redis', () => {
    expect(kustomizations).toEqual(['deploy/base/kustomization.yaml', 'deploy/crds/kustomization.yaml', 'deploy/redis/kustomization.yaml']);
  });

  it.each(kustomizations)('%s lists existing files, all of its folder, in its namespace', (file) => {
    const [k] = loadDocs(file).map((d) => d.obj);
    expect(k!.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
    expect(k!.kind).toBe('Kustomization');
    for (const key of Object.keys(k!)) expect(KNOWN, `${file}: field ${key}`).toContain(key);
    const dir = dirname(file);
    const resources = k!.resources as string[];
    expect(Array.isArray(resources) && resources.length > 0).toBe(true);
    expect(new Set(resources).size, 'no resource listed twice').toBe(resources.length);
    for (const r of resources) {
      expect(isAbsolute(r) || r.includes('..'), `${r} stays inside ${dir}`).toBe(false);
      expect(existsSync(join(ROOT, dir, r)), `${dir}/${r} exists`).toBe(true);
    }
    // Every manifest in the folder is listed, except examples meant to be created by hand.
    const inDir = readdirSync(join(ROOT, dir)).filter((f) => /\.ya?ml$/.test(f) && !isKustomization(f) && !/\.example\.ya?ml$/.test(f));
    expect(new Set(resources)).toEqual(new Set(inDir));
    // The namespace transformer agrees with what the files say (so `kubectl apply -f` works too).
    for (const r of resources) {
      for (const d of loadDocs(posix.join(dir, r))) {
        const ns = meta(d.obj).namespace;
        if (CLUSTER_SCOPED.has(String(d.obj.kind))) expect(ns, `${name(d)} is cluster-scoped`).toBeUndefined();
        else expect(ns, `${name(d)} namespace`).toBe(k!.namespace);
      }
    }
  });

  it('the example secret is not applied by the base (its values are placeholders)', () => {
    const base = loadDocs('deploy/base/kustomization.yaml')[0]!.obj;
    expect(base.resources).not.toContain('secret.example.yaml');
  });

  it('no two objects share kind, namespace and name', () => {
    const keys = manifests.map((d) => `${String(d.obj.kind)}/${meta(d.obj).namespace ?? ''}/${meta(d.obj).name}`);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });
});

describe('references between the objects', () => {
  it('Deployments, Services, NetworkPolicies, PDBs and the ServiceMonitor select what they mean to', () => {
    for (const d of find('Deployment')) {
      const sel = ((d.obj.spec as Obj).selector as { matchLabels: Labels }).matchLabels;
      expect(matches(sel, podLabels(d.obj)), `${name(d)} selector matches its pod template`).toBe(true);
    }
    for (const s of find('Service')) {
      const spec = s.obj.spec as { selector: Labels; ports: { name?: string; port: number; targetPort: string | number }[] };
      const backends = find('Deployment').filter((d) => meta(d.obj).namespace === meta(s.obj).namespace && matches(spec.selector, podLabels(d.obj)));
      expect(backends, `${name(s)} selects exactly one Deployment's pods`).toHaveLength(1);
      const ports = podSpec(backends[0]!.obj).containers.flatMap((c) => c.ports ?? []);
      for (const p of spec.ports) {
        expect(ports.some((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort), `${name(s)} targetPort ${p.targetPort}`).toBe(true);
      }
    }
    const controller = one('Deployment', 'faultline');
    const controllerPorts = podSpec(controller).containers[0]!.ports!;
    const np = one('NetworkPolicy', 'faultline');
    expect(matches(((np.spec as Obj).podSelector as { matchLabels: Labels }).matchLabels, podLabels(controller))).toBe(true);
    for (const rule of (np.spec as { ingress: { ports: { port: number | string }[] }[] }).ingress) {
      for (const p of rule.ports) expect(controllerPorts.some((cp) => cp.containerPort === p.port || cp.name === p.port)).toBe(true);
    }
    for (const pdb of find('PodDisruptionBudget')) {
      const sel = ((pdb.obj.spec as Obj).selector as { matchLabels: Labels }).matchLabels;
      const selected = find('Deployment').filter((d) => meta(d.obj).namespace === meta(pdb.obj).namespace && matches(sel, podLabels(d.obj)));
      expect(selected, `${name(pdb)} selects one Deployment`).toHaveLength(1);
      const spec = pdb.obj.spec as { minAvailable?: number; maxUnavailable?: number };
      const replicas = (selected[0]!.obj.spec as { replicas: number }).replicas;
      // A PDB that allows no disruption at all would block node drains forever.
      if (spec.minAvailable !== undefined) expect(spec.minAvailable).toBeLessThan(replicas);
    }
    const sm = one('ServiceMonitor');
    const svc = one('Service', 'faultline');
    expect(matches(((sm.spec as Obj).selector as { matchLabels: Labels }).matchLabels, meta(svc).labels)).toBe(true);
    const svcPorts = (svc.spec as { ports: { name?: string }[] }).ports.map((p) => p.name);
    for (const e of (sm.spec as { endpoints: { port: string; path: string }[] }).endpoints) {
      expect(svcPorts).toContain(e.port);
      expect(e.path).toBe('/metrics');
    }
    const redis = find('Deployment', 'faultline-redis');
    if (redis.length) {
      const rp = find('NetworkPolicy', 'faultline-redis');
      expect(rp, 'the quick-start Redis (no password) only accepts the controller').toHaveLength(1);
      const spec = rp[0]!.obj.spec as { podSelector: { matchLabels: Labels }; ingress: { from: { podSelector: { matchLabels: Labels } }[] }[] };
      expect(matches(spec.podSelector.matchLabels, podLabels(redis[0]!.obj))).toBe(true);
      expect(spec.ingress.flatMap((r) => r.from).every((f) => matches(f.podSelector.matchLabels, podLabels(controller)))).toBe(true);
    }
  });

  it('bindings refer to the roles and the ServiceAccount the Deployment runs as', () => {
    const sa = one('ServiceAccount', 'faultline');
    expect(podSpec(one('Deployment', 'faultline')).serviceAccountName).toBe(meta(sa).name);
    for (const b of [...find('ClusterRoleBinding'), ...find('RoleBinding')]) {
      const ref = b.obj.roleRef as { kind: string; name: string; apiGroup: string };
      expect(ref.apiGroup).toBe('rbac.authorization.k8s.io');
      const role = find(ref.kind, ref.name);
      expect(role, `${name(b)} roleRef`).toHaveLength(1);
      if (b.obj.kind === 'RoleBinding') expect(meta(role[0]!.obj).namespace).toBe(meta(b.obj).namespace);
      expect(b.obj.subjects).toEqual([{ kind: 'ServiceAccount', name: meta(sa).name, namespace: meta(sa).namespace }]);
    }
  });

  it('volumes refer to the ConfigMap and the Secret (as in the example) that exist', () => {
    const spec = podSpec(one('Deployment', 'faultline'));
    for (const v of spec.volumes ?? []) {
      if (v.configMap) expect(find('ConfigMap', (v.configMap as { name: string }).name)).toHaveLength(1);
      if (v.secret) expect(find('Secret', (v.secret as { secretName: string }).secretName)).toHaveLength(1);
    }
    for (const c of spec.containers) for (const m of c.volumeMounts ?? []) expect(spec.volumes?.map((v) => v.name)).toContain(m.name);
  });
});

// Environment variable names the code reads: string literals and env.X accesses in src/
// (a secret NAME is also read as NAME_FILE).
function envNamesInCode(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) { if (e.name !== 'sim') walk(p); continue; }
      if (!p.endsWith('.ts')) continue;
      const text = readFileSync(p, 'utf8');
      for (const m of text.matchAll(/['"`]([A-Z][A-Z0-9_]{2,})['"`]|\benv\.([A-Z][A-Z0-9_]{2,})/g)) {
        const n = (m[1] ?? m[2])!;
        names.add(n).add(`${n}_FILE`);
      }
    }
  };
  walk(join(ROOT, 'src'));
  return names;
}

describe('the controller Deployment', () => {
  const dep = one('Deployment', 'faultline');
  const spec = podSpec(dep);
  const c = spec.containers[0]!;

  it('runs two replicas with probes on /readyz and /healthz, non-root, read-only, with requests', () => {
    expect((dep.spec as Obj).replicas).toBe(2);
    const probe = (k: string) => c[k] as { httpGet: { path: string; port: string }; timeoutSeconds?: number };
    expect(probe('readinessProbe').httpGet.path).toBe('/readyz');
    expect(probe('livenessProbe').httpGet.path).toBe('/healthz');
    // /readyz checks Redis and Git with a 3 s limit each: the probe must wait longer than that.
    expect(probe('readinessProbe').timeoutSeconds).toBeGreaterThan(3);
    for (const k of ['readinessProbe', 'livenessProbe']) expect(c.ports!.map((p) => p.name)).toContain(probe(k).httpGet.port);
    expect(spec.securityContext?.runAsNonRoot).toBe(true);
    expect(spec.securityContext?.runAsUser).toBeGreaterThan(0);
    const sc = c.securityContext as { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean; capabilities: { drop: string[] } };
    expect(sc.readOnlyRootFilesystem).toBe(true);
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(sc.capabilities.drop).toEqual(['ALL']);
    const requests = (c.resources as { requests: Labels }).requests;
    expect(requests.cpu).toBeTruthy();
    expect(requests.memory).toBeTruthy();
    expect(c.ports!.map((p) => p.containerPort)).toContain(8080);
  });

  const writableMounts = () => (c.volumeMounts ?? [])
    .filter((m) => !m.readOnly && spec.volumes?.find((v) => v.name === m.name)?.emptyDir !== undefined)
    .map((m) => m.mountPath);
  const under = (path: string, dirs: string[]) => dirs.some((d) => path === d || path.startsWith(`${d.replace(/\/$/, '')}/`));

  it('every env name is one src/ reads', () => {
    const known = envNamesInCode();
    for (const e of c.env ?? []) expect(known, `env ${e.name}`).toContain(e.name);
  });

  it('the mounted config, env and example secret load through src/config; the workdir and /tmp are writable', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'fl-deploy-'));
    try {
      // Lay out the pod's files: the ConfigMap and Secret keys where the volume mounts put them.
      const files = new Map<string, string>();
      for (const m of c.volumeMounts ?? []) {
        const v = spec.volumes!.find((x) => x.name === m.name)!;
        let data: Record<string, string> = {};
        if (v.configMap) data = (one('ConfigMap', (v.configMap as { name: string }).name).data ?? {}) as Record<string, string>;
        if (v.secret) data = (one('Secret', (v.secret as { secretName: string }).secretName).stringData ?? {}) as Record<string, string>;
        for (const [k, text] of Object.entries(data)) files.set(posix.join(m.mountPath, k), text);
      }
      const local = (p: string) => join(tmp, p);
      for (const [p, text] of files) {
        const target = local(p);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, text);
      }
      const env: Record<string, string> = {};
      for (const e of c.env ?? []) {
        if (e.value !== undefined) env[e.name] = e.value.startsWith('/') && files.has(e.value) ? local(e.value) : e.value;
        else if ((e.valueFrom?.fieldRef as { fieldPath?: string } | undefined)?.fieldPath === 'metadata.namespace') env[e.name] = meta(dep).namespace!;
      }
      // Every *_FILE env points at a file the pod has.
      for (const [k, v] of Object.entries(env)) if (k.endsWith('_FILE')) expect(existsSync(v), `${k}=${v}`).toBe(true);
      const args = c.args as string[];
      const configPath = args[args.indexOf('--config') + 1]!;
      expect(files.has(configPath), `--config ${configPath} is mounted`).toBe(true);
      const config = loadConfig({ file: local(configPath), env });
      expect(config.kubernetes.namespace).toBe(meta(dep).namespace);
      expect(config.safety.protectedNamespaces).toContain(meta(dep).namespace);
      expect(config.repo.token).toBe('replace-me');
      expect(config.server.apiToken).toBe('replace-me');
      expect(config.server.webhookSecrets).toEqual(['replace-me']);
      const redisSvc = find('Service', 'faultline-redis');
      if (redisSvc.length) expect(config.redis.url).toBe(`redis://${meta(redisSvc[0]!.obj).name}:${(redisSvc[0]!.obj.spec as { ports: { port: number }[] }).ports[0]!.port}`);
      expect(config.server.port).toBe(8080);
      // The root filesystem is read-only: the git workdir and /tmp must be writable mounts.
      expect(isAbsolute(config.repo.workdir), `repo.workdir ${config.repo.workdir} is absolute`).toBe(true);
      expect(under(config.repo.workdir, writableMounts()), `repo.workdir ${config.repo.workdir} is on a writable volume`).toBe(true);
      expect(under('/tmp', writableMounts()), '/tmp is a writable volume').toBe(true);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
