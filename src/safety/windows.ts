// Time windows: days of week plus an HH:MM range (end exclusive, may wrap past midnight) in an
// IANA time zone. A wrapping window belongs to the day it starts on: Fri 22:00–06:00 covers
// Friday 22:00 up to Saturday 06:00.
import type { TimeWindow } from '../config/types.js';

const DAY = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // Throws RangeError for an unknown zone; the config schema should have caught it already.
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Weekday (0 = Sunday) and minute of the day of `at` in `timeZone`. */
export function localTime(at: Date, timeZone = 'UTC'): { day: number; minute: number } {
  const parts = formatter(timeZone).formatToParts(at);
  const get = (t: string): string => parts.find((p) => p.type === t)?.value ?? '';
  return { day: DAY.indexOf(get('weekday')), minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

function minutes(hhmm: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!m) throw new Error(`bad time "${hhmm}" (want HH:MM)`);
  return Number(m[1]) * 60 + Number(m[2]);
}

export function inWindow(w: TimeWindow, at: Date): boolean {
  const { day, minute } = localTime(at, w.timezone ?? 'UTC');
  const start = minutes(w.start);
  const end = minutes(w.end);
  const onDay = (d: number): boolean => !w.days || w.days.length === 0 || w.days.includes(d);
  if (start === end) return onDay(day); // the whole day
  if (start < end) return onDay(day) && minute >= start && minute < end;
  // Wraps past midnight: the late part is on a listed day, the early part on the day after one.
  if (minute >= start) return onDay(day);
  if (minute < end) return onDay((day + 6) % 7);
  return false;
}

export function describeWindow(w: TimeWindow): string {
  const days = w.days && w.days.length ? w.days.map((d) => DAY[d]).join(',') + ' ' : '';
  return `${days}${w.start}-${w.end} ${w.timezone ?? 'UTC'}`;
}
