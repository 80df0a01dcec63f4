// Durations as written in config files: one or more <integer><unit> parts, e.g. 500ms, 30s,
// 5m, 1h30m. A local copy so config does not depend on the experiments stage.
const PART = /(\d+)(ms|s|m|h)/y;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export const DURATION_PATTERN = '^([0-9]+(ms|s|m|h))+$';

/** Milliseconds for a duration string; throws on anything else. */
export function parseDuration(text: string): number {
  if (typeof text !== 'string' || text.length === 0) throw new Error(`invalid duration ${JSON.stringify(text)}`);
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const m = PART.exec(text);
    if (!m || m.index !== at) throw new Error(`invalid duration ${JSON.stringify(text)} (use e.g. 500ms, 30s, 5m, 1h30m)`);
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  if (!Number.isSafeInteger(ms)) throw new Error(`duration ${JSON.stringify(text)} is too large`);
  return ms;
}
