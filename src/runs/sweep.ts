// One revert pass on demand (start-up, a re-delivered job): every fault in the ledger or marked
// in the cluster whose run is not live is reverted. The background RevertLoop runs the same pass.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { RevertLoop } from './revert-loop.js';
import type { Injection } from '../faults/types.js';

export interface SweepOptions {
  kc: KubeConfig;
  redis: Redis;
  prefix: string;
  log: Logger;
  /** True when the run is executing right now (on this or another replica): leave it alone. */
  isLive(runId: string): boolean | Promise<boolean>;
  onReverted?(injection: Injection): Promise<void>;
}

export interface SweepResult {
  reverted: string[];
  failed: { runId: string; error: string }[];
  live: string[];
}

export async function sweepOrphans(opts: SweepOptions): Promise<SweepResult> {
  const loop = new RevertLoop({ kc: opts.kc, redis: opts.redis, prefix: opts.prefix, log: opts.log, isLocal: opts.isLive, onReverted: opts.onReverted });
  const r = await loop.pass();
  if (r.skipped) throw new Error(`orphan sweep: ${r.skipped}`);
  return { reverted: r.reverted, failed: r.failed, live: r.live };
}
