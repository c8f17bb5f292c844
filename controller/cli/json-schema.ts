/**
 * JSON Schemas for kubeconform from our CRDs, the way kubeconform's openapi2jsonschema.py
 * turns a CRD's openAPIV3Schema into one, in strict form: every object that lists its
 * properties refuses others (`additionalProperties: false`, the root too, as the apiserver's
 * strict field validation does), except where the CRD keeps unknown fields. Two more steps
 * mirror the apiserver: an optional field may be null (it drops nulls before validating), and
 * apiVersion and kind must be this resource's. Pure: no I/O.
 */

/** A JSON Schema (or OpenAPI v3 schema) node. */
export type SchemaNode = Record<string, unknown>;

/** One generated schema and where kubeconform's CRD-catalog layout puts it. */
export interface KindSchema {
  readonly group: string;
  readonly kind: string;
  readonly version: string;
  /** `{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`: group/lower-case kind_version.json. */
  readonly path: string;
  readonly schema: SchemaNode;
}

/** The `-schema-location` template that finds files laid out as `KindSchema.path` under DIR. */
export const SCHEMA_LOCATION_TEMPLATE = '{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json';

function isRecord(v: unknown): v is SchemaNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The schemas of every version of a CustomResourceDefinition (none for other documents). */
export function crdJsonSchemas(crd: unknown): KindSchema[] {
  if (!isRecord(crd) || crd.kind !== 'CustomResourceDefinition' || !isRecord(crd.spec)) return [];
  const { group, names, versions } = crd.spec;
  if (typeof group !== 'string' || !isRecord(names) || typeof names.kind !== 'string') return [];
  const kind = names.kind;
  return (Array.isArray(versions) ? versions : []).flatMap((v: unknown) => {
    if (!isRecord(v) || typeof v.name !== 'string' || !isRecord(v.schema)) return [];
    const openApi = v.schema.openAPIV3Schema;
    if (!isRecord(openApi)) return [];
    const version = v.name;
    return [
      {
        group,
        kind,
        version,
        path: `${group}/${kind.toLowerCase()}_${version}.json`,
        schema: strictJsonSchema(openApi, `${group}/${version}`, kind),
      },
    ];
  });
}

/** The strict JSON Schema of one version's openAPIV3Schema. Does not mutate `openApi`. */
export function strictJsonSchema(openApi: SchemaNode, apiVersion: string, kind: string): SchemaNode {
  const schema = convert(structuredClone(openApi));
  const properties = isRecord(schema.properties) ? schema.properties : {};
  schema.properties = {
    ...properties,
    apiVersion: {
      ...(isRecord(properties.apiVersion) ? properties.apiVersion : {}),
      type: 'string',
      enum: [apiVersion],
    },
    kind: { ...(isRecord(properties.kind) ? properties.kind : {}), type: 'string', enum: [kind] },
  };
  const required = Array.isArray(schema.required) ? (schema.required as unknown[]) : [];
  schema.required = [...new Set(['apiVersion', 'kind', ...required])];
  return schema;
}

/** Applies the strict and null rules to a node and everything under it (in place, on a copy). */
function convert(node: SchemaNode): SchemaNode {
  if (isRecord(node.properties)) {
    const required = new Set(Array.isArray(node.required) ? node.required : []);
    for (const [name, child] of Object.entries(node.properties)) {
      if (!isRecord(child)) continue;
      convert(child);
      if (!required.has(name)) allowNull(child);
    }
    if (node.additionalProperties === undefined && node['x-kubernetes-preserve-unknown-fields'] !== true) {
      node.additionalProperties = false;
    }
  }
  if (isRecord(node.items)) convert(node.items);
  if (isRecord(node.additionalProperties)) convert(node.additionalProperties);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const list = node[key];
    if (Array.isArray(list)) list.filter(isRecord).forEach(convert);
  }
  return node;
}

/** Lets an optional field be null: the apiserver drops null fields before it validates. */
function allowNull(node: SchemaNode): void {
  if (typeof node.type === 'string') node.type = [node.type, 'null'];
  if (Array.isArray(node.enum) && !node.enum.includes(null)) node.enum = [...(node.enum as unknown[]), null];
  if (node.type === undefined && Array.isArray(node.anyOf))
    node.anyOf = [...(node.anyOf as unknown[]), { type: 'null' }];
}
