import { describe, expect, it } from 'vitest';
import { defaultRepeatStrategy, type RepeatOptions } from 'bullmq';
import { memoRepeatStrategy } from '../../src/queue/repeat-strategy.js';

const MIN = 60_000;

describe('memoRepeatStrategy', () => {
  it('gives the same next time as BullMQ at uneven steps across matches, zones with a DST change included', () => {
    const patterns: RepeatOptions[] = [
      { pattern: '*/5 * * * *', tz: 'UTC' },
      { pattern: '0 3 1 1 *', tz: 'UTC' },
      { pattern: '30 2 * * *', tz: 'Europe/Berlin' }, // 02:30 does not exist on the spring-forward day
      { pattern: '0 * * * *', tz: 'America/New_York' },
      { pattern: '*/10 * * * * *', tz: 'Etc/UTC' }, // seconds field
      { pattern: '*/10 * * * *' }, // no tz: the process's zone, never remembered
    ];
    const memo = memoRepeatStrategy();
    let compared = 0;
    for (const opts of patterns) {
      // Through the night of the 2026 spring change in Europe (29 March), in uneven steps.
      for (let t = Date.parse('2026-03-28T22:00:00.000Z'), step = 7_919; t < Date.parse('2026-03-29T04:00:00.000Z'); t += step, step = (step * 7) % (9 * MIN) + 1) {
        expect(memo(t, opts, 'run')).toBe(defaultRepeatStrategy(t, opts));
        compared++;
      }
      // Exactly on and around a match.
      const match = defaultRepeatStrategy(Date.parse('2026-06-01T00:00:00.000Z'), opts) as number;
      for (const t of [match - 1, match, match + 1, match + 999, match + 1000]) expect(memo(t, opts)).toBe(defaultRepeatStrategy(t, opts));
    }
    expect(compared).toBeGreaterThan(100);
  });

  it('computes once per pattern while time stays before the next match', () => {
    let calls = 0;
    const memo = memoRepeatStrategy((millis, opts) => {
      calls++;
      return defaultRepeatStrategy(millis, opts);
    });
    const t0 = Date.parse('2026-12-02T06:00:00.000Z');
    for (let i = 0; i < 10_000; i++) memo(t0 + i, { pattern: '0 3 1 1 *', tz: 'UTC' });
    expect(calls).toBe(1);
    memo(t0, { pattern: '0 4 1 1 *', tz: 'UTC' }); // another pattern: its own entry
    expect(calls).toBe(2);
    // A zone with daylight saving is asked every time.
    memo(t0, { pattern: '0 3 1 1 *', tz: 'Europe/Berlin' });
    memo(t0 + 1, { pattern: '0 3 1 1 *', tz: 'Europe/Berlin' });
    expect(calls).toBe(4);
    // `immediately` is never remembered.
    memo(t0, { pattern: '0 3 1 1 *', tz: 'UTC', immediately: true });
    memo(t0, { pattern: '0 3 1 1 *', tz: 'UTC', immediately: true });
    expect(calls).toBe(6);
  });
});
