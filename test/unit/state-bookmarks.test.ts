import { expect } from 'chai';
import { asSingerCatalog } from '../../controller/catalog/singer-catalog.js';
import { stateForCatalog } from '../../controller/catalog/state-bookmarks.js';

describe('stateForCatalog (stored bookmarks against the catalog a tap syncs with)', () => {
  const stream = (id: string, key?: string, topLevel?: string): Record<string, unknown> => ({
    tap_stream_id: id,
    schema: { properties: {} },
    metadata: [{ breadcrumb: [], metadata: { selected: true, ...(key && { 'replication-key': key }) } }],
    ...(topLevel && { replication_key: topLevel }),
  });
  const catalog = asSingerCatalog({
    streams: [
      stream('public-orders', 'updated_at'),
      stream('public-customers', 'id'),
      stream('public-items'),
      stream('public-sdk', undefined, 'modified'),
    ],
  });
  const bm = (key: string | undefined, value: unknown): Record<string, unknown> => ({
    ...(key && { replication_key: key }),
    replication_key_value: value,
  });

  it('drops the bookmark of a stream whose replication key changed, and keeps the others', () => {
    const state = {
      bookmarks: {
        'public-orders': bm('id', 1000),
        'public-customers': bm('id', 7),
        'public-items': bm('id', 3),
        'public-gone': bm('id', 9),
      },
      currently_syncing: null,
    };
    expect(stateForCatalog(state, catalog)).to.deep.equal({
      state: {
        bookmarks: {
          'public-customers': bm('id', 7),
          'public-items': bm('id', 3),
          'public-gone': bm('id', 9),
        },
        currently_syncing: null,
      },
      dropped: [{ stream: 'public-orders', was: 'id', now: 'updated_at' }],
    });
  });

  it("reads the SDK's top-level replication_key when the metadata names none", () => {
    const { dropped } = stateForCatalog({ bookmarks: { 'public-sdk': bm('id', 1) } }, catalog);
    expect(dropped).to.deep.equal([{ stream: 'public-sdk', was: 'id', now: 'modified' }]);
  });

  it('passes on, unchanged, state it cannot judge: no bookmarks, bookmarks without a key', () => {
    for (const state of [{}, { bookmarks: 'odd' }, { bookmarks: { 'public-orders': bm(undefined, 5) } }]) {
      const out = stateForCatalog(state, catalog);
      expect(out.state).to.equal(state);
      expect(out.dropped).to.deep.equal([]);
    }
  });
});
