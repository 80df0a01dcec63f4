// Validating a generated tree of 10,000 experiment files through validatePaths (the CLI path:
// walk, read, parse, schema, semantics, normalise, hash). Runs in a child process so its peak
// memory (maxRSS) is the validator's own.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './types.js';

const FILES = 10_000;

const FAULTS = [
  'type: pod-kill\n    params: { gracePeriodSeconds: 5 }',
  'type: network-delay\n    params: { latency: 200ms, jitter: 20ms }',
  'type: cpu-stress\n    params: { workers: 2, load: 80 }',
  'type: memory-stress\n    params: { size: 256Mi }',
  'type: network-partition\n    params: { cidrs: [10.0.0.0/8], ports: [5432] }',
  'type: http-fault\n    params: { virtualService: checkout, abort: { httpStatus: 503, percent: 10 } }',
];

function experiment(i: number): string {
  return `# yaml-language-server: $schema=../schemas/chaos-experiment.schema.json
apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata:
  name: bench-${i}
  labels: { team: team-${i % 17} }
spec:
  description: Generated experiment number ${i}.
  fault:
    ${FAULTS[i % FAULTS.length]}
  target:
    namespace: shop
    selector:
      matchLabels: { app: app-${i % 50} }
      matchExpressions:
        - { key: tier, operator: In, values: [web, api] }
    mode: { type: percent, value: ${1 + (i % 50)} }
  duration: ${10 + (i % 50)}s
${i % 5 === 0 ? '  schedule: { cron: "0 3 * * 1-5", timezone: Europe/Berlin }\n' : ''}  steadyState:
    probes:
      - name: ready
        kubernetes: { namespace: shop, kind: Deployment, name: app-${i % 50}, minReadyReplicas: 1 }
      - name: http
        http: { url: "http://app-${i % 50}.shop.svc/healthz", expectStatus: [200], timeout: 1s }
  safety: { maxBlastRadiusPercent: 50, maxTargets: 10 }
`;
}

async function child(dir: string): Promise<void> {
  const { validatePaths } = await import('../src/experiments/index.js');
  // warm-up on a handful (compiles the schema once), then the measured run over the tree
  await validatePaths([join(dir, '0')]);
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const r = await validatePaths([dir]);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  process.stdout.write(
    JSON.stringify({ files: r.experiments.length, problems: r.problems.length, ms, cpuMs, sampledRss: peak, maxRss: process.resourceUsage().maxRSS * 1024 }),
  );
}

export default async function (): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fl-bench-validate-'));
  try {
    for (let i = 0; i < FILES; i++) {
      const sub = join(dir, String(i % 100));
      if (i < 100) mkdirSync(sub);
      writeFileSync(join(sub, `exp-${i}.yaml`), experiment(i));
    }
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', dir], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    const m = JSON.parse(out) as { files: number; problems: number; ms: number; cpuMs: number; sampledRss: number; maxRss: number };
    if (m.files !== FILES || m.problems !== 0) throw new Error(`expected ${FILES} valid files, got ${m.files} and ${m.problems} problems`);
    return [
      { name: 'validate 10k files: throughput (wall clock)', value: (m.files / m.ms) * 1000, unit: 'files/s', target: '>= 5000 files/s', note: `${(m.ms / 1000).toFixed(2)} s for ${m.files} files (walk+read+parse+validate+hash)` },
      { name: 'validate 10k files: throughput per CPU second', value: (m.files / m.cpuMs) * 1000, unit: 'files/s', target: '>= 5000 files/s', note: `${(m.cpuMs / 1000).toFixed(2)} CPU s; differs from wall clock when the machine is shared` },
      { name: 'validate 10k files: peak memory', value: m.maxRss / 2 ** 20, unit: 'MB', target: '< 300 MB', note: `maxRSS of the child process; sampled RSS peak ${(m.sampledRss / 2 ** 20).toFixed(0)} MB` },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3]!);
