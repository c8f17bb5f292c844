/** Pure formatting for people: rows as aligned columns (as kubectl prints them) and short durations. */

const GAP = '   ';

/** `headers` and `rows` as left-aligned columns separated by three spaces; no trailing spaces. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map(
      (r) =>
        headers
          .map((_, i) => (r[i] ?? '').padEnd(widths[i]!))
          .join(GAP)
          .trimEnd() + '\n',
    )
    .join('');
}

/**
 * A duration as kubectl's HumanDuration writes it: 45s, 3m20s, 42m, 5h10m, 30h, 3d4h, 40d, 2y30d.
 * Precise while short, coarser as it grows.
 */
export function humanDuration(totalSeconds: number): string {
  if (!Number.isFinite(totalSeconds) || totalSeconds < -1) return '<invalid>';
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(seconds / 3600);
  const days = Math.floor(hours / 24);
  const unit = (n: number, u: string, rest: number, ru: string): string =>
    `${n}${u}${rest ? `${rest}${ru}` : ''}`;
  if (seconds < 120) return `${seconds}s`;
  if (minutes < 10) return unit(minutes, 'm', seconds % 60, 's');
  if (minutes < 180) return `${minutes}m`;
  if (hours < 8) return unit(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return unit(days, 'd', hours % 24, 'h');
  if (days < 365 * 2) return `${days}d`;
  if (days < 365 * 8) return unit(Math.floor(days / 365), 'y', days % 365, 'd');
  return `${Math.floor(days / 365)}y`;
}

/** Seconds from `from` (RFC 3339) to `now`. */
export function secondsSince(from: string, now: Date): number {
  return (now.getTime() - Date.parse(from)) / 1000;
}
