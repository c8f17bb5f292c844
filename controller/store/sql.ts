/** SQL lives in .sql files next to the code that runs it; this reads them once. */
import { readFileSync } from 'node:fs';

const cache = new Map<string, string>();

/** The text of `controller/store/sql/<name>.sql`. */
export function sql(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`./sql/${name}.sql`, import.meta.url), 'utf8');
    cache.set(name, text);
  }
  return text;
}

/**
 * A named (server-side prepared) statement for `controller/store/sql/<name>.sql`: parsed and
 * planned once per connection instead of once per call, which matters on the append path.
 */
export function prepared(name: string, values: unknown[]): { name: string; text: string; values: unknown[] } {
  return { name: `flexcore_${name.replace(/\W/g, '_')}`, text: sql(name), values };
}

/** The small part of pg's client/pool interface the store needs, so SQL code stays testable. */
export interface Queryable {
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}
