/**
 * Meltano's select patterns (pure): `[!]<stream>[.<property>[.<sub-property>…]]`. The stream
 * part ends at the first dot not escaped as `\.`; the property part is a path of property
 * names. Each part is a glob (see glob.ts). A pattern without a property part means
 * `<stream>.*`.
 */

export interface SelectPattern {
  readonly raw: string;
  readonly negated: boolean;
  /** Glob over tap_stream_id. */
  readonly stream: string;
  /** Globs of the property path; empty for the whole stream (`stream` or `stream.*`). */
  readonly path: readonly string[];
}

export function parseSelectPattern(raw: string): SelectPattern {
  const negated = raw.startsWith('!');
  const body = negated ? raw.slice(1) : raw;
  const split = /(?<!\\)\./.exec(body);
  const streamPart = split ? body.slice(0, split.index) : body;
  const propertyPart = split ? body.slice(split.index + 1) : '';
  const path = propertyPart === '' || propertyPart === '*' ? [] : propertyPart.split('.');
  return { raw, negated, stream: streamPart.replace(/\\\./g, '.'), path };
}

/** A property path as a Singer breadcrumb: ["properties", "a", "properties", "b"]. */
export function breadcrumbOf(path: readonly string[]): string[] {
  return path.flatMap((p) => ['properties', p]);
}
