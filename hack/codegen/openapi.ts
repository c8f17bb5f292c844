/**
 * zod → Kubernetes structural OpenAPI v3. zod emits OpenAPI 3.0 JSON Schema; the apiserver
 * wants a structural schema (a type on every node, no additionalProperties beside
 * properties, int-or-string spelled its own way), so the output is normalised here.
 */
import { z } from 'zod';

type Json = Record<string, unknown>;

/** Structural schema for one zod type, as kube-apiserver accepts it in a CRD. */
export function structuralSchema(schema: z.ZodType): Json {
  const raw = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: 'input',
    reused: 'inline',
    unrepresentable: 'throw',
  }) as Json;
  return normalise(raw);
}

function normalise(node: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema' || key === 'propertyNames') continue;
    if (key === 'additionalProperties' && (value === false || node['x-kubernetes-preserve-unknown-fields']))
      continue;
    if ((key === 'minimum' || key === 'maximum') && Math.abs(value as number) >= Number.MAX_SAFE_INTEGER)
      continue;
    out[key] = normaliseValue(key, value);
  }
  if (out['x-kubernetes-int-or-string'] === true) {
    // The apiserver's own spelling; the string pattern moves up beside it.
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  return out;
}

function normaliseValue(key: string, value: unknown): unknown {
  if (key === 'properties' && isJson(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v as Json)]));
  }
  if ((key === 'items' || key === 'additionalProperties') && isJson(value)) return normalise(value);
  return value;
}

function isJson(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
