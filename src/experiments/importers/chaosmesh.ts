// Chaos Mesh (chaos-mesh.org/v1alpha1) PodChaos, NetworkChaos and StressChaos. What Faultline
// cannot do the same way (pod-failure, pod-to-pod partitions, bandwidth, percent memory, ...)
// is an error that says why, never silently dropped.
import { durationText, ImportBuilder, isObj, nativeDoc, num, type Obj } from './common.js';
import type { Importer, ImportResult } from './types.js';

const KINDS = ['PodChaos', 'NetworkChaos', 'StressChaos'];
const COMMON_SPEC = ['action', 'mode', 'value', 'selector', 'duration'];

export const chaosMeshImporter: Importer = {
  describe: (doc) => `chaos-mesh.org/v1alpha1 ${String(doc.kind)}`,
  matches: (apiVersion, kind) => apiVersion === 'chaos-mesh.org/v1alpha1' && typeof kind === 'string' && KINDS.includes(kind),
  import(doc: Obj): ImportResult {
    const b = new ImportBuilder();
    b.onlyKnown(doc, '', ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    const metadata = isObj(doc.metadata) ? doc.metadata : {};
    b.map('/metadata', '/metadata');
    const spec = doc.spec;
    if (!isObj(spec)) {
      b.fail('/spec', 'spec must be a mapping');
      return b.result(undefined);
    }
    b.map('/spec/duration', '/spec/duration');
    b.map('/spec/fault', '/spec/action');
    b.map('/spec/target', '/spec/selector');
    const target = importTarget(spec, metadata, b);
    if (spec.duration === undefined) {
      b.fail('/spec', 'spec.duration is required: a Chaos Mesh experiment without one runs until deleted, a Faultline experiment is always bounded');
    }
    let fault: Obj | undefined;
    if (doc.kind === 'PodChaos') fault = podChaos(spec, b);
    else if (doc.kind === 'NetworkChaos') fault = networkChaos(spec, b);
    else fault = stressChaos(spec, b);
    if (b.problems.length || !fault) return b.result(undefined);
    return b.result(nativeDoc(metadata, { fault, target, duration: durationText(spec.duration) }));
  },
};

function importTarget(spec: Obj, metadata: Obj, b: ImportBuilder): Obj {
  const target: Obj = {};
  // mode / value
  const value = num(spec.value);
  b.map('/spec/target/mode', '/spec/mode');
  b.map('/spec/target/mode/value', '/spec/value');
  switch (spec.mode) {
    case 'one':
    case 'all':
      target.mode = { type: spec.mode };
      break;
    case 'fixed':
      target.mode = { type: 'fixed', value: value ?? spec.value };
      break;
    case 'fixed-percent':
      target.mode = { type: 'percent', value: value ?? spec.value };
      break;
    case 'random-max-percent':
      b.fail('/spec/mode', 'mode random-max-percent has no Faultline equivalent: the blast radius must be known before the run (use fixed-percent)');
      break;
    default:
      b.fail('/spec/mode', `mode ${JSON.stringify(spec.mode)} is not one of one, all, fixed, fixed-percent`);
  }
  // selector
  const sel = spec.selector;
  if (!isObj(sel)) {
    b.fail('/spec/selector', 'selector is required (namespaces and labelSelectors)');
    return target;
  }
  b.onlyKnown(sel, '/spec/selector', ['namespaces', 'labelSelectors', 'expressionSelectors'], 'has no Faultline equivalent (Faultline selects pods by namespace and labels)');
  const ns = sel.namespaces;
  if (Array.isArray(ns)) {
    if (ns.length !== 1) b.fail('/spec/selector/namespaces', `a Faultline experiment targets exactly one namespace, this selects ${ns.length}`);
    target.namespace = ns[0];
    b.map('/spec/target/namespace', '/spec/selector/namespaces/0');
  } else if (ns === undefined && typeof metadata.namespace === 'string') {
    target.namespace = metadata.namespace; // Chaos Mesh's default: the experiment's own namespace
    b.map('/spec/target/namespace', '/metadata/namespace');
  } else {
    b.fail('/spec/selector', 'selector.namespaces (one namespace) is required');
  }
  const selector: Obj = {};
  if (sel.labelSelectors !== undefined) {
    selector.matchLabels = sel.labelSelectors;
    b.map('/spec/target/selector/matchLabels', '/spec/selector/labelSelectors');
  }
  if (sel.expressionSelectors !== undefined) {
    selector.matchExpressions = sel.expressionSelectors;
    b.map('/spec/target/selector/matchExpressions', '/spec/selector/expressionSelectors');
  }
  target.selector = selector;
  return target;
}

function podChaos(spec: Obj, b: ImportBuilder): Obj | undefined {
  b.onlyKnown(spec, '/spec', [...COMMON_SPEC, 'gracePeriod', 'containerNames']);
  switch (spec.action) {
    case 'pod-kill':
      if (spec.containerNames !== undefined) b.fail('/spec/containerNames', 'containerNames only applies to action container-kill', true);
      b.map('/spec/fault/params/gracePeriodSeconds', '/spec/gracePeriod');
      return { type: 'pod-kill', params: spec.gracePeriod === undefined ? {} : { gracePeriodSeconds: num(spec.gracePeriod) ?? spec.gracePeriod } };
    case 'container-kill': {
      const names = spec.containerNames;
      if (!Array.isArray(names) || names.length !== 1) {
        b.fail(Array.isArray(names) ? '/spec/containerNames' : '/spec', 'container-kill needs exactly one entry in containerNames (Faultline kills one named container)');
        return undefined;
      }
      if (spec.gracePeriod !== undefined) b.fail('/spec/gracePeriod', 'gracePeriod does not apply to container-kill', true);
      b.map('/spec/fault/params/container', '/spec/containerNames/0');
      return { type: 'container-kill', params: { container: names[0] } };
    }
    case 'pod-failure':
      b.fail('/spec/action', 'action pod-failure has no Faultline equivalent (it swaps the container image); use pod-kill or container-kill');
      return undefined;
    default:
      b.fail('/spec/action', `action ${JSON.stringify(spec.action)} is not one of pod-kill, container-kill`);
      return undefined;
  }
}

function networkChaos(spec: Obj, b: ImportBuilder): Obj | undefined {
  b.onlyKnown(spec, '/spec', [...COMMON_SPEC, 'delay', 'loss', 'direction', 'externalTargets', 'target', 'device']);
  if (spec.target !== undefined) {
    b.fail('/spec/target', 'pod-to-pod targets have no Faultline equivalent: give the peers as CIDRs in externalTargets', true);
  }
  const iface = spec.device === undefined ? {} : { interface: spec.device };
  if (spec.device !== undefined) b.map('/spec/fault/params/interface', '/spec/device');
  const direction = spec.direction ?? 'to';
  if (!['to', 'from', 'both'].includes(String(direction))) b.fail('/spec/direction', `direction ${JSON.stringify(direction)} is not one of to, from, both`);
  const targets = spec.externalTargets;
  if (spec.action !== 'partition') {
    if (spec.direction !== undefined && spec.direction !== 'to') {
      b.fail('/spec/direction', `direction ${String(spec.direction)} has no Faultline equivalent for ${String(spec.action)}: Faultline shapes the pod's outgoing traffic only`);
    }
    if (targets !== undefined) b.fail('/spec/externalTargets', `externalTargets has no Faultline equivalent for ${String(spec.action)}: Faultline shapes all outgoing traffic of the interface`, true);
  }
  switch (spec.action) {
    case 'delay': {
      const d = spec.delay;
      if (!isObj(d)) {
        b.fail('/spec', 'action delay needs a delay: { latency } block');
        return undefined;
      }
      b.onlyKnown(d, '/spec/delay', ['latency', 'jitter', 'correlation']);
      b.map('/spec/fault/params', '/spec/delay');
      const params: Obj = { latency: durationText(d.latency), ...iface };
      if (d.jitter !== undefined) params.jitter = durationText(d.jitter);
      if (d.correlation !== undefined) params.correlation = num(d.correlation) ?? d.correlation;
      return { type: 'network-delay', params };
    }
    case 'loss': {
      const l = spec.loss;
      if (!isObj(l)) {
        b.fail('/spec', 'action loss needs a loss: { loss } block');
        return undefined;
      }
      b.onlyKnown(l, '/spec/loss', ['loss', 'correlation']);
      b.map('/spec/fault/params', '/spec/loss');
      b.map('/spec/fault/params/percent', '/spec/loss/loss');
      const params: Obj = { percent: num(l.loss) ?? l.loss, ...iface };
      if (l.correlation !== undefined) params.correlation = num(l.correlation) ?? l.correlation;
      return { type: 'network-loss', params };
    }
    case 'partition': {
      if (!Array.isArray(targets) || targets.length === 0) {
        b.fail('/spec', 'action partition needs externalTargets given as CIDRs (pod-to-pod partitions have no Faultline equivalent)');
        return undefined;
      }
      const cidrs: string[] = [];
      targets.forEach((t, i) => {
        if (typeof t !== 'string') return b.fail(`/spec/externalTargets/${i}`, 'externalTargets entries must be strings');
        if (/^[0-9.]+$/.test(t)) cidrs.push(`${t}/32`);
        else if (/^[0-9a-fA-F:]+$/.test(t) && t.includes(':')) cidrs.push(`${t}/128`);
        else if (t.includes('/')) cidrs.push(t);
        else b.fail(`/spec/externalTargets/${i}`, `"${t}" is a host name: Faultline partitions by CIDR only (names resolve differently inside the pod)`);
      });
      b.map('/spec/fault/params/cidrs', '/spec/externalTargets');
      b.map('/spec/fault/params/direction', '/spec/direction');
      const dir = direction === 'to' ? 'egress' : direction === 'from' ? 'ingress' : 'both';
      return { type: 'network-partition', params: { direction: dir, cidrs, ...iface } };
    }
    default:
      b.fail('/spec/action', `action ${JSON.stringify(spec.action)} has no Faultline equivalent (supported: delay, loss, partition)`);
      return undefined;
  }
}

function stressChaos(spec: Obj, b: ImportBuilder): Obj | undefined {
  b.onlyKnown(spec, '/spec', ['mode', 'value', 'selector', 'duration', 'stressors']);
  const s = spec.stressors;
  if (!isObj(s)) {
    b.fail('/spec', 'StressChaos needs stressors (cpu or memory)');
    return undefined;
  }
  b.onlyKnown(s, '/spec/stressors', ['cpu', 'memory']);
  if (s.cpu !== undefined && s.memory !== undefined) {
    b.fail('/spec/stressors', 'stressors has both cpu and memory: a Faultline experiment injects one fault; split it into two experiments');
    return undefined;
  }
  if (isObj(s.cpu)) {
    b.onlyKnown(s.cpu, '/spec/stressors/cpu', ['workers', 'load']);
    b.map('/spec/fault/params', '/spec/stressors/cpu');
    const params: Obj = {};
    if (s.cpu.workers !== undefined) params.workers = num(s.cpu.workers) ?? s.cpu.workers;
    if (s.cpu.load !== undefined) params.load = num(s.cpu.load) ?? s.cpu.load;
    return { type: 'cpu-stress', params };
  }
  if (isObj(s.memory)) {
    b.onlyKnown(s.memory, '/spec/stressors/memory', ['workers', 'size']);
    b.map('/spec/fault/params', '/spec/stressors/memory');
    const params: Obj = {};
    if (s.memory.workers !== undefined) params.workers = num(s.memory.workers) ?? s.memory.workers;
    const size = s.memory.size;
    const m = typeof size === 'string' ? /^([1-9][0-9]*)\s*(MB|MiB|Mi|M|GB|GiB|Gi|G)$/i.exec(size.trim()) : null;
    if (typeof size === 'string' && size.trim().endsWith('%')) {
      b.fail('/spec/stressors/memory/size', 'a percentage size has no Faultline equivalent: give an absolute size like 256MB');
    } else if (!m) {
      b.fail(size === undefined ? '/spec/stressors/memory' : '/spec/stressors/memory/size', 'memory size must be given as an absolute size like 256MB or 1GB');
    } else {
      params.size = `${m[1]}${m[2]!.toUpperCase().startsWith('G') ? 'Gi' : 'Mi'}`; // stress-ng counts in 1024s
    }
    return { type: 'memory-stress', params };
  }
  b.fail('/spec/stressors', 'stressors needs cpu or memory');
  return undefined;
}
