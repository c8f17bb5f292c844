/**
 * The plugin catalog (plugins/catalog/<name>.yaml) as objects, so the demo, the realism tests
 * and the benchmarks run exactly what users apply, with placement or resources added.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const CATALOG_DIR = fileURLToPath(new URL('../../plugins/catalog/', import.meta.url));

interface CatalogEntry {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec: Record<string, unknown> & { readonly defaults?: Record<string, unknown> };
}

/** Catalog entry `name`, with `defaults` merged over its own (field by field). */
export function catalogPlugin(name: string, defaults: Record<string, unknown> = {}): CatalogEntry {
  const entry = parse(readFileSync(`${CATALOG_DIR}${name}.yaml`, 'utf8')) as CatalogEntry;
  return { ...entry, spec: { ...entry.spec, defaults: { ...entry.spec.defaults, ...defaults } } };
}
