/** Durations in settings: Go-style ("15s", "500ms", "1m30s", "2m") or plain seconds ("15"). */

/** A setting that is not a duration. */
export class DurationError extends Error {
  override name = 'DurationError';
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go-style duration ("15s", "500ms", "1m30s") or plain seconds ("15") into milliseconds. */
export function parseDuration(raw: string, what: string): number {
  const text = raw.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text)
    throw new DurationError(`${what}: "${raw}" is not a duration (like 15s, 500ms or 1m30s)`);
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0));
}
