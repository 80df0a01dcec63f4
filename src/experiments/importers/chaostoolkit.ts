// Chaos Toolkit experiments (JSON or YAML, no apiVersion: recognised by title + method), also
// the operator's ConfigMap carrying one as data["experiment.json"]. The method's one fault
// action (chaosk8s terminate_pods → pod-kill) becomes the fault; steady-state probes become
// Faultline probes or refuse the experiment (a hypothesis is never dropped). `${name}` values
// come from the configuration: literals, or environment variables the user gives explicitly
// (`faultline import --set KEY=VALUE`), never the controller's own environment.
import { ImportBuilder, isObj, nativeDoc, num, parseSelectorString, shown, type Obj } from './common.js';
import type { ImportContext, Importer, ImportResult } from './types.js';

const INSTANT_WINDOW_S = 30; // terminate_pods acts once; the run watches its probes this long
const MAX_EMBEDDED = 256 * 1024;

const isExperiment = (d: Obj) => d.apiVersion === undefined && d.kind === undefined && typeof d.title === 'string' && Array.isArray(d.method);
const embedded = (d: Obj): string | undefined => {
  if (d.apiVersion !== 'v1' || d.kind !== 'ConfigMap' || !isObj(d.data)) return undefined;
  const text = d.data['experiment.json'];
  return typeof text === 'string' ? text : undefined;
};

export const chaosToolkitImporter: Importer = {
  describe: (doc) => (embedded(doc) !== undefined ? 'Chaos Toolkit experiment (ConfigMap experiment.json)' : 'Chaos Toolkit experiment'),
  matches: (_a, _k, doc) => isExperiment(doc) || embedded(doc) !== undefined,
  import(doc: Obj, ctx: ImportContext): ImportResult {
    const b = new ImportBuilder();
    const text = embedded(doc);
    if (text === undefined) return importExperiment(doc, '', b, ctx);
    // The operator's ConfigMap: problems point at the data key (no positions inside the string).
    let inner: unknown;
    try {
      inner = text.length <= MAX_EMBEDDED ? JSON.parse(text) : undefined;
    } catch (err) {
      b.fail('/data/experiment.json', `experiment.json is not JSON: ${(err as Error).message}`);
      return b.result(undefined);
    }
    if (!isObj(inner) || !isExperiment(inner)) {
      b.fail('/data/experiment.json', 'experiment.json is not a Chaos Toolkit experiment (title and method) or is over 256 KiB');
      return b.result(undefined);
    }
    const sub = new ImportBuilder();
    const r = importExperiment(inner, '', sub, ctx);
    for (const p of r.problems) b.fail('/data/experiment.json', `${p.pointer ? `${p.pointer.slice(1).replaceAll('/', '.')}: ` : ''}${p.message}`);
    for (const n of r.notes ?? []) b.note(n);
    b.map('/spec', '/data/experiment.json');
    b.map('/metadata', '/data/experiment.json');
    return b.result(b.problems.length ? undefined : r.experiment);
  },
};

function importExperiment(doc: Obj, at: string, b: ImportBuilder, ctx: ImportContext): ImportResult {
  b.onlyKnown(doc, at, ['version', 'title', 'description', 'tags', 'configuration', 'secrets', 'contributions', 'controls', 'steady-state-hypothesis', 'method', 'rollbacks', 'extensions', 'runtime']);
  b.map('/metadata/name', `${at}/title`);
  b.map('/spec/description', `${at}/title`);
  const config = isObj(doc.configuration) ? doc.configuration : {};
  const resolve = resolver(config, ctx, b, at);
  if (Array.isArray(doc.controls) && doc.controls.length) {
    b.note(`controls (${doc.controls.map((c) => (isObj(c) ? String(c.name) : '?')).join(', ')}) are not imported: Faultline records runs itself`);
  }
  if (Array.isArray(doc.rollbacks) && doc.rollbacks.length) {
    b.fail(`${at}/rollbacks`, 'rollbacks are not imported: Faultline reverts its own faults, and runs no other actions');
  }

  // method: exactly one fault action; background load and observation probes are noted
  let fault: { params: Obj; target: Obj; duration: number } | undefined;
  const method = doc.method as unknown[];
  method.forEach((a, i) => {
    const where = `${at}/method/${i}`;
    if (!isObj(a) || !isObj(a.provider)) return b.fail(where, 'an activity needs a provider');
    const name = shown(a.name);
    const p = a.provider;
    const fn = `${String(p.module ?? p.type)}.${String(p.func ?? p.path ?? '')}`;
    if (a.type === 'probe') return b.note(`method probe ${name} (${fn}) is not imported: it only observes`);
    if (p.type === 'python' && p.module === 'chaosk8s.pod.actions' && p.func === 'terminate_pods') {
      if (fault) return b.fail(where, 'a second fault action: a Faultline experiment injects one fault; split it');
      fault = terminatePods(a, where, resolve, b);
      return;
    }
    if (a.background === true && p.type === 'process') return b.note(`background action ${name} (${String(p.path)}) is not imported: Faultline runs no processes; generate that load yourself`);
    b.fail(`${where}/provider`, `action ${name} (${fn}) has no Faultline equivalent${p.func === 'drain_nodes' ? ' (drain evicts pods; node-cordon only cordons)' : ''}`);
  });
  if (!fault && !b.problems.length) b.fail(`${at}/method`, 'the method has no action Faultline can run (supported: chaosk8s.pod.actions terminate_pods)');

  const probes = steadyState(doc['steady-state-hypothesis'], `${at}/steady-state-hypothesis`, resolve, b);
  if (b.problems.length || !fault) return b.result(undefined);
  const name = slug(String(doc.title));
  b.note(`metadata.name ${name}: from the title`);
  return b.result(
    nativeDoc({ name }, {
      description: String(doc.title),
      fault: { type: 'pod-kill', params: fault.params },
      target: fault.target,
      duration: `${fault.duration}s`,
      ...(probes.length ? { steadyState: { probes } } : {}),
    }),
  );
}

function slug(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+/, '').slice(0, 63).replace(/-+$/, '') || 'chaostoolkit-experiment';
}

type Resolve = (v: unknown, at: string) => unknown;

/** `${name}` → the configuration's value; env entries only from values the user gave. */
function resolver(config: Obj, ctx: ImportContext, b: ImportBuilder, at: string): Resolve {
  const value = (name: string, where: string): string | undefined => {
    const c = config[name];
    if (c === undefined) return void b.fail(where, `\${${name}} is not in the configuration`);
    if (typeof c === 'string' || typeof c === 'number' || typeof c === 'boolean') return String(c);
    if (isObj(c) && c.type === 'env' && typeof c.key === 'string') {
      const given = ctx.env[c.key];
      if (given !== undefined) return given;
      if (c.default !== undefined) {
        b.note(`\${${name}}: the default ${shown(c.default)} (environment variable ${c.key} not given)`);
        return String(c.default);
      }
      return void b.fail(where, `\${${name}} comes from the environment variable ${c.key}, which a file cannot know: give it explicitly (faultline import --set ${c.key}=VALUE) or write the value`);
    }
    return void b.fail(`${at}/configuration/${name}`, `configuration ${name} of type ${shown(isObj(c) ? c.type : c)} cannot be resolved (literals and type: env only)`);
  };
  return (v, where) => {
    if (typeof v !== 'string' || !v.includes('${')) return v;
    const whole = /^\$\{([A-Za-z0-9_.-]+)\}$/.exec(v);
    if (whole) return value(whole[1]!, where);
    let failed = false;
    const out = v.replace(/\$\{([A-Za-z0-9_.-]+)\}/g, (_m, n: string) => {
      const r = value(n, where);
      if (r === undefined) failed = true;
      return r ?? '';
    });
    return failed ? undefined : out;
  };
}

// chaosk8s terminate_pods(label_selector, name_pattern, all=False, rand=False, mode='fixed',
// qty=1, grace_period=-1, ns='default', order='alphabetic')
function terminatePods(a: Obj, at: string, resolve: Resolve, b: ImportBuilder): { params: Obj; target: Obj; duration: number } | undefined {
  const args = isObj((a.provider as Obj).arguments) ? ((a.provider as Obj).arguments as Obj) : {};
  const aat = `${at}/provider/arguments`;
  b.onlyKnown(args, aat, ['label_selector', 'name_pattern', 'all', 'rand', 'mode', 'qty', 'grace_period', 'ns', 'order']);
  const arg = (k: string) => resolve(args[k], `${aat}/${k}`);
  if (args.name_pattern !== undefined) b.fail(`${aat}/name_pattern`, 'name_pattern (pods chosen by a regular expression on their names) has no Faultline equivalent: Faultline chooses by labels');
  const sel = arg('label_selector');
  b.map('/spec/target/selector', `${aat}/label_selector`);
  b.map('/spec/target/namespace', `${aat}/ns`);
  b.map('/spec/target/mode', `${aat}/qty`);
  b.map('/spec/fault/params/gracePeriodSeconds', `${aat}/grace_period`);
  if (typeof sel !== 'string' || !sel.trim()) {
    if (sel !== undefined || args.label_selector === undefined) b.fail(args.label_selector === undefined ? aat : `${aat}/label_selector`, 'label_selector is required: without it terminate_pods picks from every pod of the namespace');
    return undefined;
  }
  const selector = parseSelectorString(sel);
  if (typeof selector === 'string') return void b.fail(`${aat}/label_selector`, selector);
  const ns = args.ns === undefined ? 'default' : arg('ns');
  const qty = args.qty === undefined ? 1 : num(arg('qty'));
  const mode = args.mode === undefined ? 'fixed' : arg('mode');
  let targetMode: Obj | undefined;
  if (arg('all') === true || arg('all') === 'true') targetMode = { type: 'all' };
  else if (qty === undefined || qty < 0) b.fail(`${aat}/qty`, `qty ${shown(args.qty)} is not a number of pods or a percentage`);
  else if (mode === 'percentage') targetMode = qty >= 100 ? { type: 'all' } : { type: 'percent', value: qty };
  else if (mode === 'fixed') targetMode = qty === 1 ? { type: 'one' } : { type: 'fixed', value: qty };
  else b.fail(`${aat}/mode`, `mode ${shown(mode)} is not fixed or percentage`);
  if (!(arg('rand') === true || arg('rand') === 'true') && targetMode?.type !== 'all') {
    b.note(`pods chosen by Faultline's seeded choice; terminate_pods without rand takes the first by ${String(arg('order') ?? 'alphabetic')} order`);
  }
  const grace = args.grace_period === undefined ? -1 : num(arg('grace_period'));
  if (grace === undefined) b.fail(`${aat}/grace_period`, `grace_period ${shown(args.grace_period)} is not a number of seconds`);
  else if (grace < 0) b.note('gracePeriodSeconds 30: grace_period -1 deletes with each pod\'s own grace period; Kubernetes\' default is 30s');
  const pauses = isObj(a.pauses) ? a.pauses : {};
  if (pauses.before !== undefined) b.note(`the pause of ${String(pauses.before)}s before ${shown(a.name)} is not imported: Faultline injects at once`);
  const after = num(pauses.after) ?? 0;
  b.map('/spec/duration', `${at}/pauses/after`);
  if (!targetMode || grace === undefined) return undefined;
  return {
    params: { gracePeriodSeconds: grace < 0 ? 30 : grace },
    target: { namespace: ns, selector, mode: targetMode },
    duration: Math.max(INSTANT_WINDOW_S, Math.ceil(after)),
  };
}

function steadyState(h: unknown, at: string, resolve: Resolve, b: ImportBuilder): Obj[] {
  if (h === undefined) return [];
  if (!isObj(h)) return void b.fail(at, 'steady-state-hypothesis must be a mapping'), [];
  const probes = Array.isArray(h.probes) ? h.probes : [];
  const out: Obj[] = [];
  probes.forEach((p, i) => {
    const where = `${at}/probes/${i}`;
    if (!isObj(p) || !isObj(p.provider)) return b.fail(where, 'a probe needs a provider');
    const prov = p.provider;
    const name = slug(String(p.name ?? `probe-${i}`));
    if (prov.type !== 'http') {
      return b.fail(`${where}/provider`, `steady-state probe ${shown(p.name)} (${String(prov.module ?? prov.type)}.${String(prov.func ?? '')}) has no Faultline equivalent; the hypothesis cannot be kept, so the experiment is not imported`);
    }
    for (const k of ['headers', 'secrets', 'arguments']) {
      if (prov[k] !== undefined) b.fail(`${where}/provider/${k}`, `steady-state probe ${shown(p.name)}: ${k} has no Faultline equivalent (Faultline's http probe sends no headers or body)`, true);
    }
    const url = resolve(prov.url, `${where}/provider/url`);
    const method = String(prov.method ?? 'GET').toUpperCase();
    if (!['GET', 'HEAD', 'POST'].includes(method)) b.fail(`${where}/provider/method`, `method ${method} is not GET, HEAD or POST`);
    const tol = p.tolerance;
    const codes = typeof tol === 'number' ? [tol] : Array.isArray(tol) && tol.every((x) => typeof x === 'number') ? (tol as number[]) : undefined;
    if (!codes) b.fail(`${where}/tolerance`, `tolerance ${shown(tol)} has no Faultline equivalent (a status code or a list of them)`);
    // timeout: seconds, or [connect, read]: the whole request may take both
    const t = Array.isArray(prov.timeout) ? prov.timeout.reduce((s: number, x) => s + (num(x) ?? 0), 0) : num(prov.timeout);
    const http: Obj = { url, method, ...(codes ? { expectStatus: codes } : {}) };
    if (t !== undefined) http.timeout = `${Math.max(1, Math.round(t * 1000))}ms`;
    b.map(`/spec/steadyState/probes/${out.length}`, where);
    b.map(`/spec/steadyState/probes/${out.length}/http/url`, `${where}/provider/url`);
    out.push({ name, http });
  });
  return out;
}
