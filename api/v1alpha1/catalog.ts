/**
 * Singer catalog rules, in Meltano's terms: `select` patterns, `metadata` and `schema`
 * overrides by stream pattern. A FlexPlugin (tap) carries them as defaults; a step may add its
 * own and may give a whole catalog from a ConfigMap instead of discovery. The rules are applied
 * by controller/catalog/ (see docs/singer-catalog.md).
 */
import { z } from 'zod';
import { LocalName } from './common.js';
import { stringMap, withRules } from './kube.js';

/** The most select patterns, and the most stream patterns of metadata or schema. */
export const CATALOG_LIMITS = { maxSelect: 256, maxPatterns: 256, maxPatternLength: 256 } as const;

/** `[!]stream[.property[.sub…]]`: no spaces, `!` only in front, no empty part. */
export const SELECT_SHAPE = /^!?[^\s!.]\S*$/;

/** What is wrong with one select pattern beyond its shape (unclosed `[`), or undefined. */
export function globProblem(pattern: string): string | undefined {
  let i = 0;
  while (i < pattern.length) {
    if (pattern[i] !== '[') {
      i++;
      continue;
    }
    // fnmatch: `[!...]` negates; a `]` right after `[` or `[!` is a member, not the end.
    let j = i + 1;
    if (pattern[j] === '!') j++;
    if (pattern[j] === ']') j++;
    while (j < pattern.length && pattern[j] !== ']') j++;
    if (j >= pattern.length) return `"[" at ${i} is never closed`;
    i = j + 1;
  }
  return undefined;
}

const SelectPattern = z
  .string()
  .min(1)
  .max(CATALOG_LIMITS.maxPatternLength)
  .regex(
    SELECT_SHAPE,
    'must be <stream>.<property> with glob wildcards (*, ?, [abc]), optionally prefixed with ! to exclude, without spaces',
  );

const StreamPattern = z
  .string()
  .min(1)
  .max(CATALOG_LIMITS.maxPatternLength)
  .regex(/^\S+$/, 'must be a stream id or a glob pattern over stream ids, without spaces');

export const ReplicationMethod = z.enum(['FULL_TABLE', 'INCREMENTAL', 'LOG_BASED']).meta({
  description:
    'How the tap replicates the stream: FULL_TABLE every run, INCREMENTAL from the bookmark of replication-key, LOG_BASED from the database log.',
});
export type ReplicationMethod = z.infer<typeof ReplicationMethod>;

/**
 * Metadata of the streams a pattern matches. Scalar values are stream metadata (breadcrumb
 * []); an object value is the metadata of the property it is named after.
 */
export const StreamMetadata = z
  .looseObject({
    'replication-method': ReplicationMethod.optional(),
    'replication-key': z
      .string()
      .min(1)
      .max(256)
      .optional()
      .meta({ description: 'Property whose value orders the rows of an INCREMENTAL stream.' }),
  })
  .meta({
    description:
      'Singer metadata for the matching streams: replication-method, replication-key and any other key; a key whose value is an object sets the metadata of the property of that name.',
    'x-kubernetes-preserve-unknown-fields': true,
  });
export type StreamMetadata = z.infer<typeof StreamMetadata>;

const PropertySchemas = z.record(z.string().min(1), z.record(z.string(), z.unknown())).meta({
  description:
    'Property pattern → JSON Schema that replaces the property schema (a property the tap did not describe is added).',
  'x-kubernetes-preserve-unknown-fields': true,
});

/** The three rule kinds, shared by a FlexPlugin's defaults and a step. */
const ruleFields = {
  select: z.array(SelectPattern).max(CATALOG_LIMITS.maxSelect).optional().meta({
    description:
      "Streams and properties to sync, as Meltano select patterns: <stream>.<property> with *, ? and [...] wildcards; a leading ! excludes. Everything else is deselected; properties the tap marks automatic are always synced. A step's select replaces the plugin's.",
  }),
  metadata: stringMap(
    StreamPattern,
    StreamMetadata,
    'Stream pattern → metadata set on each matching stream, e.g. {"public-orders": {"replication-method": "INCREMENTAL", "replication-key": "updated_at"}}. A step\'s entries replace the plugin\'s of the same pattern; later patterns win.',
    CATALOG_LIMITS.maxPatterns,
  ).optional(),
  schema: stringMap(
    StreamPattern,
    PropertySchemas,
    'Stream pattern → property → JSON Schema override, e.g. {"public-orders": {"amount": {"type": ["number", "null"]}}}. A step\'s entries replace the plugin\'s of the same pattern.',
    CATALOG_LIMITS.maxPatterns,
  ).optional(),
};

/** A select pattern's fault beyond its shape: an unclosed `[` or an empty part (`a..b`, `a.`). */
export function selectPatternProblem(pattern: string): string | undefined {
  if (/(?<!\\)\.(\.|$)/.test(pattern)) return 'has an empty part (two dots, or a dot at the end)';
  return globProblem(pattern);
}

function selectIssues(
  select: readonly string[] | undefined,
): { path: (string | number)[]; message: string }[] {
  return (select ?? []).flatMap((p, i) => {
    const bad = selectPatternProblem(p);
    return bad ? [{ path: ['select', i], message: `select pattern "${p}": ${bad}` }] : [];
  });
}

/** Metadata that asks for INCREMENTAL where no pattern gives a replication-key at all. */
export function incrementalWithoutKey(
  metadata: Readonly<Record<string, StreamMetadata>> | undefined,
): string[] {
  const entries = Object.entries(metadata ?? {});
  if (entries.some(([, m]) => typeof m['replication-key'] === 'string')) return [];
  return entries.filter(([, m]) => m['replication-method'] === 'INCREMENTAL').map(([pattern]) => pattern);
}

const RULES = [
  {
    message: 'select patterns must close every [',
    check: (r: { select?: string[] }) => selectIssues(r.select),
  },
];

export const CatalogRules = withRules(
  z.strictObject(ruleFields),
  'Singer catalog rules applied to the discovered catalog before every sync.',
  RULES,
);
export type CatalogRules = z.infer<typeof CatalogRules>;

export const CatalogConfigMapRef = z
  .strictObject({
    name: LocalName.meta({ description: 'Name of a ConfigMap in the pipeline namespace.' }),
    key: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[-._a-zA-Z0-9]+$/, 'must be a ConfigMap key')
      .default('catalog.json')
      .meta({ description: 'Key holding the catalog JSON; catalog.json by default.' }),
  })
  .meta({
    description:
      'A whole Singer catalog from a ConfigMap, used instead of discovery; select, metadata and schema still apply to it.',
  });
export type CatalogConfigMapRef = z.infer<typeof CatalogConfigMapRef>;

export const StepCatalog = withRules(
  z.strictObject({ ...ruleFields, configMapRef: CatalogConfigMapRef.optional() }),
  "The step's Singer catalog: rules over the plugin's, and optionally a catalog from a ConfigMap.",
  RULES,
);
export type StepCatalog = z.infer<typeof StepCatalog>;
