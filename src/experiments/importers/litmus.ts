// Litmus (litmuschaos.io/v1alpha1): a ChaosEngine running one experiment of the chart hub that
// has a Faultline fault. Tunables come from the engine's env over its ChaosExperiment's env (when
// that document is part of the same load) over litmus-go's own defaults. A ChaosExperiment alone
// is a definition: it gives defaults and is no experiment by itself.
import { ImportBuilder, isObj, nativeDoc, num, parseSelectorString, shown, type Obj } from './common.js';
import type { ImportContext, Importer, ImportResult } from './types.js';

const API = 'litmuschaos.io/v1alpha1';

/** One env tunable: where its value came from, for pointers and messages. */
interface Tunable {
  value: string;
  at?: string; // pointer in the engine document; absent for a ChaosExperiment or built-in default
}
type Env = Map<string, Tunable>;

// litmus-go's defaults where neither the engine nor its ChaosExperiment sets a tunable.
const LITMUS_DEFAULTS: Record<string, string> = {
  TOTAL_CHAOS_DURATION: '30', CHAOS_INTERVAL: '10', FORCE: 'false', PODS_AFFECTED_PERC: '0', SEQUENCE: 'parallel', RAMP_TIME: '0',
  NETWORK_LATENCY: '2000', JITTER: '0', NETWORK_PACKET_LOSS_PERCENTAGE: '100', NETWORK_INTERFACE: 'eth0', POLICY_TYPES: 'all',
  CPU_CORES: '1', CPU_LOAD: '100', MEMORY_CONSUMPTION: '500', NUMBER_OF_WORKERS: '1', SIGNAL: 'SIGKILL',
};
// Litmus's own machinery (its runner, helper images, runtime sockets): Faultline uses its injector.
const MACHINERY = ['CONTAINER_RUNTIME', 'SOCKET_PATH', 'LIB', 'LIB_IMAGE', 'LIB_IMAGE_PULL_POLICY', 'TC_IMAGE', 'STRESS_IMAGE', 'DEFAULT_HEALTH_CHECK', 'STATUS_CHECK_TIMEOUT', 'STATUS_CHECK_DELAY', 'INSTANCE_ID', 'TERMINATION_GRACE_PERIOD_SECONDS', 'CHAOS_KILL_COMMAND', 'PUMBA_LIB', 'TARGET_CONTAINER_CHECK'];
const TARGETING = ['TOTAL_CHAOS_DURATION', 'PODS_AFFECTED_PERC', 'TARGET_PODS', 'TARGET_CONTAINER', 'RAMP_TIME', 'SEQUENCE', 'NODE_LABEL'];

interface Fault {
  type: string;
  tunables: string[]; // the experiment's own tunables this mapping reads
  map(env: Env, b: ImportBuilder, where: (name: string) => string): Obj | undefined;
}

const FAULTS: Record<string, Fault> = {
  'pod-delete': {
    type: 'pod-kill', tunables: ['FORCE', 'CHAOS_INTERVAL'],
    map(env, b, where) {
      once(env, b, where);
      const force = get(env, 'FORCE').value.toLowerCase() === 'true';
      if (!force) b.note('gracePeriodSeconds 30: FORCE false deletes with each pod\'s own grace period; Kubernetes\' default is 30s');
      return { type: 'pod-kill', params: { gracePeriodSeconds: force ? 0 : 30 } };
    },
  },
  'container-kill': {
    type: 'container-kill', tunables: ['TARGET_CONTAINER', 'SIGNAL', 'CHAOS_INTERVAL'],
    map(env, b, where) {
      once(env, b, where);
      const container = get(env, 'TARGET_CONTAINER').value;
      if (!container) return void b.fail(where('TARGET_CONTAINER'), 'TARGET_CONTAINER is empty: Litmus then kills the first container of each pod; Faultline kills one named container, so name it');
      const signal = get(env, 'SIGNAL').value.toUpperCase();
      if (signal !== 'SIGKILL' && signal !== 'SIGTERM') return void b.fail(where('SIGNAL'), `SIGNAL ${signal} has no Faultline equivalent (SIGKILL or SIGTERM)`);
      return { type: 'container-kill', params: { container, signal } };
    },
  },
  'pod-network-latency': {
    type: 'network-delay', tunables: ['NETWORK_LATENCY', 'JITTER', 'NETWORK_INTERFACE', 'DESTINATION_IPS', 'DESTINATION_HOSTS'],
    map(env, b, where) {
      allTraffic(env, b, where);
      const latency = int(env, 'NETWORK_LATENCY', b, where);
      const jitter = int(env, 'JITTER', b, where);
      return { type: 'network-delay', params: { latency: `${latency}ms`, jitter: `${jitter}ms`, interface: get(env, 'NETWORK_INTERFACE').value } };
    },
  },
  'pod-network-loss': {
    type: 'network-loss', tunables: ['NETWORK_PACKET_LOSS_PERCENTAGE', 'NETWORK_INTERFACE', 'DESTINATION_IPS', 'DESTINATION_HOSTS'],
    map(env, b, where) {
      allTraffic(env, b, where);
      const percent = num(get(env, 'NETWORK_PACKET_LOSS_PERCENTAGE').value);
      if (percent === undefined) return void b.fail(where('NETWORK_PACKET_LOSS_PERCENTAGE'), `NETWORK_PACKET_LOSS_PERCENTAGE ${shown(get(env, 'NETWORK_PACKET_LOSS_PERCENTAGE').value)} is not a percentage`);
      return { type: 'network-loss', params: { percent, interface: get(env, 'NETWORK_INTERFACE').value } };
    },
  },
  'pod-network-partition': {
    type: 'network-partition', tunables: ['POLICY_TYPES', 'DESTINATION_IPS', 'DESTINATION_HOSTS', 'PORTS', 'NAMESPACE_SELECTOR', 'POD_SELECTOR'],
    map(env, b, where) {
      for (const k of ['DESTINATION_HOSTS', 'NAMESPACE_SELECTOR', 'POD_SELECTOR', 'PORTS']) {
        if (get(env, k).value) b.fail(where(k), `${k} has no Faultline equivalent: Faultline partitions from IPs and CIDRs (DESTINATION_IPS)`);
      }
      const ips = get(env, 'DESTINATION_IPS').value.split(',').map((s) => s.trim()).filter(Boolean);
      if (!ips.length) {
        return void b.fail(where('DESTINATION_IPS'), 'without DESTINATION_IPS Litmus isolates the pod with a NetworkPolicy (kubelet probes still pass); Faultline\'s in-pod partition would cut those too: give DESTINATION_IPS');
      }
      const types = get(env, 'POLICY_TYPES').value.toLowerCase();
      const direction = ({ all: 'both', ingress: 'ingress', egress: 'egress' } as Record<string, string>)[types];
      if (!direction) return void b.fail(where('POLICY_TYPES'), `POLICY_TYPES ${shown(types)} is not one of all, ingress, egress`);
      return { type: 'network-partition', params: { direction, cidrs: ips.map((ip) => (ip.includes('/') ? ip : ip.includes(':') ? `${ip}/128` : `${ip}/32`)) } };
    },
  },
  'pod-cpu-hog': {
    type: 'cpu-stress', tunables: ['CPU_CORES', 'CPU_LOAD'],
    map: (env, b, where) => ({ type: 'cpu-stress', params: { workers: int(env, 'CPU_CORES', b, where), load: int(env, 'CPU_LOAD', b, where) } }),
  },
  // md5sum of /dev/zero, one per core: each core fully loaded.
  'pod-cpu-hog-exec': {
    type: 'cpu-stress', tunables: ['CPU_CORES'],
    map: (env, b, where) => ({ type: 'cpu-stress', params: { workers: int(env, 'CPU_CORES', b, where), load: 100 } }),
  },
  // MEMORY_CONSUMPTION is the total in MiB (stress-ng --vm-bytes, split across the workers).
  'pod-memory-hog': {
    type: 'memory-stress', tunables: ['MEMORY_CONSUMPTION', 'NUMBER_OF_WORKERS'],
    map: (env, b, where) => ({ type: 'memory-stress', params: { size: `${int(env, 'MEMORY_CONSUMPTION', b, where)}Mi`, workers: int(env, 'NUMBER_OF_WORKERS', b, where) } }),
  },
  'pod-memory-hog-exec': {
    type: 'memory-stress', tunables: ['MEMORY_CONSUMPTION'],
    map: (env, b, where) => ({ type: 'memory-stress', params: { size: `${int(env, 'MEMORY_CONSUMPTION', b, where)}Mi`, workers: 1 } }),
  },
};

function get(env: Env, name: string): Tunable {
  return env.get(name) ?? { value: LITMUS_DEFAULTS[name] ?? '' };
}
function int(env: Env, name: string, b: ImportBuilder, where: (n: string) => string): number | undefined {
  const v = get(env, name).value;
  const n = num(v);
  if (n === undefined || !Number.isInteger(n)) b.fail(where(name), `${name} ${shown(v)} is not a whole number`);
  return n;
}
/** Pod kills repeat every CHAOS_INTERVAL within the duration; Faultline injects once per run. */
function once(env: Env, b: ImportBuilder, where: (n: string) => string): void {
  const total = num(get(env, 'TOTAL_CHAOS_DURATION').value);
  const interval = num(get(env, 'CHAOS_INTERVAL').value);
  if (total !== undefined && interval !== undefined && interval > 0 && interval < total) {
    b.fail(where('CHAOS_INTERVAL'), `CHAOS_INTERVAL ${interval}s within TOTAL_CHAOS_DURATION ${total}s repeats the kill ${Math.ceil(total / interval)} times; Faultline injects once per run (set CHAOS_INTERVAL to the duration, or schedule the experiment)`);
  }
}
function allTraffic(env: Env, b: ImportBuilder, where: (n: string) => string): void {
  for (const k of ['DESTINATION_IPS', 'DESTINATION_HOSTS']) {
    if (get(env, k).value) b.fail(where(k), `${k} has no Faultline equivalent for this fault: Faultline shapes all outgoing traffic of the interface`);
  }
}

/** env: [{name, value}] → map; `at` is the list's pointer (undefined for a ChaosExperiment's). */
function readEnv(list: unknown, at: string | undefined, into: Env, b: ImportBuilder): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) return void (at && b.fail(at, 'env must be a list of { name, value }'));
  list.forEach((e, i) => {
    if (!isObj(e) || typeof e.name !== 'string') return void (at && b.fail(`${at}/${i}`, 'env entries need a name'));
    if (e.valueFrom !== undefined) return void (at && b.fail(`${at}/${i}/valueFrom`, `${e.name}: valueFrom (a Secret or ConfigMap) cannot be resolved from a file`, true));
    into.set(e.name, { value: e.value === undefined || e.value === null ? '' : String(e.value).trim(), ...(at ? { at: `${at}/${i}/value` } : {}) });
  });
}

export const litmusImporter: Importer = {
  describe: (doc) => `${API} ${String(doc.kind)}`,
  matches: (apiVersion, kind) => apiVersion === API && (kind === 'ChaosEngine' || kind === 'ChaosExperiment'),
  import(doc: Obj, ctx: ImportContext): ImportResult {
    const b = new ImportBuilder();
    if (doc.kind === 'ChaosExperiment') return { ...b.result(undefined), definition: true };
    b.onlyKnown(doc, '', ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    const metadata = isObj(doc.metadata) ? doc.metadata : {};
    b.map('/metadata', '/metadata');
    const spec = doc.spec;
    if (!isObj(spec)) {
      b.fail(spec === undefined ? '' : '/spec', 'spec must be a mapping');
      return b.result(undefined);
    }
    b.onlyKnown(spec, '/spec', ['appinfo', 'engineState', 'chaosServiceAccount', 'experiments', 'annotationCheck', 'jobCleanUpPolicy', 'components', 'monitoring', 'terminationGracePeriodSeconds', 'defaultHealthCheck', 'auxiliaryAppInfo']);
    if (spec.auxiliaryAppInfo) b.note('auxiliaryAppInfo is not used: Faultline checks health with steadyState probes');
    if (spec.chaosServiceAccount !== undefined) b.note('chaosServiceAccount is not used: Faultline acts with its own service account and its guards');
    if (String(spec.annotationCheck ?? 'false') === 'true') {
      b.fail('/spec/annotationCheck', 'annotationCheck true (only annotated workloads) has no Faultline equivalent: Faultline opts in by namespace label');
    }
    const experiments = spec.experiments;
    if (!Array.isArray(experiments) || experiments.length !== 1 || !isObj(experiments[0])) {
      b.fail(Array.isArray(experiments) ? '/spec/experiments' : '/spec', `a Faultline experiment runs one fault: the engine needs exactly one entry in experiments, it has ${Array.isArray(experiments) ? experiments.length : 'none'}`);
      return b.result(undefined);
    }
    const exp = experiments[0];
    const at = '/spec/experiments/0';
    b.map('/spec/fault', `${at}/name`);
    const fault = typeof exp.name === 'string' ? FAULTS[exp.name] : undefined;
    if (!fault) {
      b.fail(`${at}/name`, `experiment ${shown(exp.name)} has no Faultline equivalent (supported: ${Object.keys(FAULTS).join(', ')})`);
      return b.result(undefined);
    }
    // env: built-in defaults < the ChaosExperiment's < the engine's
    const env: Env = new Map();
    const definition = ctx.related(API, 'ChaosExperiment', String(exp.name));
    const defSpec = isObj(definition?.spec) && isObj(definition.spec.definition) ? definition.spec.definition : undefined;
    readEnv(defSpec?.env, undefined, env, b);
    const components = isObj(exp.spec) && isObj(exp.spec.components) ? exp.spec.components : undefined;
    readEnv(components?.env, `${at}/spec/components/env`, env, b);
    const where = (name: string) => env.get(name)?.at ?? `${at}/spec/components/env`;
    for (const [name, t] of env) {
      if (!t.value || MACHINERY.includes(name) || TARGETING.includes(name) || fault.tunables.includes(name)) continue;
      b.fail(t.at ?? `${at}/name`, `${name} has no Faultline equivalent for ${String(exp.name)}${t.at ? '' : ' (set by its ChaosExperiment)'}`);
    }
    if (isObj(exp.spec)) {
      b.onlyKnown(exp.spec, `${at}/spec`, ['components', 'probe']);
      if (exp.spec.probe !== undefined) b.fail(`${at}/spec/probe`, 'Litmus probes are not imported yet: write them as steadyState probes', true);
    }

    const target = engineTarget(spec, metadata, env, b, where);
    const params = fault.map(env, b, where);
    const seconds = int(env, 'TOTAL_CHAOS_DURATION', b, where);
    const ramp = num(get(env, 'RAMP_TIME').value);
    if (ramp) b.fail(where('RAMP_TIME'), `RAMP_TIME ${ramp}s (a wait before and after the fault) has no Faultline equivalent`);
    if (get(env, 'NODE_LABEL').value) b.fail(where('NODE_LABEL'), 'NODE_LABEL (pods on chosen nodes only) has no Faultline equivalent');
    if (get(env, 'SEQUENCE').value.toLowerCase() === 'serial' && (target?.mode as Obj | undefined)?.type !== 'one') {
      b.fail(where('SEQUENCE'), 'SEQUENCE serial (one pod after the other) has no Faultline equivalent: Faultline injects into all chosen pods at once');
    }
    b.map('/spec/duration', where('TOTAL_CHAOS_DURATION'));
    const out: Obj = {};
    if (spec.engineState === 'stop') out.suspend = true;
    else if (spec.engineState !== undefined && spec.engineState !== 'active') b.fail('/spec/engineState', `engineState ${shown(spec.engineState)} is not active or stop`);
    if (b.problems.length || !params || !target || seconds === undefined) return b.result(undefined);
    return b.result(nativeDoc(metadata, { fault: params, target, duration: `${seconds}s`, ...out }));
  },
};

function engineTarget(spec: Obj, metadata: Obj, env: Env, b: ImportBuilder, where: (n: string) => string): Obj | undefined {
  const app = isObj(spec.appinfo) ? spec.appinfo : {};
  if (spec.appinfo !== undefined) b.onlyKnown(app, '/spec/appinfo', ['appns', 'applabel', 'appkind']);
  const pods = get(env, 'TARGET_PODS').value;
  if (pods) {
    b.fail(where('TARGET_PODS'), `TARGET_PODS (${pods}) has no Faultline equivalent: Faultline chooses pods by labels; give appinfo.applabel`);
    return undefined;
  }
  const label = typeof app.applabel === 'string' ? app.applabel.trim() : '';
  if (!label) {
    b.fail(spec.appinfo === undefined ? '/spec' : '/spec/appinfo', 'appinfo.applabel and TARGET_PODS are both empty: Litmus itself refuses this ("please provide one of the appLabel or TARGET_PODS"); give the app\'s labels, e.g. applabel: app=nginx');
    return undefined;
  }
  const selector = parseSelectorString(label);
  if (typeof selector === 'string') {
    b.fail('/spec/appinfo/applabel', selector);
    return undefined;
  }
  b.map('/spec/target/selector', '/spec/appinfo/applabel');
  const target: Obj = { selector };
  const ns = typeof app.appns === 'string' ? app.appns.trim() : '';
  if (ns) {
    target.namespace = ns;
    b.map('/spec/target/namespace', '/spec/appinfo/appns');
  } else if (typeof metadata.namespace === 'string') {
    target.namespace = metadata.namespace; // Litmus: the engine's own namespace
    b.map('/spec/target/namespace', '/metadata/namespace');
  } else {
    b.fail('/spec/appinfo', 'appinfo.appns is empty and the engine has no metadata.namespace');
    return undefined;
  }
  if (typeof app.appkind === 'string' && app.appkind) b.note(`appinfo.appkind ${app.appkind}: Faultline chooses by labels only (pods of other kinds with these labels are candidates too)`);
  const perc = num(get(env, 'PODS_AFFECTED_PERC').value || '0');
  b.map('/spec/target/mode', where('PODS_AFFECTED_PERC'));
  b.map('/spec/target/mode/value', where('PODS_AFFECTED_PERC'));
  // Litmus: 0 (or empty) means one pod; otherwise that share, at least one.
  if (perc === undefined || perc < 0 || perc > 100) b.fail(where('PODS_AFFECTED_PERC'), `PODS_AFFECTED_PERC ${shown(get(env, 'PODS_AFFECTED_PERC').value)} is not a percentage from 0 to 100`);
  else target.mode = perc === 0 ? { type: 'one' } : perc === 100 ? { type: 'all' } : { type: 'percent', value: perc };
  return target;
}
