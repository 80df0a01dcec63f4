// The Git source on a repository of 10,000 small experiment files served by the local smart-HTTP
// server (`git http-backend`): cold clone + full load through GitSource.sync(), native
// `git clone --depth 1` of the same for comparison, then an incremental sync after a 1-file push
// (split into fetch and diff+read) beside the native `git fetch`. The GitSource side runs in a
// child process so its peak RSS is its own.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startGitServer, gitEnv } from '../test/helpers/git-server.js';
import { createGitSource } from '../src/source/index.js';
import { silentLogger } from '../src/log.js';
import type { SourceSnapshot } from '../src/source/types.js';
import type { BenchResult } from './types.js';

const run = promisify(execFile);
const FILES = 10_000;
const TEAMS = 100;
const env = { ...process.env, ...gitEnv };

function experiment(i: number): string {
  return `apiVersion: faultline.dev/v1alpha1
kind: ChaosExperiment
metadata:
  name: bench-${i}
  labels: { team: team-${i % TEAMS} }
spec:
  description: Generated experiment number ${i}.
  fault:
    type: pod-kill
    params: { gracePeriodSeconds: ${i % 30} }
  target:
    namespace: shop
    selector: { matchLabels: { app: svc-${i % 50} } }
    mode: { type: one }
  duration: 30s
`;
}

interface ChildResult {
  coldMs: number;
  cold: SourceSnapshot['stats'];
  coldFiles: number;
  incrementalMs: number;
  incremental: SourceSnapshot['stats'];
  incrementalChanged: number;
  maxRssMb: number;
  baseRssMb: number;
}

/** Runs in the child: cold sync, push one change with the git CLI, incremental sync. */
async function child(url: string, work: string, dir: string): Promise<void> {
  const baseRssMb = process.memoryUsage().rss / (1 << 20); // the process with its modules loaded, before any Git work
  const source = createGitSource({ url, branch: 'main', dir, log: silentLogger });
  let t = performance.now();
  const cold = await source.sync();
  const coldMs = performance.now() - t;
  writeFileSync(join(work, 'experiments/team-7/exp-7.yaml'), experiment(7).replace('30s', '45s'));
  await run('git', ['-C', work, 'commit', '-qam', 'one change'], { env });
  await run('git', ['-C', work, 'push', '-q', 'origin', 'HEAD:refs/heads/main'], { env });
  t = performance.now();
  const inc = await source.sync();
  const incrementalMs = performance.now() - t;
  const out: ChildResult = {
    coldMs,
    cold: cold.stats,
    coldFiles: cold.changed.length,
    incrementalMs,
    incremental: inc.stats,
    incrementalChanged: inc.changed.length,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    baseRssMb,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export default async function (): Promise<BenchResult[]> {
  const tmp = mkdtempSync(join(tmpdir(), 'fl-bench-src-'));
  const server = await startGitServer();
  try {
    const url = await server.createRepo('bench');
    const work = join(tmp, 'work');
    await run('git', ['init', '-q', '-b', 'main', work], { env });
    for (let i = 0; i < FILES; i++) {
      const d = join(work, 'experiments', `team-${i % TEAMS}`);
      if (i < TEAMS) mkdirSync(d, { recursive: true });
      writeFileSync(join(d, `exp-${i}.yaml`), experiment(i));
    }
    writeFileSync(join(work, 'README.md'), '# bench\n');
    await run('git', ['-C', work, 'add', '-A'], { env });
    await run('git', ['-C', work, 'commit', '-qm', '10k experiments'], { env });
    await run('git', ['-C', work, 'remote', 'add', 'origin', url], { env });
    await run('git', ['-C', work, 'push', '-q', 'origin', 'HEAD:refs/heads/main'], { env });

    // Native git over the same server: shallow clone (with checkout, as a user would run it).
    // Median of three: the checkout of 10k files swings a lot with the disk on these machines.
    const native = join(tmp, 'native');
    const clones: number[] = [];
    const bares: number[] = [];
    for (let i = 0; i < 3; i++) {
      rmSync(native, { recursive: true, force: true });
      clones.push(await timed(() => run('git', ['clone', '-q', '--depth', '1', '--single-branch', '-b', 'main', url, native], { env })));
      bares.push(await timed(() => run('git', ['clone', '-q', '--bare', '--depth', '1', '--single-branch', '-b', 'main', url, join(tmp, `native-bare-${i}.git`)], { env })));
    }
    const nativeCloneMs = median(clones);
    const nativeBareMs = median(bares);

    // Async: the git server lives in this process and must keep serving while the child runs.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', url, work, join(tmp, 'source.git')], {
      env: { ...process.env, LOG_LEVEL: 'silent' },
      maxBuffer: 16 << 20,
    });
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult;

    // The same 1-file change fetched by native git into its shallow clone.
    const nativeFetchMs = await timed(() => run('git', ['-C', native, 'fetch', '-q', '--depth', '1', 'origin', 'main'], { env }));

    if (r.coldFiles !== FILES) throw new Error(`cold sync returned ${r.coldFiles} files, expected ${FILES}`);
    if (r.incrementalChanged !== 1) throw new Error(`incremental sync returned ${r.incrementalChanged} changed files, expected 1`);
    const cold = r.cold!;
    const inc = r.incremental!;
    return [
      { name: 'cold clone + full load (10k files)', value: r.coldMs, unit: 'ms', target: '< 3000 ms and <= 2x native', note: `remote ${cold.remoteMs.toFixed(0)} + fetch ${cold.fetchMs.toFixed(0)} + tree walk ${cold.diffMs.toFixed(0)} + read ${cold.readMs.toFixed(0)} ms` },
      { name: 'native git clone --depth 1 (same repo, median of 3)', value: nativeCloneMs, unit: 'ms', note: `runs ${clones.map((x) => x.toFixed(0)).join(', ')} ms; --bare (no checkout) ${nativeBareMs.toFixed(0)} ms` },
      { name: 'cold load / native clone', value: r.coldMs / nativeCloneMs, unit: 'x', target: '<= 2', note: `vs native --bare: ${(r.coldMs / nativeBareMs).toFixed(1)}x` },
      { name: 'incremental sync (1 file), total', value: r.incrementalMs, unit: 'ms' },
      { name: 'incremental sync: network (ls-refs + fetch)', value: inc.remoteMs + inc.fetchMs, unit: 'ms', note: `ls-refs ${inc.remoteMs.toFixed(1)} + fetch ${inc.fetchMs.toFixed(1)} ms` },
      { name: 'incremental sync: diff + read', value: inc.diffMs + inc.readMs, unit: 'ms', target: '< 50 ms', note: `${inc.treesRead} trees, ${inc.blobsRead} blob read` },
      { name: 'native git fetch --depth 1 (same change)', value: nativeFetchMs, unit: 'ms' },
      { name: 'source peak RSS (10k files)', value: r.maxRssMb, unit: 'MB', target: '< 300 MB', note: `the process before any Git work: ${r.baseRssMb.toFixed(0)} MB` },
    ];
  } finally {
    await server.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3]!, process.argv[4]!, process.argv[5]!);
