// Runs the steady-state probes around a fault: before (all must pass or the run does not start),
// during (every interval; `failureThreshold` consecutive failures abort the run) and after.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { parseDuration } from '../experiments/duration.js';
import type { WorkloadCount } from '../cluster/types.js';
import { silentLogger, type Logger } from '../log.js';
import type { ProbeSummary } from '../runs/types.js';
import { readyReplicas } from './kubernetes.js';
import type { Probe, ProbeResult } from './types.js';

const DEFAULT_INTERVAL_MS = 5000;
const DEFAULT_THRESHOLD = 3;

function summarize(name: string, phase: ProbeSummary['phase'], results: ProbeResult[]): ProbeSummary {
  const failures = results.filter((r) => !r.ok).length;
  const last = results[results.length - 1];
  const lastError = [...results].reverse().find((r) => !r.ok)?.error;
  return {
    name, phase, ok: last ? last.ok : true, checks: results.length, failures,
    ...(lastError ? { lastError } : {}), ...(last ? { latencyMs: last.latencyMs } : {}),
  };
}

/** Waits ms or until signal aborts; resolves either way. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface DuringHandle {
  /** Stops probing and returns the during-phase summaries. */
  stop(): Promise<ProbeSummary[]>;
  /** During-phase summaries so far: ok unless a probe reached its failure threshold. */
  summaries(): ProbeSummary[];
}

export class ProbeRunner {
  private readonly log: Logger;
  constructor(readonly probes: Probe[], opts: { log?: Logger } = {}) {
    this.log = opts.log ?? silentLogger;
  }

  /** Every probe once; the run starts only if all pass. */
  async before(signal?: AbortSignal): Promise<{ ok: boolean; summaries: ProbeSummary[]; reason?: string }> {
    const results = await Promise.all(this.probes.map((p) => p.check(signal)));
    const summaries = this.probes.map((p, i) => summarize(p.name, 'before', [results[i]!]));
    const failed = summaries.filter((s) => !s.ok);
    for (const s of summaries) this.log.info({ probe: s.name, ok: s.ok, error: s.lastError }, 'before-probe');
    if (!failed.length) return { ok: true, summaries };
    return { ok: false, summaries, reason: `steady state does not hold before injection: ${failed.map((s) => `${s.name}: ${s.lastError}`).join('; ')}` };
  }

  /** Probes every interval until stopped; calls onFailure once when a probe hits its failure threshold. */
  during(onFailure: (reason: string) => void): DuringHandle {
    const stopper = new AbortController();
    let reported = false;
    const results = this.probes.map(() => [] as ProbeResult[]);
    const loops = this.probes.map(async (probe, i) => {
      const interval = probe.spec.interval ? parseDuration(probe.spec.interval) : DEFAULT_INTERVAL_MS;
      const threshold = probe.spec.failureThreshold ?? DEFAULT_THRESHOLD;
      let consecutive = 0;
      while (!stopper.signal.aborted) {
        const r = await probe.check(stopper.signal);
        if (stopper.signal.aborted) break; // a check cut short by stop() does not count
        results[i]!.push(r);
        consecutive = r.ok ? 0 : consecutive + 1;
        if (!r.ok) this.log.warn({ probe: probe.name, consecutive, threshold, error: r.error }, 'during-probe failed');
        if (consecutive >= threshold && !reported) {
          reported = true;
          onFailure(`probe ${probe.name} failed ${consecutive} times in a row: ${r.error ?? 'failed'}`);
        }
        await sleep(interval, stopper.signal);
      }
    });
    const handle: DuringHandle = {
      async stop() {
        stopper.abort();
        await Promise.all(loops);
        return handle.summaries();
      },
      summaries: () => this.probes.map((p, i) => {
        const s = summarize(p.name, 'during', results[i]!);
        const threshold = p.spec.failureThreshold ?? DEFAULT_THRESHOLD;
        let run = 0;
        let worst = 0;
        for (const r of results[i]!) { run = r.ok ? 0 : run + 1; worst = Math.max(worst, run); }
        return { ...s, ok: worst < threshold };
      }),
    };
    return handle;
  }

  /** Every probe once after the fault is reverted. */
  async after(signal?: AbortSignal): Promise<ProbeSummary[]> {
    const results = await Promise.all(this.probes.map((p) => p.check(signal)));
    return this.probes.map((p, i) => summarize(p.name, 'after', [results[i]!]));
  }
}

export interface RecoveryOptions {
  kc: KubeConfig;
  workloads: WorkloadCount[]; // ready counts before the run
  since: number; // ms epoch the clock starts at
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
  /** Pods that must be gone first (killed pods), so a terminating pod is not counted as recovered. */
  gone?: { namespace: string; name: string; uid: string }[];
}

export interface RecoveryResult {
  recovered: boolean;
  recoveryMs?: number;
  pending: string[]; // workloads still below their pre-run ready count
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet']);

/** Polls the cluster until every workload is back to its pre-run ready count. */
export async function measureRecovery(opts: RecoveryOptions): Promise<RecoveryResult> {
  const core = opts.kc.makeApiClient(CoreV1Api);
  const deadline = opts.since + opts.timeoutMs;
  for (;;) {
    const pending: string[] = [];
    for (const w of opts.workloads) {
      const [kind, name] = w.workload.split('/') as [string, string];
      if (!WORKLOAD_KINDS.has(kind)) continue;
      try {
        const ready = await readyReplicas(opts.kc, kind as 'Deployment', w.namespace, name);
        if (ready < w.ready) pending.push(`${w.namespace}/${w.workload} ${ready}/${w.ready}`);
      } catch (err) {
        pending.push(`${w.namespace}/${w.workload}: ${(err as Error).message}`);
      }
    }
    for (const p of opts.gone ?? []) {
      const still = await core.readNamespacedPod({ namespace: p.namespace, name: p.name }).then((x) => x.metadata?.uid === p.uid, () => false);
      if (still) pending.push(`pod ${p.namespace}/${p.name} still terminating`);
    }
    const now = Date.now();
    if (!pending.length) return { recovered: true, recoveryMs: Math.max(0, now - opts.since), pending };
    if (now >= deadline || opts.signal?.aborted) return { recovered: false, pending };
    await sleep(opts.intervalMs ?? 200, opts.signal);
  }
}
