/**
 * kubeconform's Kubernetes schemas, made offline from a live apiserver's OpenAPI v2 document
 * (the plane's own version) in the layout of yannh/kubernetes-json-schema:
 * `<dir>/v<version>-standalone-strict/<kind>-<group prefix>-<version>.json`, each standalone
 * ($refs inlined), strict (objects refuse unknown keys, as `kubectl --validate` does) and with
 * int-or-string as string or integer. A reference back into itself (JSONSchemaProps) ends in
 * an open schema.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

type Schema = Record<string, unknown>;

interface Gvk {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

const REF = '#/definitions/';

/** kubeconform's file name for a kind (pkg/registry: the group's first label, then the version). */
export function schemaFileName({ group, version, kind }: Gvk): string {
  const prefix = group === '' ? '' : `-${group.split('.')[0]!.toLowerCase()}`;
  return `${kind.toLowerCase()}${prefix}-${version.toLowerCase()}.json`;
}

function expand(node: unknown, defs: Record<string, Schema>, seen: readonly string[]): unknown {
  if (Array.isArray(node)) return node.map((n) => expand(n, defs, seen));
  if (node === null || typeof node !== 'object') return node;
  const obj = node as Schema;
  const ref = obj.$ref;
  if (typeof ref === 'string' && ref.startsWith(REF)) {
    const name = ref.slice(REF.length);
    if (seen.includes(name)) return {};
    const { $ref: _, ...rest } = obj;
    return expand({ ...defs[name], ...rest }, defs, [...seen, name]);
  }
  if (obj.format === 'int-or-string') return { oneOf: [{ type: 'string' }, { type: 'integer' }] };
  const out: Schema = {};
  for (const [k, v] of Object.entries(obj)) {
    // `properties` maps names to schemas: expand each, never treat a name as a keyword.
    out[k] =
      k === 'properties' && v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v as Schema).map(([p, s]) => [p, expand(s, defs, seen)]))
        : expand(v, defs, seen);
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

/** File name → schema for every kind the document serves. */
export function kubeJsonSchemas(openapi: { definitions: Record<string, Schema> }): Map<string, Schema> {
  const files = new Map<string, Schema>();
  for (const [name, def] of Object.entries(openapi.definitions)) {
    const gvks = (def['x-kubernetes-group-version-kind'] as Gvk[] | undefined) ?? [];
    for (const gvk of gvks) {
      const schema = expand(def, openapi.definitions, [name]) as Schema;
      const props = (schema.properties ?? {}) as Schema;
      const apiVersion = gvk.group === '' ? gvk.version : `${gvk.group}/${gvk.version}`;
      schema.properties = {
        ...props,
        apiVersion: { ...(props.apiVersion as Schema), enum: [apiVersion] },
        kind: { ...(props.kind as Schema), enum: [gvk.kind] },
      };
      files.set(schemaFileName(gvk), schema);
    }
  }
  return files;
}

/** Writes the schemas for Kubernetes `version` (e.g. 1.34.10) under `dir`, for `-schema-location dir`. */
export async function writeKubeJsonSchemas(
  dir: string,
  version: string,
  openapi: { definitions: Record<string, Schema> },
): Promise<number> {
  const out = join(dir, `v${version.replace(/^v/, '')}-standalone-strict`);
  await mkdir(out, { recursive: true });
  const files = kubeJsonSchemas(openapi);
  for (const [file, schema] of files) await writeFile(join(out, file), JSON.stringify(schema));
  return files.size;
}
