// The loop over a fault's targets: a TargetDriver (apply/recover one target) becomes the
// FaultDriver the executor and the revert loop call.
import { errorText } from './exec.js';
import type { FaultDriver, TargetDriver } from './types.js';

export function perTarget<R>(d: TargetDriver<R>): FaultDriver {
  return {
    type: d.type,
    prepare: (ctx) => d.prepare(ctx),
    async inject(ctx, injection) {
      const targets = d.targets(injection);
      if (d.check) for (const t of targets) await d.check(ctx, injection, t);
      for (const t of targets) await d.apply(ctx, injection, t);
    },
    ...(d.confirm ? { confirm: d.confirm.bind(d) } : {}),
    async revert(kc, injection, log) {
      if (!d.recover) {
        log.info({ targets: injection.touched.length }, `${d.type}: nothing to revert (${d.nothingToRecover ?? 'the fault leaves nothing behind'})`);
        return;
      }
      const targets = d.targets(injection);
      const problems: string[] = [];
      for (const t of targets) {
        try {
          await d.recover(kc, injection, t, log);
        } catch (err) {
          problems.push(`${d.describe(t)}: ${errorText(err)}`);
        }
      }
      if (problems.length) throw new Error(problems.join('; '));
    },
  };
}
