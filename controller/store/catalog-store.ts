/**
 * Stored Singer catalogs: bodies by digest (flexcore.catalog_blobs) and the cache of
 * discovered catalogs by key (flexcore_read.discovered_catalogs, a projection).
 */
import { prepared, type Queryable } from './sql.js';

/** A discovered catalog found in the cache. */
export interface CachedCatalog {
  readonly digest: string;
  readonly text: string;
  readonly discoveredAt: number;
}

export class CatalogStore {
  constructor(private readonly db: Queryable) {}

  /** Stores bodies under their digests; digests already stored are left as they are. */
  async put(blobs: ReadonlyMap<string, string>): Promise<void> {
    for (const [digest, body] of blobs) {
      const q = prepared('put-catalog-blob', [digest, body]);
      await this.db.query(q.text, q.values);
    }
  }

  /** The catalog last discovered under `key`, or null when there is none. */
  async cached(key: string): Promise<CachedCatalog | null> {
    const q = prepared('cached-catalog', [key]);
    const { rows } = await this.db.query<{ digest: string; discovered_at: Date; body: string }>(
      q.text,
      q.values,
    );
    const row = rows[0];
    return row ? { digest: row.digest, text: row.body, discoveredAt: row.discovered_at.getTime() } : null;
  }

  /** A stored body by digest, or null. */
  async body(digest: string): Promise<string | null> {
    const q = prepared('catalog-blob', [digest]);
    const { rows } = await this.db.query<{ body: string }>(q.text, q.values);
    return rows[0]?.body ?? null;
  }
}
