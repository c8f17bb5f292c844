/**
 * Which cached catalog a tap step may reuse (pure): the plugin's image, command and args and
 * the step's non-secret config after the settings' defaults. Secret values are left out on
 * purpose: a rotated password sees the same schema, and a hash of a short secret could be
 * guessed back. Where a Secret's values do change what the tap sees (another database user),
 * the `flexcore.io/rediscover` annotation asks for a new discovery.
 */
import type { FlexPlugin, Step } from '../../api/v1alpha1/index.js';
import { catalogDigest } from './discovery-output.js';

/** JSON with object keys sorted, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The non-secret config the tap sees: setting defaults, then the step's config. */
function plainConfig(plugin: FlexPlugin, step: Step): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const s of plugin.spec.settings ?? []) if (s.default !== undefined) config[s.name] = s.default;
  for (const [k, v] of Object.entries(step.config ?? {})) config[k] = v;
  return config;
}

/** Where the secret settings come from: setting names and Secret names, never values. */
function secretSources(step: Step): string[] {
  return (step.configFrom ?? [])
    .map((f) =>
      f.secretKeyRef
        ? `${f.setting}<-${f.secretKeyRef.name}/${f.secretKeyRef.key}`
        : `*<-${f.secretRef?.name}`,
    )
    .sort();
}

/** The cache key of a tap step's discovered catalog (hex SHA-256). */
export function catalogKey(plugin: FlexPlugin, step: Step): string {
  const { image, command, args } = plugin.spec;
  return catalogDigest(
    canonicalJson({ image, command, args, config: plainConfig(plugin, step), secrets: secretSources(step) }),
  );
}
