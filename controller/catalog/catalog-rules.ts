/**
 * Applies select, metadata and schema rules to a Singer catalog (pure), with Meltano's
 * semantics (docs/singer-catalog.md lists where FlexCore deliberately differs):
 *
 * 1. schema: each matching stream's property schema is replaced by the fragment; a property
 *    named without wildcards is added when missing.
 * 2. Every stream and (nested) property gets a metadata entry if it has none.
 * 3. One metadata pass, later rules winning key by key: deselect everything (`!*.*`), the
 *    select includes, the select excludes, then the metadata rules. `selected: true` is never
 *    written on an `unsupported` property.
 *
 * The result says which include patterns matched nothing and which selected streams cannot
 * sync as asked (INCREMENTAL without a usable replication-key).
 */
import type { CatalogRules } from '../../api/v1alpha1/index.js';
import { globMatch } from './glob.js';
import { breadcrumbOf, parseSelectPattern, type SelectPattern } from './select-pattern.js';
import type { CatalogStream, Json, JsonObject, MetadataEntry, SingerCatalog } from './singer-catalog.js';

/** Meltano's default select: every stream, every property. */
export const DEFAULT_SELECT: readonly string[] = ['*.*'];

interface MetadataRule {
  readonly stream: string;
  /** Glob over the breadcrumb joined with dots; '' for the stream entry. */
  readonly breadcrumb: string;
  readonly key: string;
  readonly value: Json;
}

export interface AppliedCatalog {
  readonly catalog: SingerCatalog;
  /** Include patterns (select) and metadata stream patterns that matched nothing. */
  readonly unmatched: readonly string[];
  /** Why a selected stream cannot sync as its metadata asks; empty when it can. */
  readonly problems: readonly string[];
  readonly selectedStreams: readonly string[];
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const HAS_GLOB = /[*?[\]]/;

function selectRules(p: SelectPattern): MetadataRule[] {
  const rule = (crumb: readonly string[], value: boolean): MetadataRule => ({
    stream: p.stream,
    breadcrumb: crumb.join('.'),
    key: 'selected',
    value,
  });
  const all = ['properties', '*'];
  if (p.negated) {
    if (p.path.length === 0) return [rule([], false), rule(all, false)];
    // Meltano leaves an excluded object's sub-properties selected; FlexCore excludes them too.
    return [rule(breadcrumbOf(p.path), false), rule([...breadcrumbOf(p.path), '*'], false)];
  }
  if (p.path.length === 0) return [rule([], true), rule(all, true)];
  const parents = p.path.slice(0, -1).map((_, i) => rule(breadcrumbOf(p.path.slice(0, i + 1)), true));
  return [rule([], true), rule(breadcrumbOf(p.path), true), ...parents];
}

/** metadata: a non-empty object value names a property, anything else is a metadata value. */
function metadataRules(metadata: Readonly<Record<string, unknown>>): MetadataRule[] {
  const rules: MetadataRule[] = [];
  const walk = (stream: string, path: string[], obj: Record<string, unknown>): void => {
    for (const [key, value] of Object.entries(obj)) {
      if (isObject(value) && Object.keys(value).length > 0) walk(stream, [...path, key], value);
      else rules.push({ stream, breadcrumb: breadcrumbOf(path).join('.'), key, value: value as Json });
    }
  };
  for (const [stream, obj] of Object.entries(metadata)) if (isObject(obj)) walk(stream, [], obj);
  return rules;
}

function applySchema(stream: CatalogStream, schema: CatalogRules['schema']): void {
  for (const [pattern, props] of Object.entries(schema ?? {})) {
    if (!globMatch(stream.tap_stream_id, pattern)) continue;
    if (!isObject(stream.schema.properties)) stream.schema.properties = {};
    const properties = stream.schema.properties;
    for (const [prop, fragment] of Object.entries(props)) {
      const names = HAS_GLOB.test(prop) ? Object.keys(properties).filter((k) => globMatch(k, prop)) : [prop];
      for (const name of names) properties[name] = structuredClone(fragment) as JsonObject;
    }
  }
}

/** Breadcrumbs of every property, nested objects included (not array items or anyOf branches). */
function propertyBreadcrumbs(schema: JsonObject, prefix: string[] = []): string[][] {
  const props = schema.properties;
  if (!isObject(props)) return [];
  return Object.entries(props).flatMap(([name, sub]) => {
    const crumb = [...prefix, 'properties', name];
    return [crumb, ...(isObject(sub) ? propertyBreadcrumbs(sub, crumb) : [])];
  });
}

function ensureEntries(stream: CatalogStream): void {
  const have = new Set(stream.metadata.map((m) => m.breadcrumb.join('\u0000')));
  const add = (breadcrumb: string[]): void => {
    if (have.has(breadcrumb.join('\u0000'))) return;
    stream.metadata.push({ breadcrumb, metadata: { inclusion: 'available' } });
  };
  add([]);
  for (const crumb of propertyBreadcrumbs(stream.schema)) add(crumb);
}

function applyMetadata(stream: CatalogStream, entry: MetadataEntry, rules: readonly MetadataRule[]): void {
  const crumb = entry.breadcrumb.join('.');
  for (const rule of rules) {
    if (!globMatch(stream.tap_stream_id, rule.stream) || !globMatch(crumb, rule.breadcrumb)) continue;
    if (rule.key === 'selected' && rule.value === true && entry.metadata.inclusion === 'unsupported')
      continue;
    entry.metadata[rule.key] = rule.value;
    // Legacy taps read stream-level keys from the stream itself, with underscores.
    if (entry.breadcrumb.length === 0) stream[rule.key.replace(/-/g, '_')] = rule.value;
  }
}

function isSelected(entry: MetadataEntry | undefined): boolean {
  return entry?.metadata.selected === true || entry?.metadata.inclusion === 'automatic';
}

function streamProblems(stream: CatalogStream): string[] {
  const top = stream.metadata.find((m) => m.breadcrumb.length === 0)!;
  const method = top.metadata['replication-method'];
  const key = top.metadata['replication-key'];
  if (method !== 'INCREMENTAL') return [];
  const id = stream.tap_stream_id;
  if (typeof key !== 'string' || key === '')
    return [`stream ${id} is INCREMENTAL but has no replication-key`];
  const entry = stream.metadata.find((m) => m.breadcrumb.length === 2 && m.breadcrumb[1] === key);
  if (!entry) return [`stream ${id}: replication-key ${key} is not a property of the stream`];
  if (!isSelected(entry)) return [`stream ${id}: replication-key ${key} is not selected`];
  return [];
}

function unmatchedPatterns(
  streams: readonly CatalogStream[],
  select: readonly SelectPattern[],
  metadata: Readonly<Record<string, unknown>>,
): string[] {
  const crumbs = new Map(streams.map((s) => [s, propertyBreadcrumbs(s.schema).map((c) => c.join('.'))]));
  const selectMisses = select
    .filter((p) => !p.negated)
    .filter((p) => {
      const hit = streams.filter((s) => globMatch(s.tap_stream_id, p.stream));
      if (p.path.length === 0) return hit.length === 0;
      const want = breadcrumbOf(p.path).join('.');
      return !hit.some((s) => crumbs.get(s)!.some((c) => globMatch(c, want)));
    })
    .map((p) => p.raw);
  const metadataMisses = Object.keys(metadata)
    .filter((pattern) => !streams.some((s) => globMatch(s.tap_stream_id, pattern)))
    .map((pattern) => `metadata ${pattern}`);
  return [...selectMisses, ...metadataMisses];
}

/**
 * Applies `rules` to a copy of `catalog`. `select` undefined means Meltano's default (`*.*`);
 * with `keepSelection` (a catalog the user gave whole) and no select, the catalog's own
 * selection stands and only metadata and schema apply.
 */
export function applyCatalogRules(
  catalog: SingerCatalog,
  rules: CatalogRules,
  options: { readonly keepSelection?: boolean } = {},
): AppliedCatalog {
  const out = structuredClone(catalog);
  const given = rules.select;
  const select = (given ?? (options.keepSelection ? [] : DEFAULT_SELECT)).map(parseSelectPattern);
  const reset = options.keepSelection && given === undefined ? [] : selectRules(parseSelectPattern('!*.*'));
  const ordered = [
    ...reset,
    ...select.filter((p) => !p.negated).flatMap(selectRules),
    ...select.filter((p) => p.negated).flatMap(selectRules),
    ...metadataRules(rules.metadata ?? {}),
  ];
  for (const stream of out.streams) {
    applySchema(stream, rules.schema);
    ensureEntries(stream);
    for (const entry of stream.metadata) applyMetadata(stream, entry, ordered);
  }
  const selected = out.streams.filter((s) => isSelected(s.metadata.find((m) => m.breadcrumb.length === 0)));
  return {
    catalog: out,
    unmatched: unmatchedPatterns(out.streams, given ? select : [], rules.metadata ?? {}),
    problems: selected.flatMap(streamProblems),
    selectedStreams: selected.map((s) => s.tap_stream_id),
  };
}

/** `base` with `over`'s entries replacing its own of the same key, all placed after base's others. */
function overlay<T>(
  base: Record<string, T> | undefined,
  over: Record<string, T> | undefined,
): Record<string, T> {
  const kept = Object.entries(base ?? {}).filter(([k]) => !Object.hasOwn(over ?? {}, k));
  return { ...Object.fromEntries(kept), ...over };
}

/**
 * A step's rules over its plugin's: the step's select replaces the plugin's; metadata and
 * schema entries are merged by stream pattern, the step's replacing the plugin's. The step's
 * entries come last, so a later plugin pattern (`*`) cannot win over them.
 */
export function mergeCatalogRules(
  plugin: CatalogRules | undefined,
  step: CatalogRules | undefined,
): CatalogRules {
  const select = step?.select ?? plugin?.select;
  const metadata = overlay(plugin?.metadata, step?.metadata);
  const schema = overlay(plugin?.schema, step?.schema);
  return {
    ...(select !== undefined && { select }),
    ...(Object.keys(metadata).length > 0 && { metadata }),
    ...(Object.keys(schema).length > 0 && { schema }),
  };
}
