/**
 * Helpers that attach Kubernetes OpenAPI extensions to zod schemas, so one definition yields
 * both the offline validator and the CRD. A rule carries its CEL text for the apiserver and
 * the same check in TypeScript for `flexcore validate`; keeping them side by side is what
 * keeps the two verdicts in agreement.
 */
import { z } from 'zod';

/** One rule that a plain schema cannot express: CEL for admission, `check` for offline validation. */
export interface Rule<T> {
  /**
   * CEL expression evaluated by kube-apiserver with `self` bound to the value. Absent for
   * rules CEL cannot express (e.g. on schemaless fields): then only code checks them.
   */
  readonly cel?: string;
  /** The message both validators report. */
  readonly message: string;
  /** Path of the offending field relative to the value, e.g. `.startingDeadlineSeconds`. */
  readonly fieldPath?: string;
  /** Kubernetes error reason; defaults to FieldValueInvalid. */
  readonly reason?:
    'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  /**
   * Same rule in TypeScript. Returns true when valid, false for one problem at `fieldPath`, or
   * the exact places that break it (an empty list means valid) for more precise messages.
   */
  readonly check: (value: T) => boolean | RuleIssue[];
}

/** A place where a rule is broken, relative to the value the rule is attached to. */
export interface RuleIssue {
  readonly path: (string | number)[];
  readonly message?: string;
}

/** Attach rules to a schema: checked by zod offline and emitted as `x-kubernetes-validations`. */
export function withRules<S extends z.ZodType>(
  schema: S,
  description: string,
  rules: Rule<z.output<S>>[],
): S {
  const refined = schema.superRefine((value, ctx) => {
    for (const rule of rules) {
      const verdict = rule.check(value);
      if (verdict === false) {
        ctx.addIssue({ code: 'custom', message: rule.message, path: fieldPathToKeys(rule.fieldPath) });
      } else if (Array.isArray(verdict)) {
        for (const issue of verdict) {
          ctx.addIssue({ code: 'custom', message: issue.message ?? rule.message, path: issue.path });
        }
      }
    }
  });
  return refined.meta({
    description,
    'x-kubernetes-validations': rules.flatMap((r) =>
      r.cel === undefined
        ? []
        : [
            {
              rule: r.cel,
              message: r.message,
              ...(r.fieldPath ? { fieldPath: r.fieldPath } : {}),
              ...(r.reason ? { reason: r.reason } : {}),
            },
          ],
    ),
  });
}

function fieldPathToKeys(fieldPath: string | undefined): string[] {
  return fieldPath ? fieldPath.split('.').filter((k) => k !== '') : [];
}

/** A list whose items are identified by a key field: the apiserver rejects duplicate keys. */
export function listMap<T extends z.ZodType>(
  item: T,
  key: string,
  description: string,
  maxItems: number,
): z.ZodArray<T> {
  return z
    .array(item)
    .max(maxItems)
    .superRefine((items, ctx) => {
      const seen = new Map<unknown, number>();
      items.forEach((it, i) => {
        const k = (it as Record<string, unknown>)[key];
        if (seen.has(k)) {
          ctx.addIssue({ code: 'custom', message: `duplicate ${key} ${JSON.stringify(k)}`, path: [i, key] });
        }
        seen.set(k, i);
      });
    })
    .meta({ description, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': [key] });
}

/** A list of unique scalar values. */
export function listSet<T extends z.ZodType>(item: T, description: string, maxItems: number): z.ZodArray<T> {
  return z
    .array(item)
    .max(maxItems)
    .superRefine((items, ctx) => {
      const seen = new Set<unknown>();
      items.forEach((it, i) => {
        if (seen.has(it))
          ctx.addIssue({ code: 'custom', message: `duplicate value ${JSON.stringify(it)}`, path: [i] });
        seen.add(it);
      });
    })
    .meta({ description, 'x-kubernetes-list-type': 'set' });
}

/** A string-keyed map with at most `maxEntries` entries (a bound CEL cost estimates need). */
export function stringMap<K extends z.ZodType<string>, V extends z.ZodType>(
  key: K,
  value: V,
  description: string,
  maxEntries: number,
): z.ZodRecord<K, V> {
  return z
    .record(key, value)
    .refine((m) => Object.keys(m).length <= maxEntries, `at most ${maxEntries} entries are allowed`)
    .meta({ description, maxProperties: maxEntries });
}

/** Arbitrary JSON kept as written (plugin config, setting defaults). */
export function freeForm(description: string): z.ZodRecord<z.ZodString, z.ZodUnknown> {
  return z
    .record(z.string(), z.unknown())
    .meta({ description, 'x-kubernetes-preserve-unknown-fields': true });
}

/** A DNS-1123 label: lower-case alphanumerics and '-', starting and ending alphanumeric. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A DNS-1123 subdomain (the rule for most object names). */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const QUANTITY =
  /^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;

/** A Kubernetes resource quantity such as `500m`, `2Gi` or `1`. */
export function quantity(description: string): z.ZodType<string | number> {
  return z
    .union([z.int().nonnegative(), z.string().regex(QUANTITY)], {
      error: 'must be a quantity such as 500m, 2Gi or 1',
    })
    .meta({ description, 'x-kubernetes-int-or-string': true, pattern: QUANTITY.source, minimum: 0 });
}
