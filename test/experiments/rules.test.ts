// Every schema rule and semantic rule: a failing case (problem at the expected pointer) and a
// passing case (no problems at all), each applied to an otherwise valid experiment.
import { describe, expect, it } from 'vitest';
import { FAULT_TYPES } from '../../src/experiments/model.js';
import { baseDoc, loadDoc, type Doc } from './helpers.js';

interface Rule {
  name: string;
  bad: (d: Doc) => void;
  pointer: string;
  message?: RegExp;
  good?: (d: Doc) => void;
}

const params = (type: string, p: unknown) => (d: Doc) => {
  d.spec.fault = { type, params: p };
};
const probe = (p: Doc) => (d: Doc) => {
  d.spec.steadyState.probes = [{ name: 'p', ...p }];
};

const RULES: Rule[] = [
  // document shape
  { name: 'apiVersion is faultline.dev/v1alpha1', bad: (d) => (d.apiVersion = 'faultline.dev/v1'), pointer: '/apiVersion', message: /must be "faultline.dev\/v1alpha1"/ },
  { name: 'kind is ChaosExperiment', bad: (d) => (d.kind = 'Experiment'), pointer: '/kind', message: /must be "ChaosExperiment"/ },
  { name: 'foreign documents are refused by name', bad: (d) => (d.apiVersion = 'apps/v1'), pointer: '/apiVersion', message: /unsupported document apps\/v1 ChaosExperiment/ },
  { name: 'metadata is required', bad: (d) => delete d.metadata, pointer: '/metadata', message: /missing required field "metadata"/ },
  { name: 'no unknown top-level fields', bad: (d) => (d.status = {}), pointer: '/status', message: /unknown field "status"/ },
  { name: 'name is a DNS-1123 label', bad: (d) => (d.metadata.name = 'Bad_Name'), pointer: '/metadata/name', message: /DNS-1123/, good: (d) => (d.metadata.name = 'a-1') },
  { name: 'name at most 63 characters', bad: (d) => (d.metadata.name = 'a'.repeat(64)), pointer: '/metadata/name', good: (d) => (d.metadata.name = 'a'.repeat(63)) },
  { name: 'no unknown metadata fields', bad: (d) => (d.metadata.namespace = 'x'), pointer: '/metadata/namespace' },
  { name: 'label values are strings', bad: (d) => (d.metadata.labels = { team: 1 }), pointer: '/metadata/labels/team', message: /must be string/ },
  { name: 'label keys are label keys', bad: (d) => (d.metadata.labels = { '-team': 'x' }), pointer: '/metadata/labels/-team', good: (d) => (d.metadata.labels = { 'faultline.dev/team': 'x' }) },
  { name: 'label values are label values', bad: (d) => (d.metadata.labels = { team: 'not ok' }), pointer: '/metadata/labels/team', good: (d) => (d.metadata.labels = { team: '' }) },
  { name: 'spec.duration is required', bad: (d) => delete d.spec.duration, pointer: '/spec/duration', message: /missing required field "duration"/ },
  { name: 'spec.fault is required', bad: (d) => delete d.spec.fault, pointer: '/spec/fault' },
  { name: 'spec.target is required', bad: (d) => delete d.spec.target, pointer: '/spec/target' },
  { name: 'no unknown spec fields', bad: (d) => (d.spec.retries = 3), pointer: '/spec/retries' },
  { name: 'description is a string', bad: (d) => (d.spec.description = 5), pointer: '/spec/description', good: (d) => delete d.spec.description },
  // fault
  { name: 'fault.type is registered', bad: (d) => (d.spec.fault.type = 'pod-explode'), pointer: '/spec/fault/type', message: /must be one of "pod-kill"/ },
  { name: 'fault.params is a mapping', bad: (d) => (d.spec.fault.params = [1]), pointer: '/spec/fault/params', good: (d) => delete d.spec.fault.params },
  // target
  { name: 'target.namespace is a DNS label', bad: (d) => (d.spec.target.namespace = 'Shop'), pointer: '/spec/target/namespace' },
  { name: 'target.selector is required', bad: (d) => delete d.spec.target.selector, pointer: '/spec/target/selector' },
  { name: 'selector is not empty', bad: (d) => (d.spec.target.selector = {}), pointer: '/spec/target/selector', message: /selector is empty/ },
  { name: 'matchLabels keys are label keys', bad: (d) => (d.spec.target.selector.matchLabels = { 'bad key': 'x' }), pointer: '/spec/target/selector/matchLabels/bad key' },
  { name: 'matchLabels values are label values', bad: (d) => (d.spec.target.selector.matchLabels = { app: 'x'.repeat(64) }), pointer: '/spec/target/selector/matchLabels/app' },
  {
    name: 'matchExpressions operator is a Kubernetes operator',
    bad: (d) => (d.spec.target.selector.matchExpressions = [{ key: 'tier', operator: 'Like', values: ['a'] }]),
    pointer: '/spec/target/selector/matchExpressions/0/operator',
    good: (d) => (d.spec.target.selector.matchExpressions = [{ key: 'tier', operator: 'NotIn', values: ['a'] }]),
  },
  { name: 'In needs values', bad: (d) => (d.spec.target.selector.matchExpressions = [{ key: 'tier', operator: 'In' }]), pointer: '/spec/target/selector/matchExpressions/0/values', message: /non-empty values/ },
  {
    name: 'Exists takes no values',
    bad: (d) => (d.spec.target.selector.matchExpressions = [{ key: 'tier', operator: 'Exists', values: ['a'] }]),
    pointer: '/spec/target/selector/matchExpressions/0/values',
    good: (d) => (d.spec.target.selector.matchExpressions = [{ key: 'tier', operator: 'Exists' }, { key: 'canary', operator: 'DoesNotExist' }]),
  },
  { name: 'expression keys are label keys', bad: (d) => (d.spec.target.selector.matchExpressions = [{ key: 'a/b/c', operator: 'Exists' }]), pointer: '/spec/target/selector/matchExpressions/0/key' },
  { name: 'expression values are label values', bad: (d) => (d.spec.target.selector.matchExpressions = [{ key: 'a', operator: 'In', values: ['-x'] }]), pointer: '/spec/target/selector/matchExpressions/0/values/0' },
  // mode
  { name: 'mode.type is one|all|fixed|percent', bad: (d) => (d.spec.target.mode = { type: 'some' }), pointer: '/spec/target/mode/type', good: (d) => (d.spec.target.mode = { type: 'one' }) },
  { name: 'mode fixed needs a value', bad: (d) => (d.spec.target.mode = { type: 'fixed' }), pointer: '/spec/target/mode/value', good: (d) => (d.spec.target.mode = { type: 'fixed', value: 2 }) },
  { name: 'mode fixed >= 1', bad: (d) => (d.spec.target.mode = { type: 'fixed', value: 0 }), pointer: '/spec/target/mode/value' },
  { name: 'mode fixed is whole', bad: (d) => (d.spec.target.mode = { type: 'fixed', value: 1.5 }), pointer: '/spec/target/mode/value' },
  { name: 'mode percent needs a value', bad: (d) => (d.spec.target.mode = { type: 'percent' }), pointer: '/spec/target/mode/value' },
  { name: 'mode percent >= 1', bad: (d) => (d.spec.target.mode = { type: 'percent', value: 0 }), pointer: '/spec/target/mode/value', good: (d) => (d.spec.target.mode = { type: 'percent', value: 1 }) },
  {
    name: 'mode percent <= 100',
    bad: (d) => (d.spec.target.mode = { type: 'percent', value: 101 }),
    pointer: '/spec/target/mode/value',
    good: (d) => {
      d.spec.target.mode = { type: 'percent', value: 100 };
      delete d.spec.safety;
    },
  },
  { name: 'mode one takes no value', bad: (d) => (d.spec.target.mode = { type: 'one', value: 1 }), pointer: '/spec/target/mode/value' },
  { name: 'mode is optional (defaults to one)', bad: (d) => (d.spec.target.mode = 'one'), pointer: '/spec/target/mode', good: (d) => delete d.spec.target.mode },
  // duration
  { name: 'duration syntax', bad: (d) => (d.spec.duration = '5x'), pointer: '/spec/duration', message: /like 500ms/, good: (d) => (d.spec.duration = '1h30m') },
  { name: 'duration >= 1s', bad: (d) => (d.spec.duration = '999ms'), pointer: '/spec/duration', message: /between 1s and 24h/, good: (d) => (d.spec.duration = '1s') },
  { name: 'duration <= 24h', bad: (d) => (d.spec.duration = '24h1s'), pointer: '/spec/duration', good: (d) => (d.spec.duration = '24h') },
  { name: 'duration is a string', bad: (d) => (d.spec.duration = 30), pointer: '/spec/duration' },
  // schedule
  { name: 'schedule needs cron', bad: (d) => (d.spec.schedule = { timezone: 'UTC' }), pointer: '/spec/schedule/cron', good: (d) => (d.spec.schedule = { cron: '0 10 * * 1-5' }) },
  { name: 'cron has 5 fields', bad: (d) => (d.spec.schedule = { cron: '0 0 10 * * 1' }), pointer: '/spec/schedule/cron', message: /5 fields/ },
  { name: 'cron values in range', bad: (d) => (d.spec.schedule = { cron: '61 * * * *' }), pointer: '/spec/schedule/cron', good: (d) => (d.spec.schedule = { cron: '*/15 9-17 * * MON-FRI' }) },
  {
    name: 'timezone is IANA',
    bad: (d) => (d.spec.schedule = { cron: '0 3 * * *', timezone: 'Mars/Olympus' }),
    pointer: '/spec/schedule/timezone',
    message: /IANA/,
    good: (d) => (d.spec.schedule = { cron: '0 3 * * *', timezone: 'America/New_York' }),
  },
  { name: 'suspend is boolean', bad: (d) => (d.spec.suspend = 'yes'), pointer: '/spec/suspend', good: (d) => (d.spec.suspend = true) },
  // probes
  { name: 'steadyState needs probes', bad: (d) => (d.spec.steadyState = {}), pointer: '/spec/steadyState/probes', good: (d) => (d.spec.steadyState = { probes: [] }) },
  { name: 'probe needs a name', bad: (d) => delete d.spec.steadyState.probes[0].name, pointer: '/spec/steadyState/probes/0/name' },
  { name: 'probe names unique', bad: (d) => (d.spec.steadyState.probes[1].name = 'checkout-ready'), pointer: '/spec/steadyState/probes/1/name', message: /already used/ },
  { name: 'probe has exactly one kind (none)', bad: probe({}), pointer: '/spec/steadyState/probes/0', message: /exactly one/ },
  {
    name: 'probe has exactly one kind (two)',
    bad: probe({ http: { url: 'http://a/' }, kubernetes: { namespace: 'shop', kind: 'Deployment', name: 'a', minReadyReplicas: 1 } }),
    pointer: '/spec/steadyState/probes/0',
  },
  { name: 'probe interval >= 1s', bad: probe({ http: { url: 'http://a/' }, interval: '500ms' }), pointer: '/spec/steadyState/probes/0/interval', good: probe({ http: { url: 'http://a/' }, interval: '1s' }) },
  { name: 'probe failureThreshold >= 1', bad: probe({ http: { url: 'http://a/' }, failureThreshold: 0 }), pointer: '/spec/steadyState/probes/0/failureThreshold', good: probe({ http: { url: 'http://a/' }, failureThreshold: 1 }) },
  { name: 'http url is http(s)', bad: probe({ http: { url: 'ftp://a/' } }), pointer: '/spec/steadyState/probes/0/http/url', good: probe({ http: { url: 'https://a.example/x?y=1' } }) },
  { name: 'http url parses', bad: probe({ http: { url: 'http://[::1' } }), pointer: '/spec/steadyState/probes/0/http/url', message: /not a valid URL/ },
  { name: 'http method enum', bad: probe({ http: { url: 'http://a/', method: 'DELETE' } }), pointer: '/spec/steadyState/probes/0/http/method', good: probe({ http: { url: 'http://a/', method: 'HEAD' } }) },
  { name: 'http expectStatus are status codes', bad: probe({ http: { url: 'http://a/', expectStatus: [700] } }), pointer: '/spec/steadyState/probes/0/http/expectStatus/0' },
  { name: 'http bodyMatch is a regex', bad: probe({ http: { url: 'http://a/', bodyMatch: '(' } }), pointer: '/spec/steadyState/probes/0/http/bodyMatch', good: probe({ http: { url: 'http://a/', bodyMatch: '"ok":\\s*true' } }) },
  { name: 'http timeout <= 60s', bad: probe({ http: { url: 'http://a/', timeout: '2m' }, interval: '5m' }), pointer: '/spec/steadyState/probes/0/http/timeout' },
  { name: 'http timeout <= interval', bad: probe({ http: { url: 'http://a/', timeout: '10s' } }), pointer: '/spec/steadyState/probes/0/http/timeout', message: /longer than the probe interval/, good: probe({ http: { url: 'http://a/', timeout: '5s' } }) },
  { name: 'http maxLatency bounded', bad: probe({ http: { url: 'http://a/', maxLatency: '0ms' } }), pointer: '/spec/steadyState/probes/0/http/maxLatency', good: probe({ http: { url: 'http://a/', maxLatency: '300ms' } }) },
  { name: 'prometheus needs query', bad: probe({ prometheus: { url: 'http://prom:9090', op: '<', threshold: 1 } }), pointer: '/spec/steadyState/probes/0/prometheus/query' },
  {
    name: 'prometheus op enum',
    bad: probe({ prometheus: { url: 'http://prom:9090', query: 'up', op: '=~', threshold: 1 } }),
    pointer: '/spec/steadyState/probes/0/prometheus/op',
    good: probe({ prometheus: { url: 'http://prom:9090', query: 'sum(rate(http_errors[1m]))', op: '<', threshold: 0.05 } }),
  },
  { name: 'kubernetes kind enum', bad: probe({ kubernetes: { namespace: 'shop', kind: 'DaemonSet', name: 'a', minReadyReplicas: 1 } }), pointer: '/spec/steadyState/probes/0/kubernetes/kind' },
  { name: 'kubernetes minReadyReplicas >= 0', bad: probe({ kubernetes: { namespace: 'shop', kind: 'StatefulSet', name: 'a', minReadyReplicas: -1 } }), pointer: '/spec/steadyState/probes/0/kubernetes/minReadyReplicas' },
  // safety
  { name: 'maxBlastRadiusPercent >= 1', bad: (d) => (d.spec.safety.maxBlastRadiusPercent = 0), pointer: '/spec/safety/maxBlastRadiusPercent', good: (d) => (d.spec.safety = { maxBlastRadiusPercent: 25 }) },
  { name: 'maxBlastRadiusPercent <= 100', bad: (d) => (d.spec.safety.maxBlastRadiusPercent = 101), pointer: '/spec/safety/maxBlastRadiusPercent', good: (d) => (d.spec.safety.maxBlastRadiusPercent = 100) },
  { name: 'maxTargets >= 1', bad: (d) => (d.spec.safety.maxTargets = 0), pointer: '/spec/safety/maxTargets', good: (d) => (d.spec.safety.maxTargets = 1) },
  { name: 'maxTargets is whole', bad: (d) => (d.spec.safety.maxTargets = 1.5), pointer: '/spec/safety/maxTargets' },
  { name: 'no unknown safety fields', bad: (d) => (d.spec.safety.protectedNamespaces = []), pointer: '/spec/safety/protectedNamespaces' },
  { name: 'fixed mode within maxTargets', bad: (d) => (d.spec.target.mode = { type: 'fixed', value: 4 }), pointer: '/spec/target/mode/value', message: /maxTargets is 3/, good: (d) => (d.spec.target.mode = { type: 'fixed', value: 3 }) },
  { name: 'percent mode within maxBlastRadiusPercent', bad: (d) => (d.spec.target.mode = { type: 'percent', value: 60 }), pointer: '/spec/target/mode/value', good: (d) => (d.spec.target.mode = { type: 'percent', value: 50 }) },
  { name: 'mode all within maxBlastRadiusPercent', bad: (d) => (d.spec.target.mode = { type: 'all' }), pointer: '/spec/target/mode/type', good: (d) => (d.spec.safety = { maxBlastRadiusPercent: 100 }) },
  // notify
  { name: 'slack channel syntax', bad: (d) => (d.spec.notify = { slack: { channel: 'Bad Channel' } }), pointer: '/spec/notify/slack/channel', good: (d) => (d.spec.notify = { slack: { channel: '#chaos' } }) },
  { name: 'webhook url is http(s)', bad: (d) => (d.spec.notify = { webhook: { url: 'mailto:x' } }), pointer: '/spec/notify/webhook/url', good: (d) => (d.spec.notify = { webhook: { url: 'https://hooks.example/x' } }) },
  // fault params, per type
  { name: 'pod-kill gracePeriodSeconds <= 3600', bad: params('pod-kill', { gracePeriodSeconds: 3601 }), pointer: '/spec/fault/params/gracePeriodSeconds', good: params('pod-kill', { gracePeriodSeconds: 3600 }) },
  { name: 'pod-kill has no other params', bad: params('pod-kill', { force: true }), pointer: '/spec/fault/params/force', message: /unknown field "force"/ },
  { name: 'container-kill needs container', bad: params('container-kill', {}), pointer: '/spec/fault/params/container', good: params('container-kill', { container: 'app' }) },
  { name: 'container-kill needs params at all', bad: (d) => (d.spec.fault = { type: 'container-kill' }), pointer: '/spec/fault/params' },
  { name: 'container-kill signal enum', bad: params('container-kill', { container: 'app', signal: 'SIGHUP' }), pointer: '/spec/fault/params/signal', good: params('container-kill', { container: 'app', signal: 'SIGTERM' }) },
  { name: 'network-delay needs latency', bad: params('network-delay', { jitter: '1ms' }), pointer: '/spec/fault/params/latency', good: params('network-delay', { latency: '1ms' }) },
  { name: 'network-delay latency >= 1ms', bad: params('network-delay', { latency: '0ms' }), pointer: '/spec/fault/params/latency' },
  { name: 'network-delay latency <= 10s', bad: params('network-delay', { latency: '10s1ms' }), pointer: '/spec/fault/params/latency', good: params('network-delay', { latency: '10s', jitter: '10s' }) },
  { name: 'network-delay jitter <= 10s', bad: params('network-delay', { latency: '1s', jitter: '11s' }), pointer: '/spec/fault/params/jitter' },
  { name: 'network-delay correlation <= 100', bad: params('network-delay', { latency: '1s', correlation: 101 }), pointer: '/spec/fault/params/correlation' },
  { name: 'network-delay interface name', bad: params('network-delay', { latency: '1s', interface: 'eth0; rm -rf /' }), pointer: '/spec/fault/params/interface', good: params('network-delay', { latency: '1s', interface: 'ens5' }) },
  { name: 'network-loss needs percent', bad: params('network-loss', {}), pointer: '/spec/fault/params/percent' },
  { name: 'network-loss percent >= 0.1', bad: params('network-loss', { percent: 0.05 }), pointer: '/spec/fault/params/percent', good: params('network-loss', { percent: 0.1 }) },
  { name: 'network-loss percent <= 100', bad: params('network-loss', { percent: 100.5 }), pointer: '/spec/fault/params/percent', good: params('network-loss', { percent: 100, correlation: 50 }) },
  { name: 'network-partition needs cidrs or peers', bad: params('network-partition', { direction: 'both' }), pointer: '/spec/fault/params', message: /needs cidrs, peers, or both/, good: params('network-partition', { cidrs: ['10.1.2.0/24'] }) },
  { name: 'network-partition peers need a selector', bad: params('network-partition', { peers: { namespace: 'data' } }), pointer: '/spec/fault/params/peers/selector', good: params('network-partition', { peers: { namespace: 'data', selector: { matchLabels: { app: 'db' } } } }) },
  { name: 'network-partition peer mode fixed needs a value', bad: params('network-partition', { peers: { selector: {}, mode: { type: 'fixed' } } }), pointer: '/spec/fault/params/peers/mode', message: /needs a value/, good: params('network-partition', { peers: { selector: {}, mode: { type: 'fixed', value: 2 } } }) },
  { name: 'network-netem needs an effect', bad: params('network-netem', { interface: 'eth0' }), pointer: '/spec/fault/params', message: /at least one of delay, loss, corrupt, duplicate, rate/, good: params('network-netem', { loss: { percent: 1 } }) },
  { name: 'network-netem reorder only under a delay', bad: params('network-netem', { reorder: { percent: 5 } }), pointer: '/spec/fault/params/reorder', good: params('network-netem', { delay: { latency: '10ms', reorder: { percent: 5 } } }) },
  { name: 'network-netem rate has tc units', bad: params('network-netem', { rate: '1 Mbps' }), pointer: '/spec/fault/params/rate', good: params('network-netem', { rate: '1mbps' }) },
  { name: 'network-partition cidrs are CIDRs', bad: params('network-partition', { cidrs: ['10.0.0.0/33'] }), pointer: '/spec/fault/params/cidrs/0', message: /not a CIDR/, good: params('network-partition', { cidrs: ['2001:db8::/32', '0.0.0.0/0'] }) },
  { name: 'network-partition cidrs not host names', bad: params('network-partition', { cidrs: ['db.example.com/32'] }), pointer: '/spec/fault/params/cidrs/0' },
  { name: 'network-partition at most 32 cidrs', bad: params('network-partition', { cidrs: Array.from({ length: 33 }, (_, i) => `10.0.${i}.0/24`) }), pointer: '/spec/fault/params/cidrs' },
  { name: 'network-partition at least 1 cidr', bad: params('network-partition', { cidrs: [] }), pointer: '/spec/fault/params/cidrs' },
  { name: 'network-partition ports in range', bad: params('network-partition', { cidrs: ['10.0.0.0/8'], ports: [0] }), pointer: '/spec/fault/params/ports/0', good: params('network-partition', { cidrs: ['10.0.0.0/8'], ports: [1, 65535] }) },
  { name: 'network-partition ports unique', bad: params('network-partition', { cidrs: ['10.0.0.0/8'], ports: [80, 80] }), pointer: '/spec/fault/params/ports' },
  { name: 'network-partition direction enum', bad: params('network-partition', { cidrs: ['10.0.0.0/8'], direction: 'sideways' }), pointer: '/spec/fault/params/direction', good: params('network-partition', { cidrs: ['10.0.0.0/8'], direction: 'egress' }) },
  { name: 'cpu-stress workers <= 64', bad: params('cpu-stress', { workers: 65 }), pointer: '/spec/fault/params/workers', good: params('cpu-stress', { workers: 64, load: 1 }) },
  { name: 'cpu-stress load >= 1', bad: params('cpu-stress', { load: 0 }), pointer: '/spec/fault/params/load', good: params('cpu-stress', {}) },
  { name: 'memory-stress needs size', bad: params('memory-stress', { workers: 1 }), pointer: '/spec/fault/params/size', good: params('memory-stress', { size: '1Mi' }) },
  { name: 'memory-stress size syntax', bad: params('memory-stress', { size: '512MB' }), pointer: '/spec/fault/params/size', message: /like 256Mi/ },
  { name: 'memory-stress size <= 64Gi', bad: params('memory-stress', { size: '65Gi' }), pointer: '/spec/fault/params/size', message: /at most 64Gi/, good: params('memory-stress', { size: '64Gi' }) },
  { name: 'memory-stress size <= 64Gi in Mi', bad: params('memory-stress', { size: '65537Mi' }), pointer: '/spec/fault/params/size', good: params('memory-stress', { size: '65536Mi' }) },
  { name: 'memory-stress workers <= 16', bad: params('memory-stress', { size: '1Gi', workers: 17 }), pointer: '/spec/fault/params/workers' },
  { name: 'scale-down replicas >= 0', bad: params('scale-down', { replicas: -1 }), pointer: '/spec/fault/params/replicas', good: params('scale-down', { replicas: 0 }) },
  { name: 'scale-down replicas <= 1000', bad: params('scale-down', { replicas: 1001 }), pointer: '/spec/fault/params/replicas', good: params('scale-down', { replicas: 1000 }) },
  { name: 'node-cordon takes no params', bad: params('node-cordon', { drain: true }), pointer: '/spec/fault/params/drain', message: /no fields allowed/, good: params('node-cordon', {}) },
  { name: 'network-corrupt needs percent', bad: params('network-corrupt', {}), pointer: '/spec/fault/params/percent', good: params('network-corrupt', { percent: 5 }) },
  { name: 'network-duplicate percent <= 100', bad: params('network-duplicate', { percent: 101 }), pointer: '/spec/fault/params/percent', good: params('network-duplicate', { percent: 100, correlation: 25 }) },
  { name: 'network-bandwidth rate has tc units', bad: params('network-bandwidth', { rate: '1 Mbps' }), pointer: '/spec/fault/params/rate', good: params('network-bandwidth', { rate: '1mbit' }) },
  { name: 'network-bandwidth buffer >= 1600 bytes', bad: params('network-bandwidth', { rate: '1mbit', buffer: 10 }), pointer: '/spec/fault/params/buffer', good: params('network-bandwidth', { rate: '1mbit', buffer: 1600, limit: 1600 }) },
  { name: 'pod-failure takes no params', bad: params('pod-failure', { image: 'busybox' }), pointer: '/spec/fault/params/image', message: /no fields allowed/, good: params('pod-failure', {}) },
  { name: 'http-fault needs virtualService', bad: params('http-fault', { abort: { httpStatus: 503, percent: 5 } }), pointer: '/spec/fault/params/virtualService' },
  { name: 'http-fault needs abort or delay', bad: params('http-fault', { virtualService: 'checkout' }), pointer: '/spec/fault/params', message: /at least one of abort, delay/, good: params('http-fault', { virtualService: 'checkout', delay: { fixedDelay: '60s', percent: 0 } }) },
  { name: 'http-fault abort status 200..599', bad: params('http-fault', { virtualService: 'checkout', abort: { httpStatus: 199, percent: 5 } }), pointer: '/spec/fault/params/abort/httpStatus', good: params('http-fault', { virtualService: 'checkout', abort: { httpStatus: 599, percent: 100 } }) },
  { name: 'http-fault abort needs percent', bad: params('http-fault', { virtualService: 'checkout', abort: { httpStatus: 503 } }), pointer: '/spec/fault/params/abort/percent' },
  { name: 'http-fault delay <= 60s', bad: params('http-fault', { virtualService: 'checkout', delay: { fixedDelay: '61s', percent: 5 } }), pointer: '/spec/fault/params/delay/fixedDelay' },
  { name: 'http-fault virtualService is a DNS name', bad: params('http-fault', { virtualService: 'Check Out', abort: { httpStatus: 503, percent: 1 } }), pointer: '/spec/fault/params/virtualService' },
];

describe('experiment rules', () => {
  it('the base document is valid', () => {
    const r = loadDoc(baseDoc());
    expect(r.problems).toEqual([]);
    expect(r.experiments).toHaveLength(1);
  });

  it('covers every fault type with a failing and a passing params case', () => {
    for (const type of FAULT_TYPES) {
      expect(RULES.some((r) => r.name.startsWith(type + ' ') && r.good), type).toBe(true);
      expect(RULES.some((r) => r.name.startsWith(type + ' ') && r.pointer.startsWith('/spec/fault/params')), type).toBe(true);
    }
  });

  for (const rule of RULES) {
    it(`fails: ${rule.name}`, () => {
      const d = baseDoc();
      rule.bad(d);
      const r = loadDoc(d);
      expect(r.experiments).toHaveLength(0);
      const hit = r.problems.find((p) => p.pointer === rule.pointer);
      expect(hit, JSON.stringify(r.problems, null, 1)).toBeDefined();
      if (rule.message) expect(hit!.message).toMatch(rule.message);
      expect(hit!.line).toBeGreaterThan(0);
      expect(hit!.column).toBeGreaterThan(0);
    });
    if (rule.good) {
      it(`passes: ${rule.name}`, () => {
        const d = baseDoc();
        rule.good!(d);
        const r = loadDoc(d);
        expect(r.problems).toEqual([]);
        expect(r.experiments).toHaveLength(1);
      });
    }
  }
});
