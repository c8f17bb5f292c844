/**
 * Offline validation of FlexCore manifests: the schema rules the apiserver enforces (the same
 * zod schemas the CRDs are generated from) plus what only code can check (dependency cycles,
 * cron syntax, time zone names).
 */
import type { z } from 'zod';
import { incrementalWithoutKey, type StreamMetadata } from './catalog.js';
import { GROUP } from './common.js';
import { FlexPipeline, PIPELINE_KIND } from './flexpipeline.js';
import { FlexPlugin, PLUGIN_KIND } from './flexplugin.js';
import { findCycle } from './graph.js';
import { CRON_SHAPE } from './flexpipeline.js';
import { scheduleProblem, timeZoneProblem } from './schedule.js';

/** One thing wrong with a manifest, at a field path such as `spec.steps[1].dependsOn[0]`. */
export interface Problem {
  readonly path: string;
  readonly message: string;
}

export type Verdict =
  | {
      readonly kind: 'checked';
      readonly objectKind: string;
      readonly name?: string;
      readonly problems: Problem[];
    }
  | { readonly kind: 'ignored'; readonly objectKind: string; readonly apiVersion: string };

const SCHEMAS: Record<string, z.ZodType> = { [PLUGIN_KIND]: FlexPlugin, [PIPELINE_KIND]: FlexPipeline };

/** Validate one parsed YAML/JSON document. */
export function validateManifest(doc: unknown): Verdict {
  if (!isRecord(doc)) {
    return {
      kind: 'checked',
      objectKind: '',
      problems: [
        { path: '', message: 'document is not a Kubernetes object (a mapping with apiVersion and kind)' },
      ],
    };
  }
  const kind = typeof doc.kind === 'string' ? doc.kind : '';
  const apiVersion = typeof doc.apiVersion === 'string' ? doc.apiVersion : '';
  const schema = SCHEMAS[kind];
  if (!apiVersion.startsWith(`${GROUP}/`) && !schema)
    return { kind: 'ignored', objectKind: kind, apiVersion };
  if (!schema) {
    return {
      kind: 'checked',
      objectKind: kind,
      problems: [
        {
          path: 'kind',
          message: `unknown kind "${kind}" in ${GROUP}; expected ${PLUGIN_KIND} or ${PIPELINE_KIND}`,
        },
      ],
    };
  }
  const name =
    isRecord(doc.metadata) && typeof doc.metadata.name === 'string' ? doc.metadata.name : undefined;
  const parsed = schema.safeParse(withoutNulls(doc));
  const problems = parsed.success ? [] : parsed.error.issues.flatMap((i) => toProblems(i, doc));
  if (kind === PIPELINE_KIND) problems.push(...pipelineCodeChecks(doc));
  if (kind === PLUGIN_KIND) problems.push(...pluginCodeChecks(doc));
  return { kind: 'checked', objectKind: kind, ...(name ? { name } : {}), problems: dedupe(problems) };
}

/**
 * A plugin's catalog metadata asking for INCREMENTAL where none of its patterns names a
 * replication-key. (A step's is judged when it runs, against the discovered catalog: the key
 * may come from the plugin or from the tap.)
 */
function pluginCodeChecks(doc: Record<string, unknown>): Problem[] {
  const spec = isRecord(doc.spec) ? doc.spec : {};
  const catalog = isRecord(spec.catalog) ? spec.catalog : {};
  if (!isRecord(catalog.metadata)) return [];
  const metadata = catalog.metadata as Record<string, StreamMetadata>;
  return incrementalWithoutKey(metadata).map((pattern) => ({
    path: `spec.catalog.metadata.${pattern}`,
    message: 'replication-method INCREMENTAL needs a replication-key (in this pattern or another)',
  }));
}

/** Checks a schema cannot express, run on whatever parts of the document are well-formed. */
function pipelineCodeChecks(doc: Record<string, unknown>): Problem[] {
  const spec = isRecord(doc.spec) ? doc.spec : {};
  const problems: Problem[] = [];
  if (typeof spec.schedule === 'string' && CRON_SHAPE.test(spec.schedule)) {
    const p = scheduleProblem(spec.schedule);
    if (p) problems.push({ path: 'spec.schedule', message: p });
  }
  if (typeof spec.timeZone === 'string') {
    const p = timeZoneProblem(spec.timeZone);
    if (p) problems.push({ path: 'spec.timeZone', message: p });
  }
  if (Array.isArray(spec.steps)) {
    const nodes = spec.steps.filter(isRecord).flatMap((s) =>
      typeof s.name === 'string'
        ? [
            {
              name: s.name,
              dependsOn: Array.isArray(s.dependsOn)
                ? s.dependsOn.filter((d): d is string => typeof d === 'string')
                : [],
            },
          ]
        : [],
    );
    const cycle = findCycle(nodes);
    if (cycle) problems.push({ path: 'spec.steps', message: `dependency cycle: ${cycle.join(' -> ')}` });
  }
  return problems;
}

function toProblems(issue: z.core.$ZodIssue, doc: unknown): Problem[] {
  const path = formatPath(issue.path);
  if (issue.code === 'invalid_key') {
    // A map key (a stream pattern) that breaks its rule: say which rule.
    return [{ path, message: `key ${issue.issues.map((i) => i.message).join('; ')}` }];
  }
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => ({ path: formatPath([...issue.path, k]), message: 'unknown field' }));
  }
  const isValueCheck =
    issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_union';
  if (isValueCheck && valueAt(doc, issue.path) === undefined) {
    return [{ path, message: 'required field is missing' }];
  }
  return [{ path, message: issue.message }];
}

/**
 * The apiserver drops null-valued fields before validating (they mean "unset"), so a
 * `timeoutSeconds: ~` is no error there; mirror that. Free-form maps keep their nulls.
 */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isRecord(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, k === 'config' ? v : withoutNulls(v)]),
  );
}

function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = doc;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** `['spec', 'steps', 1, 'name']` → `spec.steps[1].name`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    const k = String(key);
    return acc === '' ? k : `${acc}.${k}`;
  }, '');
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
