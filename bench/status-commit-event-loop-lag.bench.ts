// Event-loop lag while the status branch takes a big commit: 10,000 applied records (BENCH_STATUS_RECORDS)
// become one commit through GitStatusStore (the controller's store) against the local smart-HTTP
// server, as a cold start's first pass does. Beside it, in the same process: the same commit with the
// pack built on this thread (packWorkerAbove: Infinity, as before the pack worker), and the floor,
// the lag of this event loop doing nothing for as long. Lag is sampled by monitorEventLoopDelay
// (1 ms resolution) over the whole commit: a run's injection or a webhook arriving then waits this long.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startGitServer } from '../test/helpers/git-server.js';
import { GitStatusStore } from '../src/report/git-status.js';
import type { AppliedRecord } from '../src/reconcile/types.js';
import type { BenchResult } from './types.js';

const N = Number(process.env.BENCH_STATUS_RECORDS ?? 10_000);

function record(i: number): AppliedRecord {
  return { name: `bench-${i}`, file: `experiments/team-${i % 100}/bench-${i}.yaml`, specHash: (i % 16).toString(16).repeat(64), revision: 'b'.repeat(40), appliedAt: '2026-12-01T00:00:00.000Z', scheduled: true, suspended: false };
}

async function lagDuring<T>(fn: () => Promise<T>): Promise<{ ms: number; p99: number; max: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t = performance.now();
  await fn();
  const ms = performance.now() - t;
  h.disable();
  return { ms, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
}

export default async function bench(): Promise<BenchResult[]> {
  const git = await startGitServer();
  const tmp = mkdtempSync(join(tmpdir(), 'fl-bench-lag-'));
  const out: BenchResult[] = [];
  try {
    const commit = async (name: string, packWorkerAbove?: number) => {
      const url = await git.createRepo(name);
      const work = await git.workClone(name);
      await work.write('README.md', 'x\n');
      await work.commitAndPush('init');
      const store = new GitStatusStore({ url, dir: join(tmp, name), packWorkerAbove });
      await store.list();
      const release = store.hold();
      await Promise.all(Array.from({ length: N }, (_, i) => store.put(record(i))));
      const lag = await lagDuring(async () => {
        release();
        await store.flush();
      });
      if (store.stats.commits !== 1) throw new Error(`expected one commit, got ${store.stats.commits}`);
      await store.close();
      return lag;
    };
    const k = `${N / 1000}k`;
    const worker = await commit('lag-worker');
    const inThread = await commit('lag-thread', Infinity);
    const floor = await lagDuring(() => new Promise((r) => setTimeout(r, Math.min(worker.ms, 5000))));
    out.push({ name: `${k}-record status commit: event-loop lag p99 (pack in a worker thread)`, value: worker.p99, unit: 'ms', note: `max ${worker.max.toFixed(1)} ms over the ${worker.ms.toFixed(0)} ms commit` });
    out.push({ name: `${k}-record status commit: event-loop lag p99 (pack built on the event loop, as before the pack worker)`, value: inThread.p99, unit: 'ms', note: `max ${inThread.max.toFixed(1)} ms over the ${inThread.ms.toFixed(0)} ms commit` });
    out.push({ name: 'event-loop lag p99 with nothing running (floor)', value: floor.p99, unit: 'ms', note: `max ${floor.max.toFixed(1)} ms` });
  } finally {
    await git.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}
