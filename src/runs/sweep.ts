// Start-up orphan sweep: every ledger entry whose run is not live on some controller is a fault
// a dead controller left behind. Revert it with the driver (from the ledger alone), then drop it.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import { FAULT_DRIVERS } from '../faults/index.js';
import type { Logger } from '../log.js';
import { SafetyState } from '../safety/index.js';
import { FaultLedger } from './ledger.js';

export interface SweepOptions {
  kc: KubeConfig;
  redis: Redis;
  prefix: string;
  log: Logger;
  /** True when the run is executing right now (on this or another replica): leave it alone. */
  isLive(runId: string): boolean | Promise<boolean>;
}

export interface SweepResult {
  reverted: string[];
  failed: { runId: string; error: string }[];
  live: string[];
}

export async function sweepOrphans(opts: SweepOptions): Promise<SweepResult> {
  const ledger = new FaultLedger(opts.redis, opts.prefix);
  const { entries, broken } = await ledger.list();
  const result: SweepResult = { reverted: [], failed: [], live: [] };
  for (const b of broken) {
    opts.log.error({ runId: b.runId, err: b.error }, 'orphan sweep: unreadable ledger entry left in place for a human');
    result.failed.push(b);
  }
  for (const inj of entries) {
    const log = opts.log.child({ runId: inj.runId, experiment: inj.experiment });
    if (await opts.isLive(inj.runId)) {
      result.live.push(inj.runId);
      continue;
    }
    const driver = FAULT_DRIVERS[inj.fault];
    if (!driver) {
      log.error({ fault: inj.fault }, 'orphan sweep: unknown fault type; ledger entry kept');
      result.failed.push({ runId: inj.runId, error: `unknown fault type ${String(inj.fault)}` });
      continue;
    }
    log.warn({ fault: inj.fault, touched: inj.touched.map((t) => `${t.kind}/${t.namespace ? `${t.namespace}/` : ''}${t.name}`) }, 'orphan sweep: reverting a fault left by a dead controller');
    try {
      await driver.revert(opts.kc, inj, log);
      await ledger.remove(inj.runId);
      // The dead run's slot and workload locks would only lapse by TTL: free them now.
      const state = new SafetyState(opts.redis, { prefix: opts.prefix, maxConcurrentRuns: 0 });
      await state.releaseWorkloads(await state.lockedWorkloads(), inj.runId);
      await state.releaseSlot(inj.runId);
      result.reverted.push(inj.runId);
      log.info({ fault: inj.fault }, 'orphan sweep: reverted');
    } catch (err) {
      const error = (err as Error).message;
      log.error({ fault: inj.fault, err: error }, 'orphan sweep: revert failed; ledger entry kept for the next sweep');
      result.failed.push({ runId: inj.runId, error });
    }
  }
  return result;
}
