/**
 * Freezes an object graph, so an object shared from a cache cannot be changed by one reader
 * under another's feet: in ES modules (strict mode) a write to it throws a TypeError.
 */

/** Freezes `value` and everything reachable from it; returns `value`. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
  return value;
}
