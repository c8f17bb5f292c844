/** A position in the global feed: the (transaction id, position) of the last event read. */

export interface FeedCursor {
  readonly txId: string;
  readonly position: number;
}

/** Before the first event. */
export const FEED_START: FeedCursor = { txId: '0', position: 0 };

/** `txId.position`, opaque to API clients. */
export function formatCursor(c: FeedCursor): string {
  return `${c.txId}.${c.position}`;
}

/** Parses a cursor string; undefined when it is not one (the API answers 400). */
export function parseCursor(text: string): FeedCursor | undefined {
  const m = /^(\d{1,20})\.(\d{1,19})$/.exec(text);
  if (!m) return undefined;
  const position = Number(m[2]);
  return Number.isSafeInteger(position) ? { txId: m[1]!, position } : undefined;
}

/** Feed order: negative when `a` comes before `b`. */
export function compareCursors(a: FeedCursor, b: FeedCursor): number {
  const ta = BigInt(a.txId);
  const tb = BigInt(b.txId);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.position - b.position;
}
