// Durations as written in experiment files: 500ms, 30s, 5m, 1h30m (units in descending order).

const DURATION_RE = /^(?:(\d{1,9})h)?(?:(\d{1,9})m(?!s))?(?:(\d{1,9})s)?(?:(\d{1,9})ms)?$/;

/** The same syntax as a JSON Schema pattern (editors check it too). */
export const DURATION_PATTERN = '^(?:[0-9]{1,9}h)?(?:[0-9]{1,9}m(?!s))?(?:[0-9]{1,9}s)?(?:[0-9]{1,9}ms)?$';

/** Parses a duration to milliseconds; throws on anything else. */
// Repositories repeat the same few spellings (30s, 5m, 1s): remember them, bounded.
const parsed = new Map<string, number>();

export function parseDuration(text: string): number {
  const hit = typeof text === 'string' ? parsed.get(text) : undefined;
  if (hit !== undefined) return hit;
  const m = typeof text === 'string' && text.length > 0 ? DURATION_RE.exec(text) : null;
  if (!m || (m[1] ?? m[2] ?? m[3] ?? m[4]) === undefined) {
    throw new Error(`invalid duration ${JSON.stringify(text)}: expected e.g. 500ms, 30s, 5m, 1h30m`);
  }
  const n = (x: string | undefined): number => (x === undefined ? 0 : Number(x));
  const ms = ((n(m[1]) * 60 + n(m[2])) * 60 + n(m[3])) * 1000 + n(m[4]);
  if (parsed.size >= 1000) parsed.clear();
  parsed.set(text, ms);
  return ms;
}

/** Like parseDuration, but undefined instead of throwing. */
export function tryParseDuration(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const hit = parsed.get(text);
  if (hit !== undefined) return hit;
  if (!DURATION_RE.test(text)) return undefined; // skip building and throwing an Error
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
