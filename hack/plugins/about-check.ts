/**
 * A catalog entry (plugins/catalog/<name>.yaml) against what its plugin says about itself: the
 * Singer SDK's `--about --format=json` (name, version, capabilities, and the settings as a JSON
 * Schema), or the same shape made from a plugin that has no --about (./about-sources.ts). Pure:
 * the test that runs the plugin images feeds it, and small fixtures test it.
 */

/** A plugin's `--about --format=json`, the parts this check reads. */
export interface PluginAbout {
  readonly name?: string;
  readonly version?: string;
  readonly capabilities?: readonly string[];
  /** A JSON Schema of type object: the plugin's config. */
  readonly settings?: JsonSchema;
}

/** The JSON Schema keywords this check reads (singer-sdk's `th.PropertiesList` output). */
export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly anyOf?: readonly unknown[];
  readonly oneOf?: readonly unknown[];
  readonly enum?: readonly unknown[];
  readonly default?: unknown;
  /** singer-sdk's `secret=True` writes `secret: true` and `writeOnly: true`. */
  readonly secret?: boolean;
  readonly writeOnly?: boolean;
  /** Meltano's name for the same. */
  readonly sensitive?: boolean;
}

/** One setting of a plugin, nested ones under their dotted name (`ssh_tunnel.enable`). */
export interface AboutSetting {
  readonly name: string;
  /** The JSON types it accepts besides null; empty when the schema does not say. */
  readonly kinds: readonly string[];
  readonly secret: boolean;
  readonly required: boolean;
  readonly hasDefault: boolean;
  readonly enum?: readonly unknown[];
}

/** The parts of a catalog entry's spec this check reads (raw YAML: `kind` may be absent). */
export interface EntrySpec {
  readonly image?: string;
  readonly capabilities?: readonly string[];
  readonly settings?: readonly EntrySetting[];
}

/** One setting of a catalog entry as written in YAML. */
export interface EntrySetting {
  readonly name: string;
  /** string when absent; `password` is a secret string. */
  readonly kind?: string;
  readonly required?: boolean;
  readonly secret?: boolean;
  readonly default?: unknown;
}

/** How strictly to compare. */
export interface AboutCheckOptions {
  /**
   * Every setting the plugin reads must be declared by the entry too. Right for a plugin whose
   * settings were read from its code (a handful); wrong for Singer SDK plugins, whose --about
   * lists dozens of generic settings (stream maps, flattening, batch) an entry may leave out.
   */
  readonly complete?: boolean;
  /** Compare the entry's image tag with the plugin's version (when --about has one). */
  readonly version?: boolean;
}

const JSON_KINDS = ['string', 'integer', 'number', 'boolean', 'object', 'array'];

/** The non-null JSON types a schema accepts, from `type` or its anyOf/oneOf branches. */
export function schemaKinds(schema: unknown): string[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const s = schema as JsonSchema;
  const own = s.type === undefined ? [] : typeof s.type === 'string' ? [s.type] : [...s.type];
  const branches = [...(s.anyOf ?? []), ...(s.oneOf ?? [])].flatMap(schemaKinds);
  return [...new Set([...own, ...branches])].filter((k) => JSON_KINDS.includes(k));
}

function isSecret(s: JsonSchema): boolean {
  return s.secret === true || s.writeOnly === true || s.sensitive === true;
}

/**
 * Every setting in a settings schema, nested object properties under dotted names. A nested
 * setting is required only when its parent is (or it is at the top).
 */
export function aboutSettings(
  schema: JsonSchema | undefined,
  prefix = '',
  parentRequired = true,
): AboutSetting[] {
  const required = new Set(schema?.required ?? []);
  return Object.entries(schema?.properties ?? {}).flatMap(([key, s]) => {
    const name = `${prefix}${key}`;
    const setting: AboutSetting = {
      name,
      kinds: schemaKinds(s),
      secret: isSecret(s),
      required: parentRequired && required.has(key),
      hasDefault: s.default !== undefined,
      ...(s.enum ? { enum: s.enum } : {}),
    };
    return [setting, ...aboutSettings(s, `${name}.`, setting.required)];
  });
}

/** The tag of an image reference (`localhost/flexcore/tap-postgres:0.10.0` → `0.10.0`). */
export function imageTag(image: string): string | undefined {
  const last = image.split('@')[0]!.split('/').pop() ?? '';
  const colon = last.lastIndexOf(':');
  return colon < 0 ? undefined : last.slice(colon + 1);
}

function entryKind(s: EntrySetting): string {
  return s.kind === undefined || s.kind === 'password' ? 'string' : s.kind;
}

function entrySecret(s: EntrySetting): boolean {
  return s.secret === true || s.kind === 'password';
}

/** JSON Schema's integer is a number, so an integer setting may stand for a number one. */
function kindFits(kind: string, kinds: readonly string[]): boolean {
  return kinds.length === 0 || kinds.includes(kind) || (kind === 'integer' && kinds.includes('number'));
}

/** What is wrong with one entry setting, given the plugin's own. */
function settingMismatches(s: EntrySetting, about: AboutSetting | undefined): string[] {
  if (!about) return [`setting ${s.name}: not among the plugin's settings`];
  const out: string[] = [];
  if (!kindFits(entryKind(s), about.kinds))
    out.push(`setting ${s.name}: kind ${entryKind(s)}, but the plugin types it ${about.kinds.join(' or ')}`);
  if (about.secret && !entrySecret(s))
    out.push(
      `setting ${s.name}: the plugin marks it secret; the entry needs secret: true (or kind: password)`,
    );
  if (about.required && !about.hasDefault && s.required !== true && s.default === undefined)
    out.push(`setting ${s.name}: the plugin requires it (no default); the entry needs required: true`);
  if (about.enum && s.default !== undefined && !about.enum.includes(s.default))
    out.push(
      `setting ${s.name}: default ${JSON.stringify(s.default)} is not one of ${JSON.stringify(about.enum)}`,
    );
  return out;
}

/**
 * The mismatches between a catalog entry and its plugin's --about, one clear line each; empty
 * when they agree. The entry may be stricter than the plugin (a setting required or secret
 * that the plugin leaves optional or plain), never looser.
 */
export function checkAbout(entry: EntrySpec, about: PluginAbout, options: AboutCheckOptions = {}): string[] {
  const plugin = aboutSettings(about.settings);
  const byName = new Map(plugin.map((s) => [s.name, s]));
  const declared = new Set((entry.settings ?? []).map((s) => s.name));
  const out = (entry.settings ?? []).flatMap((s) => settingMismatches(s, byName.get(s.name)));
  for (const s of plugin) {
    if (declared.has(s.name)) continue;
    if (s.required && !s.hasDefault)
      out.push(`setting ${s.name}: the plugin requires it (no default), but the entry does not declare it`);
    else if (options.complete && !s.name.includes('.'))
      out.push(`setting ${s.name}: the plugin reads it, but the entry does not declare it`);
  }
  const capabilities = about.capabilities ?? [];
  for (const c of entry.capabilities ?? [])
    if (!capabilities.includes(c))
      out.push(
        `capability ${c}: declared by the entry, but the plugin has only [${capabilities.join(', ')}]`,
      );
  const tag = entry.image === undefined ? undefined : imageTag(entry.image);
  if (options.version && about.version !== undefined && tag !== about.version)
    out.push(
      `image ${entry.image ?? ''}: tagged ${tag ?? '(none)'}, but the plugin is version ${about.version}`,
    );
  return out;
}
