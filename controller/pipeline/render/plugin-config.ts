/**
 * The config of one plugin: setting defaults (some replaced by the pipeline, such as the
 * loadSchema), then plain config, then configFrom. Values from Secrets are strings and are
 * converted to the setting's kind.
 */
import type { ConfigSource, FlexPlugin, Setting, SettingKind } from '../../../api/v1alpha1/index.js';
import { isSecretSetting, matchesKind } from '../../../api/v1alpha1/index.js';
import type { ConfigProblem, ConfigProblemReason } from './config-problem.js';

/** What the config of one plugin is made of. */
export interface PluginConfigInput {
  readonly plugin: FlexPlugin;
  readonly part: 'step' | 'target';
  readonly config?: Readonly<Record<string, unknown>>;
  readonly configFrom?: readonly ConfigSource[];
  /** Values that replace the settings' own defaults; config and configFrom still win over them. */
  readonly defaultOverrides?: Readonly<Record<string, unknown>>;
  readonly secrets: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

/** The resolved config, or the problems that prevent it (then `values` is incomplete). */
export interface PluginConfig {
  readonly values: Record<string, unknown>;
  readonly problems: ConfigProblem[];
}

/**
 * A Secret value as a value of the given kind: as written for strings and passwords, JSON for
 * the rest (so "5432" is the integer 5432, and "54x" is refused).
 */
export function convertSecretValue(raw: string, kind: SettingKind): { value: unknown } | undefined {
  if (kind === 'string' || kind === 'password') return { value: raw };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined; // the parser's message quotes the text, which may be secret
  }
  return matchesKind(parsed, kind) ? { value: parsed } : undefined;
}

/** Accumulates values and problems for one plugin. */
class Builder {
  // A Map, so a key such as "__proto__" stays a plain key.
  readonly values = new Map<string, unknown>();
  readonly problems: ConfigProblem[] = [];
  private readonly settings: ReadonlyMap<string, Setting>;

  constructor(private readonly input: PluginConfigInput) {
    this.settings = new Map((input.plugin.spec.settings ?? []).map((s) => [s.name, s]));
  }

  problem(reason: ConfigProblemReason, message: string, extra: { setting?: string; secret?: string }): void {
    const plugin = this.input.plugin.metadata.name ?? '';
    this.problems.push({ reason, message, part: this.input.part, plugin, ...extra });
  }

  defaults(): void {
    for (const s of this.settings.values()) if (s.default !== undefined) this.values.set(s.name, s.default);
    for (const [name, value] of Object.entries(this.input.defaultOverrides ?? {}))
      this.values.set(name, value);
  }

  plain(name: string, value: unknown): void {
    const setting = this.settings.get(name);
    if (setting && isSecretSetting(setting)) {
      const msg = `setting "${name}" is secret: give it through configFrom, not config`;
      return this.problem('SecretSettingInPlainConfig', msg, { setting: name });
    }
    if (setting && value !== null && !matchesKind(value, setting.kind)) {
      const msg = `setting "${name}" must be of kind ${setting.kind}`;
      return this.problem('SettingKindMismatch', msg, { setting: name });
    }
    this.values.set(name, value);
  }

  fromSecret(name: string, raw: string, secret: string, key: string): void {
    const kind = this.settings.get(name)?.kind ?? 'string';
    const converted = convertSecretValue(raw, kind);
    if (converted) {
      this.values.set(name, converted.value);
      return;
    }
    const msg = `setting "${name}" must be of kind ${kind}, but key "${key}" of Secret "${secret}" does not parse as one`;
    this.problem('SettingKindMismatch', msg, { setting: name, secret });
  }

  source(source: ConfigSource): void {
    const name = source.secretKeyRef?.name ?? source.secretRef?.name ?? '';
    const data = this.input.secrets.get(name);
    if (data === undefined) {
      return this.problem('SecretNotFound', `Secret "${name}" was not found`, { secret: name });
    }
    if (source.secretRef) {
      for (const key of Object.keys(data).sort()) this.fromSecret(key, data[key] ?? '', name, key);
      return;
    }
    const { key } = source.secretKeyRef ?? { key: '' };
    const setting = source.setting ?? key;
    const raw = Object.hasOwn(data, key) ? data[key] : undefined;
    if (raw === undefined) {
      const msg = `Secret "${name}" has no key "${key}" (for setting "${setting}")`;
      return this.problem('SecretKeyNotFound', msg, { setting, secret: name });
    }
    this.fromSecret(setting, raw, name, key);
  }

  required(): void {
    for (const s of this.settings.values()) {
      const value = this.values.get(s.name);
      if (!s.required || (value !== undefined && value !== null)) continue;
      this.problem('RequiredSettingMissing', `required setting "${s.name}" has no value`, {
        setting: s.name,
      });
    }
  }
}

/** Resolves one plugin's config; problems name settings and Secrets, never values. */
export function resolvePluginConfig(input: PluginConfigInput): PluginConfig {
  const b = new Builder(input);
  b.defaults();
  for (const [name, value] of Object.entries(input.config ?? {})) b.plain(name, value);
  for (const source of input.configFrom ?? []) b.source(source);
  b.required();
  return { values: Object.fromEntries(b.values), problems: b.problems };
}
