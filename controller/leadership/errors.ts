/** Typed errors of leader election, checked by `name` as well as `instanceof`. */

/** Election settings that cannot work (timings out of order, buckets < 1, a bad identity). */
export class ElectionConfigError extends Error {
  override name = 'ElectionConfigError';
}

/**
 * This replica no longer leads the scope a write belongs to (its renew deadline passed, another
 * holder was seen, or the database fenced it off). The write was not sent; the key is left to
 * whoever leads its scope now.
 */
export class NotLeaderError extends Error {
  override name = 'NotLeaderError';
  constructor(
    readonly scope: string,
    reason: string,
  ) {
    super(`not the leader of ${scope}: ${reason}`);
  }
}

/** True for errors that mean "this replica lost the scope": drop the key, do not retry. */
export function isLeadershipLost(err: unknown): boolean {
  const name = (err as Error | undefined)?.name;
  return name === 'NotLeaderError' || name === 'StaleFencingTokenError';
}
