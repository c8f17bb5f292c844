/**
 * The Singer catalog as taps write it with --discover and read it with --catalog (pure):
 * `{"streams": [{"tap_stream_id", "stream", "schema", "metadata": [{"breadcrumb", "metadata"}]}]}`.
 * Unknown fields are kept as they are: the tap, not FlexCore, owns their meaning.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface MetadataEntry {
  breadcrumb: string[];
  metadata: JsonObject;
  [key: string]: Json;
}

export interface CatalogStream {
  tap_stream_id: string;
  stream?: string;
  schema: JsonObject;
  metadata: MetadataEntry[];
  [key: string]: Json | undefined;
}

export interface SingerCatalog {
  streams: CatalogStream[];
  [key: string]: Json | CatalogStream[];
}

/** A catalog that is not JSON or not shaped like a Singer catalog; the message says where. */
export class CatalogInvalidError extends Error {
  override readonly name = 'CatalogInvalidError';
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkMetadata(list: unknown, where: string): MetadataEntry[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new CatalogInvalidError(`${where}.metadata is not a list`);
  return list.map((m, i) => {
    if (!isObject(m) || !Array.isArray(m.breadcrumb) || !m.breadcrumb.every((b) => typeof b === 'string'))
      throw new CatalogInvalidError(`${where}.metadata[${i}] has no breadcrumb list of strings`);
    if (m.metadata !== undefined && !isObject(m.metadata))
      throw new CatalogInvalidError(`${where}.metadata[${i}].metadata is not an object`);
    return { ...m, breadcrumb: m.breadcrumb, metadata: (m.metadata as JsonObject) ?? {} };
  });
}

/** Checks the shape of a parsed catalog; throws CatalogInvalidError naming the first fault. */
export function asSingerCatalog(value: unknown): SingerCatalog {
  if (!isObject(value) || !Array.isArray(value.streams))
    throw new CatalogInvalidError('the catalog is not an object with a "streams" list');
  const streams = value.streams.map((s, i): CatalogStream => {
    const where = `streams[${i}]`;
    if (!isObject(s)) throw new CatalogInvalidError(`${where} is not an object`);
    const id = s.tap_stream_id ?? s.stream;
    if (typeof id !== 'string' || id === '')
      throw new CatalogInvalidError(`${where} has neither tap_stream_id nor stream`);
    if (s.schema !== undefined && !isObject(s.schema))
      throw new CatalogInvalidError(`${where}.schema is not an object`);
    return {
      ...s,
      tap_stream_id: id,
      schema: (s.schema as JsonObject) ?? {},
      metadata: checkMetadata(s.metadata, where),
    };
  });
  return { ...value, streams };
}

/** Parses catalog text; throws CatalogInvalidError for text that is not a Singer catalog. */
export function parseCatalog(text: string): SingerCatalog {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CatalogInvalidError(`the catalog is not JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  return asSingerCatalog(value);
}
