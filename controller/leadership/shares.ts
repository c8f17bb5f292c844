/**
 * Fair shares of buckets among live replicas (pure). With R members and B buckets, B mod R of
 * them get ceil(B / R) and the rest floor(B / R): every replica that can hold a bucket does and
 * nobody holds more than ceil(B / R). The larger shares go to the members that hold the most
 * now (ties by identity), so a balanced set never moves: a new standby beside a single leader
 * (B = 1) takes nothing from it. Every replica computes the same answer from the same view.
 */

/**
 * How many buckets `self` should hold. `holdings` maps identities to how many buckets they hold
 * now; `members` are the live replicas (self is always counted).
 */
export function shareOf(
  self: string,
  members: readonly string[],
  holdings: ReadonlyMap<string, number>,
  buckets: number,
): number {
  const held = (id: string): number => holdings.get(id) ?? 0;
  const all = [...new Set([...members, self])].sort(
    (a, b) => held(b) - held(a) || (a < b ? -1 : a > b ? 1 : 0),
  );
  const index = all.indexOf(self);
  return Math.floor(buckets / all.length) + (index < buckets % all.length ? 1 : 0);
}

/** The buckets to release: the surplus over the share, highest index first. */
export function surplus(held: readonly number[], share: number): number[] {
  if (held.length <= share) return [];
  return [...held].sort((a, b) => b - a).slice(0, held.length - share);
}
