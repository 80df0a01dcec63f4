// Durations as written in experiment files: 500ms, 30s, 5m, 1h30m (units in descending order).

const DURATION_RE = /^(?:(\d{1,9})h)?(?:(\d{1,9})m(?!s))?(?:(\d{1,9})s)?(?:(\d{1,9})ms)?$/;

/** The same syntax as a JSON Schema pattern (editors check it too). */
export const DURATION_PATTERN = '^(?:[0-9]{1,9}h)?(?:[0-9]{1,9}m(?!s))?(?:[0-9]{1,9}s)?(?:[0-9]{1,9}ms)?$';

/** Parses a duration to milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  const m = typeof text === 'string' && text.length > 0 ? DURATION_RE.exec(text) : null;
  if (!m || (m[1] ?? m[2] ?? m[3] ?? m[4]) === undefined) {
    throw new Error(`invalid duration ${JSON.stringify(text)}: expected e.g. 500ms, 30s, 5m, 1h30m`);
  }
  const [h, min, s, ms] = [m[1], m[2], m[3], m[4]].map((x) => (x === undefined ? 0 : Number(x))) as [number, number, number, number];
  return ((h * 60 + min) * 60 + s) * 1000 + ms;
}

/** Like parseDuration, but undefined instead of throwing. */
export function tryParseDuration(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return parseDuration(text);
  } catch {
    return undefined;
  }
}

/** 90000 → "1m30s"; used in messages. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0ms';
  let out = '';
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const rest = ms % 1000;
  if (h) out += `${h}h`;
  if (m) out += `${m}m`;
  if (s) out += `${s}s`;
  if (rest) out += `${rest}ms`;
  return out;
}
