// One Chaos Mesh chaos spec (PodChaos, NetworkChaos, StressChaos: at the top of a document or
// inside a Schedule) → the native spec's fault, target and duration. Defaults are the ones
// Chaos Mesh's webhook applies; whatever has no Faultline equivalent is refused by name.
import { ImportBuilder } from '../common.js';
import { durationField, foreignDurationMs, isObj, nativeSize, num, shown, sizeBytes, type Obj } from '../common.js';

export const CHAOS_KINDS = ['PodChaos', 'NetworkChaos', 'StressChaos'] as const;
export type ChaosKind = (typeof CHAOS_KINDS)[number];

// pod-kill and container-kill act once; Chaos Mesh needs no duration for them. The native
// experiment still has one: how long the run holds its lock and watches its probes afterwards.
export const INSTANT_ACTION_WINDOW = '30s';
// Chaos Mesh keeps a fault without a duration until its object is deleted. Faultline aborts a run
// whose file is deleted, and 24h is the longest run it allows: that is the closest bounded match.
export const UNTIL_DELETED_WINDOW = '24h';

const COMMON = ['action', 'mode', 'value', 'selector', 'duration', 'remoteCluster', 'scheduler'];
const SELECTOR_NOT_MAPPED = 'has no Faultline equivalent (Faultline selects pods by one namespace and labels)';
// Named pods: a pod's name is no label, and a pod a controller replaces comes back under a new name.
const PODS_NOT_MAPPED = 'pods (pod names by namespace) has no Faultline equivalent: a Faultline target selects pods by labels, and a replaced pod comes back under another name (select by the labels those pods share)';

export interface ChaosParts {
  fault: Obj;
  target: Obj;
  duration: string;
}

/** A Workflow template's deadline: how long Chaos Mesh keeps the chaos of that node. */
export interface Deadline {
  ms: number;
  text: string; // native duration
  at: string; // source pointer of the deadline field
}

/**
 * `at` is where the chaos spec sits in the source document ('/spec' or '/spec/podChaos'); inside a
 * Workflow, `deadline` is how long the node lasts (its chaos ends then, or at its own duration if
 * that is shorter).
 */
export function importChaos(kind: ChaosKind, spec: Obj, at: string, metadata: Obj, b: ImportBuilder, deadline?: Deadline): ChaosParts | undefined {
  b.map('/spec/fault', `${at}/action`);
  b.map('/spec/duration', deadline && spec.duration === undefined ? deadline.at : `${at}/duration`);
  if (spec.scheduler !== undefined) {
    b.fail(`${at}/scheduler`, 'scheduler is Chaos Mesh 1.x\'s repeat field (removed in 2.0, where a Schedule object replaced it): write a Schedule, whose cron becomes a Faultline schedule', true);
  }
  if (spec.remoteCluster !== undefined) b.fail(`${at}/remoteCluster`, 'field "remoteCluster" has no Faultline equivalent (a controller acts on its own cluster)', true);
  const target = importTarget(spec, at, metadata, b);
  const duration = chaosDuration(kind, spec, at, b, deadline);
  const ms = duration === undefined ? undefined : foreignDurationMs(duration);
  const fault = kind === 'PodChaos' ? podChaos(spec, at, b) : kind === 'NetworkChaos' ? networkChaos(spec, at, metadata, b) : stressChaos(spec, at, b, ms);
  if (!fault || !target || duration === undefined) return undefined;
  return { fault, target, duration };
}

function chaosDuration(kind: ChaosKind, spec: Obj, at: string, b: ImportBuilder, deadline?: Deadline): string | undefined {
  const instant = kind === 'PodChaos' && (spec.action === 'pod-kill' || spec.action === 'container-kill' || spec.action === undefined);
  if (spec.duration !== undefined && spec.duration !== null) {
    const own = durationField(b, `${at}/duration`, spec.duration);
    if (!deadline || own === undefined) return own;
    const ms = foreignDurationMs(own)!;
    if (ms <= deadline.ms) return own;
    b.note(`duration ${deadline.text}: the node's deadline ends the chaos before its own duration ${own}`);
    return deadline.text;
  }
  if (deadline) return deadline.text; // the node lasts its deadline; so does the chaos in it
  if (instant) {
    b.note(`duration ${INSTANT_ACTION_WINDOW}: ${String(spec.action ?? 'pod-kill')} acts once; Faultline watches for ${INSTANT_ACTION_WINDOW} afterwards`);
    return INSTANT_ACTION_WINDOW;
  }
  if (kind === 'PodChaos') {
    b.fail(at, `${String(spec.action)} needs a duration, as Chaos Mesh requires for it`);
    return undefined;
  }
  b.note(`duration ${UNTIL_DELETED_WINDOW}: Chaos Mesh keeps this fault until the object is deleted; Faultline ends it when the file is deleted or after ${UNTIL_DELETED_WINDOW}, its longest run`);
  return UNTIL_DELETED_WINDOW;
}

function importTarget(spec: Obj, at: string, metadata: Obj, b: ImportBuilder): Obj | undefined {
  const target: Obj = {};
  b.map('/spec/target/mode', `${at}/mode`);
  b.map('/spec/target/mode/value', `${at}/value`);
  const value = num(spec.value);
  switch (spec.mode) {
    case 'one':
    case 'all':
      target.mode = { type: spec.mode }; // Chaos Mesh ignores value here too
      break;
    case 'fixed':
      if (value === undefined || !Number.isInteger(value) || value < 1) b.fail(`${at}/value`, `mode fixed needs value: a whole number of pods of at least 1, not ${shown(spec.value)}`);
      target.mode = { type: 'fixed', value };
      break;
    case 'fixed-percent':
      if (value === undefined || value <= 0 || value > 100) b.fail(`${at}/value`, `mode fixed-percent needs value: a percentage above 0 and at most 100, not ${shown(spec.value)}`);
      target.mode = value === 100 ? { type: 'all' } : { type: 'percent', value };
      break;
    case 'random-max-percent':
      b.fail(`${at}/mode`, 'mode random-max-percent has no Faultline equivalent: the blast radius must be known before the run (use fixed-percent)');
      break;
    default:
      if (spec.mode === undefined) b.fail(at, 'mode is required (one, all, fixed or fixed-percent), as Chaos Mesh requires it');
      else b.fail(`${at}/mode`, `mode ${shown(spec.mode)} is not one of one, all, fixed, fixed-percent`);
  }
  const sel = spec.selector;
  if (!isObj(sel)) {
    b.fail(sel === undefined ? at : `${at}/selector`, 'selector is required (namespaces and labelSelectors)');
    return undefined;
  }
  if (sel.pods !== undefined) b.fail(`${at}/selector/pods`, PODS_NOT_MAPPED, true);
  b.onlyKnown(sel, `${at}/selector`, ['namespaces', 'labelSelectors', 'expressionSelectors', 'pods'], SELECTOR_NOT_MAPPED);
  const ns = sel.namespaces;
  if (Array.isArray(ns) && ns.length > 0) {
    if (ns.length !== 1) b.fail(`${at}/selector/namespaces`, `a Faultline experiment targets exactly one namespace, this selects ${ns.length}: ${ns.join(', ')}`);
    target.namespace = ns[0];
    b.map('/spec/target/namespace', `${at}/selector/namespaces/0`);
  } else if (typeof metadata.namespace === 'string') {
    target.namespace = metadata.namespace; // Chaos Mesh's webhook: the chaos object's own namespace
    b.map('/spec/target/namespace', '/metadata/namespace');
  } else {
    // No namespace written anywhere: the object lands where kubectl applies it, "default" unless
    // the context says otherwise; Chaos Mesh then selects in that namespace.
    target.namespace = 'default';
    b.map('/spec/target/namespace', '/metadata');
    b.note('target.namespace default: the source names no namespace, so Chaos Mesh acts in the one it is applied to (kubectl\'s default: default)');
  }
  const selector: Obj = {};
  if (sel.labelSelectors !== undefined) {
    selector.matchLabels = sel.labelSelectors;
    b.map('/spec/target/selector/matchLabels', `${at}/selector/labelSelectors`);
  }
  if (sel.expressionSelectors !== undefined) {
    selector.matchExpressions = sel.expressionSelectors;
    b.map('/spec/target/selector/matchExpressions', `${at}/selector/expressionSelectors`);
  }
  b.map('/spec/target/selector', `${at}/selector`);
  target.selector = selector;
  return target;
}

function podChaos(spec: Obj, at: string, b: ImportBuilder): Obj | undefined {
  b.onlyKnown(spec, at, [...COMMON, 'gracePeriod', 'containerNames']);
  const action = spec.action ?? 'pod-kill'; // the CRD's default action
  switch (action) {
    case 'pod-kill': {
      if (spec.containerNames !== undefined) b.fail(`${at}/containerNames`, 'containerNames only applies to container-kill and pod-failure', true);
      b.map('/spec/fault/params/gracePeriodSeconds', `${at}/gracePeriod`);
      const grace = spec.gracePeriod === undefined ? 0 : num(spec.gracePeriod); // Chaos Mesh: 0, delete at once
      if (grace === undefined) b.fail(`${at}/gracePeriod`, `gracePeriod must be a whole number of seconds, not ${shown(spec.gracePeriod)}`);
      return { type: 'pod-kill', params: { gracePeriodSeconds: grace } };
    }
    case 'container-kill': {
      const names = spec.containerNames;
      if (!Array.isArray(names) || names.length !== 1) {
        b.fail(Array.isArray(names) ? `${at}/containerNames` : at, `container-kill needs exactly one entry in containerNames (Faultline kills one named container), this has ${Array.isArray(names) ? names.length : 'none'}`);
        return undefined;
      }
      if (spec.gracePeriod !== undefined) b.fail(`${at}/gracePeriod`, 'gracePeriod only applies to pod-kill', true);
      b.map('/spec/fault/params/container', `${at}/containerNames/0`);
      // Chaos Mesh has the runtime SIGKILL the container; from inside the pod only SIGTERM arrives.
      b.note('signal SIGTERM: Chaos Mesh kills the container through the runtime (SIGKILL); Faultline\'s injector can only deliver SIGTERM to the container\'s main process, and the run fails if the container does not restart');
      return { type: 'container-kill', params: { container: names[0], signal: 'SIGTERM' } };
    }
    case 'pod-failure':
      // Chaos Mesh swaps every container's and init container's image for a pause image.
      if (spec.containerNames !== undefined) b.fail(`${at}/containerNames`, 'containerNames has no Faultline equivalent for pod-failure: every container of the pod runs the pause image, as in Chaos Mesh\'s own implementation', true);
      if (spec.gracePeriod !== undefined) b.fail(`${at}/gracePeriod`, 'gracePeriod only applies to pod-kill', true);
      return { type: 'pod-failure', params: {} };
    default:
      b.fail(`${at}/action`, `action ${shown(action)} is not one of pod-kill, container-kill, pod-failure`);
      return undefined;
  }
}

const NETEM_BLOCKS = ['delay', 'loss', 'duplicate', 'corrupt', 'rate'] as const;

function networkChaos(spec: Obj, at: string, metadata: Obj, b: ImportBuilder): Obj | undefined {
  b.onlyKnown(spec, at, [...COMMON, 'delay', 'loss', 'duplicate', 'corrupt', 'bandwidth', 'rate', 'direction', 'externalTargets', 'target', 'device', 'targetDevice']);
  if (spec.targetDevice !== undefined) b.fail(`${at}/targetDevice`, 'targetDevice has no Faultline equivalent: Faultline adds rules in the selected pods only, never in the peer pods', true);
  const iface: Obj = {};
  if (spec.device !== undefined) {
    iface.interface = spec.device;
    b.map('/spec/fault/params/interface', `${at}/device`);
  }
  const direction = spec.direction ?? 'to'; // the webhook's default
  if (!['to', 'from', 'both'].includes(String(direction))) b.fail(`${at}/direction`, `direction ${shown(direction)} is not one of to, from, both`);
  const targets = spec.externalTargets;
  let action = spec.action;
  let combined: string[] | undefined;
  if (action === 'netem') {
    const given = NETEM_BLOCKS.filter((k) => spec[k] !== undefined);
    if (given.length === 0) return void b.fail(`${at}/action`, 'netem needs one of delay, loss, duplicate, corrupt, rate');
    // several effects (or a netem rate) are one netem qdisc, as Chaos Mesh applies them
    if (given.length > 1 || given[0] === 'rate') combined = given;
    else action = given[0];
  } else if (typeof action === 'string') {
    for (const k of [...NETEM_BLOCKS, 'bandwidth']) {
      if (k !== action && spec[k] !== undefined) b.fail(`${at}/${k}`, `field "${k}" is ignored by Chaos Mesh for action ${action}; remove it`, true);
    }
  }
  if (action !== 'partition') {
    if (spec.target !== undefined) {
      b.fail(`${at}/target`, `target (pod-to-pod) has no Faultline equivalent for ${String(action)}: Faultline shapes all outgoing traffic of the interface; only partition takes peer pods`, true);
    }
    if (direction !== 'to') b.fail(`${at}/direction`, `direction ${String(direction)} has no Faultline equivalent for ${String(action)}: Faultline shapes the pod's outgoing traffic only`);
    if (targets !== undefined) b.fail(`${at}/externalTargets`, `externalTargets has no Faultline equivalent for ${String(action)}: Faultline shapes all outgoing traffic of the interface`, true);
  }
  if (action === 'rate') combined = ['rate'];
  if (action === 'delay' && isObj(spec.delay) && spec.delay.reorder !== undefined) combined = ['delay']; // network-delay does not reorder
  if (combined) return netem(spec, at, combined, iface, b);
  switch (action) {
    case 'delay': {
      const d = spec.delay;
      if (!isObj(d)) return void b.fail(at, 'action delay needs a delay: { latency } block');
      b.onlyKnown(d, `${at}/delay`, ['latency', 'jitter', 'correlation', 'reorder']);
      b.map('/spec/fault/params', `${at}/delay`);
      const latency = durationField(b, `${at}/delay/latency`, d.latency);
      const jitter = d.jitter === undefined ? '0ms' : durationField(b, `${at}/delay/jitter`, d.jitter, undefined, true); // webhook default 0ms
      return { type: 'network-delay', params: { latency, jitter, correlation: percentField(b, `${at}/delay/correlation`, d.correlation ?? '0', true), ...iface } };
    }
    case 'loss': {
      const l = spec.loss;
      if (!isObj(l)) return void b.fail(at, 'action loss needs a loss: { loss } block');
      b.onlyKnown(l, `${at}/loss`, ['loss', 'correlation']);
      b.map('/spec/fault/params', `${at}/loss`);
      b.map('/spec/fault/params/percent', `${at}/loss/loss`);
      return { type: 'network-loss', params: { percent: percentField(b, `${at}/loss/loss`, l.loss, false), correlation: percentField(b, `${at}/loss/correlation`, l.correlation ?? '0', true), ...iface } };
    }
    case 'partition':
      return partition(spec, at, direction, iface, metadata, b);
    case 'duplicate':
    case 'corrupt': {
      const blk = spec[action];
      if (!isObj(blk)) return void b.fail(at, `action ${action} needs a ${action}: { ${action} } block`);
      b.onlyKnown(blk, `${at}/${action}`, [action, 'correlation']);
      b.map('/spec/fault/params', `${at}/${action}`);
      b.map('/spec/fault/params/percent', `${at}/${action}/${action}`);
      return { type: `network-${action}`, params: { percent: percentField(b, `${at}/${action}/${action}`, blk[action], false), correlation: percentField(b, `${at}/${action}/correlation`, blk.correlation ?? '0', true), ...iface } };
    }
    case 'bandwidth': {
      const bw = spec.bandwidth;
      if (!isObj(bw)) return void b.fail(at, 'action bandwidth needs a bandwidth: { rate, limit, buffer } block');
      b.onlyKnown(bw, `${at}/bandwidth`, ['rate', 'limit', 'buffer', 'peakrate', 'minburst']);
      for (const k of ['peakrate', 'minburst']) {
        if (bw[k] !== undefined && bw[k] !== 0) b.fail(`${at}/bandwidth/${k}`, `${k} has no Faultline equivalent (network-bandwidth is a token bucket without a peak rate)`, true);
      }
      b.map('/spec/fault/params', `${at}/bandwidth`);
      // Chaos Mesh's rate units are tc's: bps is bytes per second, as are kbps, mbps, gbps (SI).
      // Settled from its source: since #4129 (2.7) pkg/netem FromBandwidth copies the text and
      // chaos-daemon's convertTbfToArgs writes "rate <text>" to tc. Up to 2.6 the API read it as
      // n × 1024^k bytes/s (convertUnitToBytes) for netlink: 1mbps was 1 048 576 B/s, not 10^6.
      const rate = typeof bw.rate === 'string' ? bw.rate.trim().toLowerCase() : bw.rate;
      const params: Obj = { rate, ...iface };
      for (const k of ['limit', 'buffer']) {
        if (bw[k] === undefined) b.fail(`${at}/bandwidth`, `bandwidth.${k} is required (Chaos Mesh requires it)`);
        else params[k] = num(bw[k]) ?? bw[k];
      }
      return { type: 'network-bandwidth', params };
    }
    default:
      b.fail(`${at}/action`, `action ${shown(action)} is not one of delay, loss, partition, netem, bandwidth, corrupt, duplicate, rate`);
      return undefined;
  }
}

const STRESS_NG_TIME: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400, y: 31_536_000 };

/**
 * CPU stressor options: Chaos Mesh runs `stress-ng --cpu W [--cpu-load L] OPTIONS...`, and
 * stress-ng takes the last value of an option. Only the options whose effect Faultline has are
 * mapped: --cpu (workers), --cpu-load (load) and a --timeout no shorter than the fault (the fault
 * ends first, so it changes nothing). Any other option is refused by name.
 */
function cpuOptions(options: unknown, at: string, params: Obj, durationMs: number | undefined, b: ImportBuilder): boolean {
  if (!Array.isArray(options) || options.some((o) => typeof o !== 'string')) {
    b.fail(at, 'options must be a list of strings');
    return false;
  }
  const before = b.problems.length;
  options.forEach((o: string, i) => {
    const words = o.trim().split(/\s+/).flatMap((w) => (w.startsWith('--') && w.includes('=') ? [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] : [w]));
    const where = `${at}/${i}`;
    for (let k = 0; k < words.length; k += 2) {
      const [opt, value] = [words[k]!, words[k + 1]];
      const n = value !== undefined && /^[0-9]+$/.test(value) ? Number(value) : undefined;
      if (opt === '--cpu' && n !== undefined && n >= 1) params.workers = n;
      else if (opt === '--cpu-load' && n !== undefined && n <= 100) params.load = n;
      else if ((opt === '--timeout' || opt === '-t') && value !== undefined && /^[0-9]+[smhdy]?$/.test(value)) {
        const seconds = Number(/^[0-9]+/.exec(value)![0]) * STRESS_NG_TIME[value.replace(/^[0-9]+/, '')]!;
        if (durationMs !== undefined && seconds * 1000 < durationMs) {
          b.fail(where, `option "${opt} ${value}" stops stress-ng after ${seconds}s, before the fault's ${Math.round(durationMs / 1000)}s end: Faultline stresses for the whole duration (shorten the duration instead)`);
        }
      } else {
        b.fail(where, `option "${[opt, value].filter((x) => x !== undefined).join(' ')}" (extra stress-ng arguments) has no Faultline equivalent: parameters never reach a command as text; only --cpu, --cpu-load and a --timeout no shorter than the fault are mapped`);
        return;
      }
    }
  });
  if (b.problems.length === before) b.note(`cpu-stress workers ${String(params.workers)}, load ${String(params.load)}: stress-ng options ${options.map((o) => `"${o}"`).join(', ')} taken as Chaos Mesh passes them (the last value wins; a timeout past the fault's end changes nothing)`);
  return b.problems.length === before;
}

/**
 * Several netem effects (or a netem rate, or a delay that reorders) → network-netem: one netem
 * qdisc with each effect, as Chaos Mesh merges them. Each block keeps its own defaults (jitter
 * 0ms, correlations 0); rates are in tc's units, as Chaos Mesh passes them to tc.
 */
function netem(spec: Obj, at: string, blocks: string[], iface: Obj, b: ImportBuilder): Obj | undefined {
  const params: Obj = { ...iface };
  b.map('/spec/fault/params', at);
  for (const k of blocks) {
    const blk = spec[k];
    const where = `${at}/${k}`;
    if (!isObj(blk)) {
      b.fail(blk === undefined ? at : where, `${k} must be a mapping`);
      continue;
    }
    b.map(`/spec/fault/params/${k}`, where);
    if (k === 'delay') {
      b.onlyKnown(blk, where, ['latency', 'jitter', 'correlation', 'reorder']);
      const delay: Obj = {
        latency: durationField(b, `${where}/latency`, blk.latency),
        jitter: blk.jitter === undefined ? '0ms' : durationField(b, `${where}/jitter`, blk.jitter, undefined, true),
        correlation: percentField(b, `${where}/correlation`, blk.correlation ?? '0', true),
      };
      if (blk.reorder !== undefined) {
        const r = blk.reorder;
        if (!isObj(r)) b.fail(`${where}/reorder`, 'reorder must be a mapping with reorder and correlation');
        else {
          b.onlyKnown(r, `${where}/reorder`, ['reorder', 'correlation', 'gap']);
          if (r.gap !== undefined && r.gap !== 0) b.fail(`${where}/reorder/gap`, 'gap has no Faultline equivalent: network-netem reorders at random, not every gap-th packet', true);
          b.map(`/spec/fault/params/delay/reorder/percent`, `${where}/reorder/reorder`);
          delay.reorder = { percent: percentField(b, `${where}/reorder/reorder`, r.reorder, false), correlation: percentField(b, `${where}/reorder/correlation`, r.correlation ?? '0', true) };
        }
      }
      params.delay = delay;
    } else if (k === 'rate') {
      b.onlyKnown(blk, where, ['rate']);
      b.map('/spec/fault/params/rate', `${where}/rate`);
      params.rate = typeof blk.rate === 'string' ? blk.rate.trim().toLowerCase() : blk.rate;
    } else {
      b.onlyKnown(blk, where, [k, 'correlation']);
      b.map(`/spec/fault/params/${k}/percent`, `${where}/${k}`);
      params[k] = { percent: percentField(b, `${where}/${k}`, blk[k], false), correlation: percentField(b, `${where}/correlation`, blk.correlation ?? '0', true) };
    }
  }
  return { type: 'network-netem', params };
}

/** Chaos Mesh writes percentages as strings ("25"); correlation is rounded to a whole percent. */
function percentField(b: ImportBuilder, at: string, v: unknown, whole: boolean): number | undefined {
  const n = num(v);
  if (n === undefined || n < 0 || n > 100) {
    b.fail(at, `${shown(v)} is not a percentage from 0 to 100`);
    return undefined;
  }
  return whole ? Math.round(n) : n;
}

// Chaos Mesh's partition adds rules in the selected pods and in the target pods; for the traffic
// between the two sets, the selected pods' rules alone do the same: to = the selected pods drop
// what they send to the targets (egress), from = what they receive from them (ingress), both.
const PEER_DIRECTION: Record<string, string> = { to: 'egress', from: 'ingress', both: 'both' };

function partition(spec: Obj, at: string, direction: unknown, iface: Obj, metadata: Obj, b: ImportBuilder): Obj | undefined {
  const targets = spec.externalTargets;
  const peers = spec.target === undefined ? undefined : peerTarget(spec.target, `${at}/target`, metadata, b);
  if (spec.target !== undefined && !peers) return undefined;
  if (peers && (targets === undefined || (Array.isArray(targets) && targets.length === 0))) {
    b.map('/spec/fault/params/peers', `${at}/target`);
    b.map('/spec/fault/params/direction', `${at}/direction`);
    return { type: 'network-partition', params: { direction: PEER_DIRECTION[String(direction)] ?? direction, peers, ...iface } };
  }
  if (!Array.isArray(targets) || targets.length === 0) {
    b.fail(at, 'action partition needs externalTargets (IPs or CIDRs) or a target (peer pods)');
    return undefined;
  }
  if (direction !== 'to') {
    b.fail(`${at}/direction`, `Chaos Mesh applies externalTargets only with direction to, not ${String(direction)}`);
    return undefined;
  }
  const cidrs: string[] = [];
  const portsOf: (number | undefined)[] = [];
  targets.forEach((t, i) => {
    const where = `${at}/externalTargets/${i}`;
    if (typeof t !== 'string') return b.fail(where, 'externalTargets entries must be strings');
    // "1.1.1.1:80", "10.0.0.0/8:22": Chaos Mesh cuts only that port of those addresses.
    const m = /^([0-9.]+(?:\/[0-9]{1,2})?)(?::([0-9]{1,5}))?$/.exec(t.trim());
    const v6 = /^\[?([0-9a-fA-F:]+(?:\/[0-9]{1,3})?)\]?$/.exec(t.trim());
    if (m) {
      cidrs.push(m[1]!.includes('/') ? m[1]! : `${m[1]}/32`);
      portsOf.push(m[2] === undefined ? undefined : Number(m[2]));
    } else if (v6 && t.includes(':')) {
      cidrs.push(v6[1]!.includes('/') ? v6[1]! : `${v6[1]}/128`);
      portsOf.push(undefined);
    } else {
      b.fail(where, `"${t}" is a host name: Faultline partitions by IP and CIDR only (a name can resolve to other addresses inside the pod)`);
    }
  });
  const withPort = new Set(portsOf.filter((p) => p !== undefined));
  if (withPort.size > 1 || (withPort.size === 1 && portsOf.includes(undefined))) {
    b.fail(`${at}/externalTargets`, 'externalTargets mix ports (or ports and whole addresses): one Faultline partition applies one port list to all its CIDRs; split it into one experiment per port');
    return undefined;
  }
  b.map('/spec/fault/params/cidrs', `${at}/externalTargets`);
  b.map('/spec/fault/params/ports', `${at}/externalTargets`);
  b.map('/spec/fault/params/direction', `${at}/direction`);
  if (peers && withPort.size) {
    b.fail(`${at}/externalTargets`, 'externalTargets with ports beside a target: Chaos Mesh cuts the target pods on every port; one Faultline partition applies one port list to all it cuts (split it into two experiments)');
    return undefined;
  }
  if (peers) b.map('/spec/fault/params/peers', `${at}/target`);
  return { type: 'network-partition', params: { direction: 'egress', cidrs, ...(withPort.size ? { ports: [...withPort] } : {}), ...(peers ? { peers } : {}), ...iface } };
}

/** A NetworkChaos `target` (peer pods: selector and mode) → network-partition's peers. */
function peerTarget(t: unknown, at: string, metadata: Obj, b: ImportBuilder): Obj | undefined {
  if (!isObj(t)) return void b.fail(at, 'target must be a mapping with selector and mode');
  b.onlyKnown(t, at, ['selector', 'mode', 'value']);
  // The same selector, mode and namespace rules as the chaos's own pods (Chaos Mesh's webhook
  // defaults both selectors alike), read into a builder of its own: its pointers are not the target's.
  const sub = new ImportBuilder();
  const peer = importTarget(t, at, metadata, sub);
  for (const p of sub.problems) b.problems.push(p);
  if (!peer || sub.problems.length) return undefined;
  if (!(isObj(t.selector) && Array.isArray(t.selector.namespaces) && t.selector.namespaces.length)) {
    b.note(`peers namespace ${String(peer.namespace)}: the target names no namespace, so Chaos Mesh looks for the peers in the chaos object's own namespace`);
  }
  return { namespace: peer.namespace, selector: peer.selector, mode: peer.mode };
}

function stressChaos(spec: Obj, at: string, b: ImportBuilder, durationMs: number | undefined): Obj | undefined {
  b.onlyKnown(spec, at, [...COMMON, 'stressors', 'stressngStressors', 'containerNames']);
  if (spec.stressngStressors !== undefined) b.fail(`${at}/stressngStressors`, 'stressngStressors (raw stress-ng options) has no Faultline equivalent: parameters never reach a command as text', true);
  if (spec.containerNames !== undefined) b.fail(`${at}/containerNames`, 'containerNames has no Faultline equivalent: Faultline stresses the whole pod\'s cgroup', true);
  const s = spec.stressors;
  if (!isObj(s)) return void b.fail(at, 'StressChaos needs stressors (cpu or memory)');
  b.onlyKnown(s, `${at}/stressors`, ['cpu', 'memory']);
  if (s.cpu !== undefined && s.memory !== undefined) {
    return void b.fail(`${at}/stressors`, 'stressors has both cpu and memory: a Faultline experiment injects one fault; split it into two experiments');
  }
  const options = (o: Obj, where: string) => {
    if (o.options !== undefined) b.fail(`${where}/options`, 'options (extra stress-ng arguments) has no Faultline equivalent: parameters never reach a command as text', true);
  };
  const workersOf = (o: Obj, where: string): number | undefined => {
    const w = num(o.workers);
    // Chaos Mesh starts no stressor at all when workers is 0 or absent.
    if (w === undefined || !Number.isInteger(w) || w < 1) b.fail(o.workers === undefined ? where : `${where}/workers`, `workers must be a whole number of at least 1 (Chaos Mesh starts no stressor without it), not ${shown(o.workers)}`);
    return w;
  };
  if (isObj(s.cpu)) {
    const where = `${at}/stressors/cpu`;
    b.onlyKnown(s.cpu, where, ['workers', 'load', 'options']);
    b.map('/spec/fault/params', where);
    const params: Obj = { workers: workersOf(s.cpu, where) };
    // Chaos Mesh passes no --cpu-load without load: stress-ng then loads each worker fully.
    params.load = s.cpu.load === undefined ? 100 : num(s.cpu.load) ?? s.cpu.load;
    if (s.cpu.options !== undefined && !cpuOptions(s.cpu.options, `${where}/options`, params, durationMs, b)) return undefined;
    return { type: 'cpu-stress', params };
  }
  if (isObj(s.memory)) {
    const where = `${at}/stressors/memory`;
    b.onlyKnown(s.memory, where, ['workers', 'size', 'options', 'oomScoreAdj']);
    options(s.memory, where);
    if (s.memory.oomScoreAdj !== undefined) b.fail(`${where}/oomScoreAdj`, 'oomScoreAdj has no Faultline equivalent (the stressor keeps the injector\'s OOM score)', true);
    b.map('/spec/fault/params', where);
    const workers = workersOf(s.memory, where);
    const size = s.memory.size;
    if (size === undefined) return void b.fail(where, 'memory needs a size: without one Chaos Mesh takes all available memory, Faultline needs an absolute size like 256MB');
    if (typeof size === 'string' && size.trim().endsWith('%')) return void b.fail(`${where}/size`, 'a percentage size has no Faultline equivalent: give an absolute size like 256MB');
    // Chaos Mesh's size is per worker (KB/MB/GB decimal, KiB/MiB/GiB binary); Faultline's is the total.
    const bytes = sizeBytes(size, 'si');
    const total = bytes === undefined || workers === undefined ? undefined : nativeSize(bytes * workers);
    if (bytes === undefined) return void b.fail(`${where}/size`, `${shown(size)} is not a size like 256MB or 1GiB`);
    if (total === undefined) return workers === undefined ? undefined : void b.fail(`${where}/size`, `${shown(size)} × ${workers} workers is less than 1MiB`);
    b.map('/spec/fault/params/size', `${where}/size`);
    b.note(`memory size ${total}: Chaos Mesh's ${String(size)} is per worker, × ${workers} workers`);
    return { type: 'memory-stress', params: { size: total, workers } };
  }
  b.fail(`${at}/stressors`, 'stressors needs cpu or memory');
  return undefined;
}
