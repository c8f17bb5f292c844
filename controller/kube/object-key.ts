/**
 * The key of an object in caches and work queues: `namespace/name`, or `name` for
 * cluster-scoped objects (client-go's MetaNamespaceKeyFunc).
 */

/** The parts of ObjectMeta a key is made of. */
export interface KeyedObject {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
}

/** `namespace/name`, or `name` when the object has no namespace. Throws if it has no name. */
export function objectKey(obj: KeyedObject): string {
  const name = obj.metadata?.name;
  if (!name) throw new TypeError('object has no metadata.name; it has no key');
  const namespace = obj.metadata?.namespace;
  return namespace ? `${namespace}/${name}` : name;
}

/** The inverse of `objectKey`. */
export function splitObjectKey(key: string): { readonly namespace?: string; readonly name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
