/** Integer settings from the environment, checked at start (a bad value is one clear error, not a crash loop). */

/** `env[name]` as a non-negative integer, `fallback` when unset, at least `min`. Throws naming the variable. */
export function intEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return Math.max(min, n);
}
