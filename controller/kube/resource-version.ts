/**
 * Ordering of resourceVersions. The API calls them opaque, but every etcd-backed apiserver
 * serves decimal integers (etcd revisions), and comparing them is what keeps a cache from
 * going back in time when an old event arrives late. Anything else is "not comparable".
 */

const DECIMAL = /^[0-9]+$/;

/**
 * Negative when `a` is older than `b`, zero when equal, positive when newer; undefined when
 * either is missing or not a decimal integer.
 */
export function compareResourceVersions(a: string | undefined, b: string | undefined): number | undefined {
  if (a === undefined || b === undefined || !DECIMAL.test(a) || !DECIMAL.test(b)) return undefined;
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** True only when `candidate` is known to be newer than `current` or they cannot be compared. */
export function isNewerOrUnknown(candidate: string | undefined, current: string | undefined): boolean {
  const order = compareResourceVersions(candidate, current);
  return order === undefined || order > 0;
}
