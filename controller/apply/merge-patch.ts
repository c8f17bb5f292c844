/**
 * A JSON merge patch (RFC 7386) that turns `from` into `to` (pure). Merge patches merge
 * nested objects, so a field that disappeared must be sent as null; arrays are replaced whole.
 */

type Json = unknown;

const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The patch from `from` to `to`, or undefined when they are equal. */
export function mergePatch(from: Json, to: Json): Json {
  if (!isObject(from) || !isObject(to)) return JSON.stringify(from) === JSON.stringify(to) ? undefined : to;
  const patch: Record<string, Json> = {};
  for (const key of Object.keys(from)) if (!(key in to)) patch[key] = null;
  for (const [key, value] of Object.entries(to)) {
    const sub = key in from ? mergePatch(from[key], value) : value;
    if (sub !== undefined) patch[key] = sub;
  }
  return Object.keys(patch).length ? patch : undefined;
}
