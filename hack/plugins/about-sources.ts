/**
 * An --about for plugins that have none, made from what they really read, so ./about-check.ts
 * can compare their catalog entries too: a singer-python target's `config.get(...)` calls, and
 * a wrapper's DEFAULTS and REQUIRED (plugins/images/dbt-postgres/flexcore_dbt.py). Also the
 * versions `dbt --version` prints. Pure: the caller reads the text out of the image.
 */
import type { JsonSchema, PluginAbout } from './about-check.js';

/** The JSON type of a Python literal as written in source; undefined for None or an expression. */
export function pythonLiteralKind(literal: string): string | undefined {
  const text = literal.trim();
  if (/^(?:'[^']*'|"[^"]*")$/.test(text)) return 'string';
  if (text === 'True' || text === 'False') return 'boolean';
  if (/^-?\d+$/.test(text)) return 'integer';
  if (/^-?\d+\.\d*$/.test(text)) return 'number';
  if (/^\[.*\]$/s.test(text)) return 'array';
  if (/^\{.*\}$/s.test(text)) return 'object';
  return undefined;
}

/** The JSON type of a JSON value; undefined for null. */
function jsonKind(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typed(kind: string | undefined, extra: JsonSchema = {}): JsonSchema {
  return kind === undefined ? extra : { type: [kind, 'null'], ...extra };
}

/**
 * The settings a Python plugin reads from its `config` dict: `config.get('name', default)` (the
 * default's literal gives the type) and `config['name']` (required: a KeyError without it).
 */
export function pythonConfigAbout(source: string, secret: readonly string[] = []): PluginAbout {
  const properties: Record<string, JsonSchema> = {};
  const required = new Set<string>();
  for (const m of source.matchAll(/\bconfig\.get\(\s*(['"])([^'"]+)\1\s*(?:,([^,()]*))?(\))?/g)) {
    const [, , name = '', literal, closed] = m;
    // A default that is a call (dict()) or an expression stays untyped, but is still a default.
    const kind = literal !== undefined && closed !== undefined ? pythonLiteralKind(literal) : undefined;
    const hasDefault = literal !== undefined && literal.trim() !== 'None';
    properties[name] = typed(kind, hasDefault ? { default: literal.trim() } : {});
  }
  for (const m of source.matchAll(/\bconfig\[\s*(['"])([^'"]+)\1\s*\]/g)) {
    const name = m[2] ?? '';
    if (properties[name]) continue;
    properties[name] = {};
    required.add(name);
  }
  for (const name of secret) if (properties[name]) properties[name] = { ...properties[name], secret: true };
  return { capabilities: [], settings: { type: 'object', properties, required: [...required] } };
}

/** What a FlexCore wrapper declares: settings with their defaults, and the required ones. */
export interface WrapperSettings {
  readonly defaults: Readonly<Record<string, unknown>>;
  readonly required: readonly string[];
}

/** The settings a wrapper reads: its defaults (typed by value) and its required names. */
export function wrapperAbout(wrapper: WrapperSettings, secret: readonly string[] = []): PluginAbout {
  const names = [...new Set([...Object.keys(wrapper.defaults), ...wrapper.required])];
  const properties = Object.fromEntries(
    names.map((name) => {
      const value = wrapper.defaults[name];
      const extra: JsonSchema = {
        ...(value === undefined ? {} : { default: value }),
        ...(secret.includes(name) ? { secret: true } : {}),
      };
      return [name, typed(jsonKind(value), extra)];
    }),
  );
  return { capabilities: [], settings: { type: 'object', properties, required: [...wrapper.required] } };
}

/** The versions in `dbt --version`'s output. */
export interface DbtVersions {
  readonly core?: string;
  /** Adapter name → installed version. */
  readonly plugins: Readonly<Record<string, string>>;
}

/** Parses `dbt --version`: "Core: - installed: X" and one "- name: X" line per adapter under "Plugins:". */
export function parseDbtVersion(stdout: string): DbtVersions {
  let section = '';
  let core: string | undefined;
  const plugins: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const heading = /^(\w+):\s*$/.exec(line);
    if (heading) section = heading[1]!;
    const item = /^\s+-\s+([\w-]+):\s+(\d[\w.+-]*)/.exec(line);
    if (!item) continue;
    if (section === 'Core' && item[1] === 'installed') core = item[2];
    if (section === 'Plugins') plugins[item[1]!] = item[2]!;
  }
  return { ...(core === undefined ? {} : { core }), plugins };
}
