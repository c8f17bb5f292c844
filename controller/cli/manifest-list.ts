/**
 * Lists in manifests: `kind: List` (what `kubectl get -o yaml` writes) and typed lists such as
 * `FlexPipelineList` hold their objects under `items`. kubectl applies each item on its own and
 * names a failing one by its index; validate does the same with an `items[N]` path prefix.
 */

/** One object of a document: the document itself, or an item of a list in it. */
export interface ListedObject {
  /** Field path of the object within its document: '' for the document, else `items[N]` (nested: `items[N].items[M]`). */
  readonly path: string;
  readonly object: unknown;
}

/** Lists nested deeper than this are reported, not expanded (a YAML alias loop cannot make one; a typo can). */
const MAX_DEPTH = 8;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether a parsed document is a list of objects: `kind: List` or `kind: <Kind>List` with an `items` array. */
export function isList(doc: unknown): doc is Record<string, unknown> & { kind: string; items: unknown[] } {
  if (!isRecord(doc) || typeof doc.kind !== 'string' || !Array.isArray(doc.items)) return false;
  return doc.kind === 'List' || (doc.kind.endsWith('List') && doc.kind.length > 'List'.length);
}

/**
 * The objects a document holds, in order: lists expanded (recursively), anything else as is.
 * Items of a typed list (`FlexPipelineList`) that leave out `kind` or `apiVersion` get the
 * list's, as the apiserver's list responses do. Pure; never mutates `doc`.
 */
export function expandLists(doc: unknown, path = '', depth = 0): ListedObject[] {
  if (!isList(doc) || depth >= MAX_DEPTH) return [{ path, object: doc }];
  const itemKind = doc.kind === 'List' ? undefined : doc.kind.slice(0, -'List'.length);
  const apiVersion = typeof doc.apiVersion === 'string' ? doc.apiVersion : undefined;
  return doc.items.flatMap((item, i) => {
    const at = `${path ? `${path}.` : ''}items[${i}]`;
    return expandLists(withListDefaults(item, itemKind, apiVersion), at, depth + 1);
  });
}

function withListDefaults(item: unknown, kind: string | undefined, apiVersion: string | undefined): unknown {
  if (kind === undefined || !isRecord(item)) return item;
  if (item.kind !== undefined && item.apiVersion !== undefined) return item;
  return {
    ...(apiVersion !== undefined && item.apiVersion === undefined ? { apiVersion } : {}),
    ...(item.kind === undefined ? { kind } : {}),
    ...item,
  };
}
