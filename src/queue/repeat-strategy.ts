// BullMQ's repeat strategy (the next time of a cron pattern) with a memory: registering 10,000
// schedulers with the same few patterns parsed each one through cron-parser and luxon (~0.9 s of
// CPU for 10k at start-up). The answer is exact, not approximate: the next match after `from` is
// also the next match after any `millis` in [from, next), as no match lies between them. Outside
// that window (time moved past the match, other options) it is computed again. Only patterns in
// UTC are remembered: around a daylight-saving change cron-parser's answer for a zone is not
// monotonic (a time skipped in spring is moved forward from some start times and not from
// others), so zones with DST are always asked afresh. UTC is the default of experiment schedules.
import { defaultRepeatStrategy, type RepeatOptions, type RepeatStrategy } from 'bullmq';

const MAX_KEYS = 1000;
const UTC = new Set(['UTC', 'Etc/UTC', 'GMT', 'Etc/GMT']);

export function memoRepeatStrategy(base: RepeatStrategy = defaultRepeatStrategy): RepeatStrategy {
  const known = new Map<string, { from: number; next: number }>();
  return (millis: number, opts: RepeatOptions, name?: string) => {
    // `immediately` answers "now", and an unknown option might change the answer: not memoised.
    if (opts.immediately || !UTC.has(opts.tz ?? '')) return base(millis, opts, name);
    const key = JSON.stringify(opts);
    const hit = known.get(key);
    if (hit && hit.from <= millis && millis < hit.next) return hit.next;
    const next = base(millis, opts, name);
    if (typeof next === 'number' && next > millis) {
      if (known.size >= MAX_KEYS) known.clear();
      known.set(key, { from: millis, next });
    }
    return next;
  };
}
