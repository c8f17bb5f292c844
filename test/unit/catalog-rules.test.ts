import { expect } from 'chai';
import type { CatalogRules } from '../../api/v1alpha1/index.js';
import {
  applyCatalogRules,
  DEFAULT_SELECT,
  mergeCatalogRules,
  type AppliedCatalog,
} from '../../controller/catalog/catalog-rules.js';
import { globMatch } from '../../controller/catalog/glob.js';
import { breadcrumbOf, parseSelectPattern } from '../../controller/catalog/select-pattern.js';
import type { CatalogStream, JsonObject, SingerCatalog } from '../../controller/catalog/singer-catalog.js';

/**
 * A tap-postgres-like catalog: `public-orders` with an automatic key, an object property whose
 * children have no metadata entries yet (FlexCore must create them) and an unsupported column;
 * `public-customers` without any property entries.
 */
function tapPostgres(): SingerCatalog {
  return {
    streams: [
      {
        tap_stream_id: 'public-orders',
        stream: 'orders',
        table_name: 'orders',
        schema: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            customer: { type: ['string', 'null'] },
            amount: { type: ['number', 'null'], multipleOf: 0.01 },
            secret: { type: ['string', 'null'] },
            updated_at: { type: ['string', 'null'], format: 'date-time' },
            address: {
              type: ['object', 'null'],
              properties: { city: { type: ['string', 'null'] }, zip: { type: ['string', 'null'] } },
            },
            geom: {},
          },
        },
        metadata: [
          {
            breadcrumb: [],
            metadata: {
              'table-key-properties': ['id'],
              'valid-replication-keys': ['updated_at'],
              'schema-name': 'public',
              'database-name': 'shop',
              'is-view': false,
              'selected-by-default': false,
            },
          },
          {
            breadcrumb: ['properties', 'id'],
            metadata: { inclusion: 'automatic', 'sql-datatype': 'integer' },
          },
          {
            breadcrumb: ['properties', 'customer'],
            metadata: { inclusion: 'available', 'sql-datatype': 'text' },
          },
          {
            breadcrumb: ['properties', 'amount'],
            metadata: { inclusion: 'available', 'sql-datatype': 'numeric' },
          },
          {
            breadcrumb: ['properties', 'secret'],
            metadata: { inclusion: 'available', 'sql-datatype': 'text' },
          },
          {
            breadcrumb: ['properties', 'updated_at'],
            metadata: { inclusion: 'available', 'sql-datatype': 'timestamp with time zone' },
          },
          {
            breadcrumb: ['properties', 'address'],
            metadata: { inclusion: 'available', 'sql-datatype': 'jsonb' },
          },
          {
            breadcrumb: ['properties', 'geom'],
            metadata: { inclusion: 'unsupported', 'sql-datatype': 'geometry' },
          },
        ],
      },
      {
        tap_stream_id: 'public-customers',
        stream: 'customers',
        schema: {
          type: 'object',
          properties: { id: { type: 'integer' }, name: { type: ['string', 'null'] } },
        },
        metadata: [{ breadcrumb: [], metadata: { 'table-key-properties': ['id'] } }],
      },
    ],
  };
}

const ORDERS = 'public-orders';
const CUSTOMERS = 'public-customers';

function stream(result: AppliedCatalog, id: string): CatalogStream {
  const s = result.catalog.streams.find((x) => x.tap_stream_id === id);
  if (!s) throw new Error(`no stream ${id}`);
  return s;
}

/** The metadata of a stream's entry at a dotted property path ('' for the stream entry). */
function entry(result: AppliedCatalog, id: string, path = ''): JsonObject | undefined {
  const crumb = path === '' ? [] : breadcrumbOf(path.split('.'));
  return stream(result, id).metadata.find((m) => m.breadcrumb.join('/') === crumb.join('/'))?.metadata;
}

/**
 * Which entries carry `selected: true`, as '' (the stream) and dotted property paths: the flag
 * the tap reads, so the tables check exactly what it will see.
 */
function selectedFlags(result: AppliedCatalog, id: string): string[] {
  return stream(result, id)
    .metadata.filter((m) => m.metadata.selected === true)
    .map((m) => m.breadcrumb.filter((_, i) => i % 2 === 1).join('.'));
}

const ALL_ORDERS = [
  '',
  'id',
  'customer',
  'amount',
  'secret',
  'updated_at',
  'address',
  'address.city',
  'address.zip',
];
const ALL_CUSTOMERS = ['', 'id', 'name'];

describe('globMatch (Python fnmatch, as Meltano matches patterns)', () => {
  // Every row was checked against CPython's fnmatch.fnmatchcase.
  const cases: [glob: string, value: string, matches: boolean, why: string][] = [
    ['*', '', true, '* matches the empty string'],
    ['*', 'anything.at.all', true, '* crosses dots'],
    ['public*', 'public.users', true, 'so public* also matches a dotted stream id'],
    ['*.*', 'public-orders', false, 'a literal dot needs a dot'],
    ['*.*', 'a.b.c', true, 'either * may take the extra dots'],
    ['properties.*', 'properties.address.properties.city', true, 'a property glob reaches nested paths'],
    ['properties.*', 'properties', false, 'the dot is required'],
    ['?sers', 'users', true, '? is one character'],
    ['?sers', 'sers', false, '? is not optional'],
    ['?sers', 'uusers', false, '? is exactly one character'],
    ['a?c', 'a.c', true, '? matches a dot'],
    ['[abc]x', 'bx', true, 'a set'],
    ['[abc]x', 'dx', false, 'a set excludes others'],
    ['[!abc]x', 'dx', true, '[!...] is the complement'],
    ['[!abc]x', 'ax', false, '[!...] excludes its members'],
    ['[!abc]x', 'x', false, 'a complement still takes one character'],
    ['[a-z]1', 'q1', true, 'a range'],
    ['[a-z]1', 'Q1', false, 'ranges are case-sensitive'],
    ['[a-z]1', '-1', false, 'the hyphen of a range is not a member'],
    ['[!a-z]1', 'Q1', true, 'a negated range'],
    ['[a-]', '-', true, 'a trailing hyphen is a member'],
    ['[-a]', '-', true, 'a leading hyphen is a member'],
    ['[]]', ']', true, 'a ] right after [ is a member'],
    ['[]a]', 'a', true, 'and the set goes on after it'],
    ['[!]]', 'a', true, 'a ] right after [! is a member of the complement'],
    ['[!]]', ']', false, 'so ] itself is excluded'],
    ['[z-a]', 'b', false, 'a reversed range is empty (no error)'],
    ['[z-a]', 'z', false, 'not even its ends match'],
    ['[!z-a]', 'b', true, 'the complement of an empty set is any character'],
    ['[c-a-z]', '-', true, 'Python drops the reversed range and keeps the rest'],
    ['[c-a-z]', 'b', false, 'of the dropped range nothing stays'],
    ['[^a]', '^', true, '^ is a plain member in a glob set'],
    ['[^a]', 'b', false, '^ does not negate'],
    ['[\\]', '\\', true, 'a backslash is a plain member'],
    ['a[b', 'a[b', true, 'an unclosed [ is a literal'],
    ['a[b', 'ab', false, 'and still has to be there'],
    ['[', '[', true, 'a lone ['],
    ['[!', '[!', true, 'an unclosed [!'],
    ['[]', '[]', true, '[] is unclosed (its ] is a member), so literal'],
    ['a+b', 'a+b', true, '+ is literal'],
    ['a+b', 'aab', false, '+ is not a quantifier'],
    ['(x)', '(x)', true, 'parentheses are literal'],
    ['$^', '$^', true, 'anchors are literal'],
    ['a|b', 'a|b', true, '| is literal'],
    ['a|b', 'a', false, '| is not alternation'],
    ['{a,b}', '{a,b}', true, 'braces are literal'],
    ['{a,b}', 'a', false, 'no brace expansion'],
    ['a.b', 'axb', false, '. is not "any character"'],
    ['a\\b', 'a\\b', true, 'a backslash is a literal, not an escape'],
    ['Users', 'users', false, 'case-sensitive, as fnmatch on Linux'],
    ['users', 'Users', false, 'case-sensitive both ways'],
    ['a*b', 'a\nb', true, '* crosses newlines'],
    ['?', '\n', true, '? matches a newline'],
    ['*_at', 'updated_at', true, 'a suffix'],
    ['created_*', 'created_by', true, 'a prefix'],
    ['ab', 'abc', false, 'anchored at the end'],
    ['bc', 'abc', false, 'anchored at the start'],
  ];
  for (const [glob, value, matches, why] of cases) {
    it(`${JSON.stringify(glob)} ${matches ? 'matches' : 'does not match'} ${JSON.stringify(value)}: ${why}`, () =>
      expect(globMatch(value, glob)).to.equal(matches));
  }

  it('gives the same answer when asked again (the compiled pattern is cached)', () => {
    for (let i = 0; i < 3; i++) expect(globMatch('public-orders', 'public-*')).to.equal(true);
  });
});

describe('parseSelectPattern', () => {
  const cases: [raw: string, negated: boolean, stream: string, path: string[], why: string][] = [
    ['users', false, 'users', [], 'a stream only means the whole stream'],
    ['users.*', false, 'users', [], 'stream.* is the whole stream too'],
    ['users.', false, 'users', [], 'a trailing dot gives an empty property part'],
    ['!users', true, 'users', [], 'one leading ! negates'],
    ['!users.email', true, 'users', ['email'], 'a negated property'],
    ['users.address.city', false, 'users', ['address', 'city'], 'a property path'],
    ['users.address.*', false, 'users', ['address', '*'], 'only a lone * is the whole stream'],
    [
      'public\\.users.first-name',
      false,
      'public.users',
      ['first-name'],
      '\\. is a literal dot in the stream',
    ],
    ['public\\.users', false, 'public.users', [], 'an escaped dot does not split'],
    ['public.users.*', false, 'public', ['users', '*'], 'the first unescaped dot ends the stream'],
    ['a.b\\.c', false, 'a', ['b\\', 'c'], 'escapes are not honoured in the property part'],
    ['s.properties.amount', false, 's', ['properties', 'amount'], 'properties is a plain property name'],
    ['!!a', true, '!a', [], 'only the first ! is stripped'],
    ['*.*', false, '*', [], "Meltano's default"],
    ['?ser[s].[!e]*', false, '?ser[s]', ['[!e]*'], 'globs are kept as written'],
  ];
  for (const [raw, negated, streamGlob, path, why] of cases) {
    it(`${JSON.stringify(raw)}: ${why}`, () =>
      expect(parseSelectPattern(raw)).to.deep.equal({ raw, negated, stream: streamGlob, path }));
  }

  it('writes a property path as a Singer breadcrumb', () => {
    expect(breadcrumbOf([])).to.deep.equal([]);
    expect(breadcrumbOf(['a'])).to.deep.equal(['properties', 'a']);
    expect(breadcrumbOf(['a', 'b'])).to.deep.equal(['properties', 'a', 'properties', 'b']);
    expect(breadcrumbOf(['properties'])).to.deep.equal(['properties', 'properties']);
  });
});

describe('applyCatalogRules: select', () => {
  interface Case {
    name: string;
    select?: string[];
    metadata?: CatalogRules['metadata'];
    orders: string[];
    customers: string[];
  }
  const ordersWithout = (...drop: string[]): string[] => ALL_ORDERS.filter((p) => !drop.includes(p));
  const cases: Case[] = [
    { name: 'no select: Meltano default *.*', orders: ALL_ORDERS, customers: ALL_CUSTOMERS },
    {
      name: 'explicit *.* equals the default',
      select: ['*.*'],
      orders: ALL_ORDERS,
      customers: ALL_CUSTOMERS,
    },
    { name: 'an empty list selects nothing', select: [], orders: [], customers: [] },
    {
      name: 'stream.* selects one stream whole',
      select: ['public-orders.*'],
      orders: ALL_ORDERS,
      customers: [],
    },
    {
      name: 'a stream-only pattern behaves like stream.* (Meltano v4)',
      select: ['public-orders'],
      orders: ALL_ORDERS,
      customers: [],
    },
    {
      name: 'one property selects the stream and that property only',
      select: ['public-orders.customer'],
      orders: ['', 'customer'],
      customers: [],
    },
    {
      name: 'a nested property also selects its parent (Meltano v4)',
      select: ['public-orders.address.city'],
      orders: ['', 'address', 'address.city'],
      customers: [],
    },
    {
      name: 'an object property alone does not select its children',
      select: ['public-orders.address'],
      orders: ['', 'address'],
      customers: [],
    },
    {
      name: 'stream.address.* selects the children and the parent',
      select: ['public-orders.address.*'],
      orders: ['', 'address', 'address.city', 'address.zip'],
      customers: [],
    },
    {
      name: '!stream.property excludes one property and leaves the stream',
      select: ['*.*', '!public-orders.secret'],
      orders: ordersWithout('secret'),
      customers: ALL_CUSTOMERS,
    },
    {
      name: 'an exclusion beats an inclusion listed after it',
      select: ['!public-orders.secret', 'public-orders.*'],
      orders: ordersWithout('secret'),
      customers: [],
    },
    {
      name: 'an exclusion beats the exact inclusion of the same property',
      select: ['public-orders.secret', '!public-orders.secret'],
      orders: [''],
      customers: [],
    },
    {
      name: 'FlexCore: !stream.object also excludes its sub-properties (Meltano keeps them)',
      select: ['public-orders.*', '!public-orders.address'],
      orders: ordersWithout('address', 'address.city', 'address.zip'),
      customers: [],
    },
    {
      name: 'excluding a nested property keeps its siblings and parent',
      select: ['public-orders.*', '!public-orders.address.zip'],
      orders: ordersWithout('address.zip'),
      customers: [],
    },
    {
      name: '!stream excludes the stream and every property',
      select: ['*.*', '!public-customers'],
      orders: ALL_ORDERS,
      customers: [],
    },
    {
      name: '!stream.* excludes the same',
      select: ['*.*', '!public-customers.*'],
      orders: ALL_ORDERS,
      customers: [],
    },
    {
      name: 'a stream glob selects across streams',
      select: ['public-*.id'],
      orders: ['', 'id'],
      customers: ['', 'id'],
    },
    {
      name: '? in the stream part',
      select: ['public?orders.amount'],
      orders: ['', 'amount'],
      customers: [],
    },
    {
      name: 'a [!...] property glob (only top-level names start with the letter)',
      select: ['public-orders.[!as]*'],
      orders: ['', 'id', 'customer', 'updated_at'],
      customers: [],
    },
    {
      name: 'a property glob with * also reaches into the objects it matches (* crosses dots)',
      select: ['public-orders.[a-c]*'],
      orders: ['', 'customer', 'amount', 'address', 'address.city', 'address.zip'],
      customers: [],
    },
    {
      name: '*.address.* selects every stream (the stream rule) but only the properties that exist',
      select: ['*.address.*'],
      orders: ['', 'address', 'address.city', 'address.zip'],
      customers: [''],
    },
    { name: 'stream patterns are case-sensitive', select: ['PUBLIC-ORDERS.*'], orders: [], customers: [] },
    {
      name: 'a pattern on stream (not tap_stream_id) matches nothing',
      select: ['orders.*'],
      orders: [],
      customers: [],
    },
    {
      name: 'an unsupported property is never selected, even by name',
      select: ['public-orders.geom'],
      orders: [''],
      customers: [],
    },
    {
      name: 'metadata selected: false overrides select for a stream',
      metadata: { 'public-orders': { selected: false } },
      orders: ALL_ORDERS.filter((p) => p !== ''),
      customers: ALL_CUSTOMERS,
    },
    {
      name: 'metadata selected: false overrides select for a property',
      select: ['public-orders.*'],
      metadata: { 'public-orders': { secret: { selected: false } } },
      orders: ordersWithout('secret'),
      customers: [],
    },
    {
      name: 'metadata selected: true adds to select (it comes after the excludes)',
      select: ['public-orders.customer', '!public-orders.secret'],
      metadata: { 'public-orders': { secret: { selected: true } } },
      orders: ['', 'customer', 'secret'],
      customers: [],
    },
    {
      name: 'metadata selected: true is not written on an unsupported property',
      metadata: { 'public-orders': { geom: { selected: true } } },
      orders: ALL_ORDERS,
      customers: ALL_CUSTOMERS,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const rules: CatalogRules = {
        ...(c.select && { select: c.select }),
        ...(c.metadata && { metadata: c.metadata }),
      };
      const out = applyCatalogRules(tapPostgres(), rules);
      expect(selectedFlags(out, ORDERS)).to.have.members(c.orders);
      expect(selectedFlags(out, CUSTOMERS)).to.have.members(c.customers);
      const streams = [
        ...(c.orders.includes('') ? [ORDERS] : []),
        ...(c.customers.includes('') ? [CUSTOMERS] : []),
      ];
      expect(out.selectedStreams).to.deep.equal(streams);
    });
  }

  it('writes selected: false on everything not selected (the !*.* reset), never leaves it absent', () => {
    const out = applyCatalogRules(tapPostgres(), { select: ['public-orders.customer'] });
    for (const s of out.catalog.streams)
      for (const m of s.metadata) expect(m.metadata.selected, m.breadcrumb.join('.')).to.be.a('boolean');
    expect(entry(out, ORDERS, 'geom')!.selected).to.equal(false);
  });

  it('overrides the tap selected flags and leaves selected-by-default alone', () => {
    const cat = tapPostgres();
    cat.streams[1]!.metadata[0]!.metadata.selected = true;
    const out = applyCatalogRules(cat, { select: ['public-orders.*'] });
    expect(entry(out, CUSTOMERS)!.selected).to.equal(false);
    expect(entry(out, ORDERS)!['selected-by-default']).to.equal(false);
    expect(entry(out, ORDERS)!.selected).to.equal(true);
  });

  it('writes false on an automatic property it does not select, yet counts the property as synced', () => {
    // Taps emit automatic properties anyway, so a replication-key that is automatic is fine.
    const out = applyCatalogRules(tapPostgres(), {
      select: ['public-orders.customer'],
      metadata: { 'public-orders': { 'replication-method': 'INCREMENTAL', 'replication-key': 'id' } },
    });
    expect(entry(out, ORDERS, 'id')).to.include({ inclusion: 'automatic', selected: false });
    expect(out.problems).to.deep.equal([]);
  });

  it('copies the stream-level selected flag onto the stream object', () => {
    const out = applyCatalogRules(tapPostgres(), { select: ['public-orders.*'] });
    expect(stream(out, ORDERS).selected).to.equal(true);
    expect(stream(out, CUSTOMERS).selected).to.equal(false);
  });

  it('exports the default select', () => expect(DEFAULT_SELECT).to.deep.equal(['*.*']));
});

describe('applyCatalogRules: keepSelection (a catalog the user gave whole)', () => {
  /** A user catalog that selects orders.customer only, as its own flags. */
  function userCatalog(): SingerCatalog {
    const cat = tapPostgres();
    for (const s of cat.streams) for (const m of s.metadata) m.metadata.selected = false;
    const orders = cat.streams[0]!;
    orders.metadata.find((m) => m.breadcrumb.length === 0)!.metadata.selected = true;
    orders.metadata.find((m) => m.breadcrumb[1] === 'customer')!.metadata.selected = true;
    return cat;
  }

  it('keeps the catalog own selected flags when no select is given', () => {
    const out = applyCatalogRules(userCatalog(), {}, { keepSelection: true });
    expect(selectedFlags(out, ORDERS)).to.have.members(['', 'customer']);
    expect(selectedFlags(out, CUSTOMERS)).to.deep.equal([]);
    expect(out.selectedStreams).to.deep.equal([ORDERS]);
  });

  it('still applies metadata and schema', () => {
    const out = applyCatalogRules(
      userCatalog(),
      {
        metadata: { 'public-orders': { 'replication-method': 'FULL_TABLE', amount: { selected: true } } },
        schema: { 'public-orders': { amount: { type: 'string' } } },
      },
      { keepSelection: true },
    );
    expect(selectedFlags(out, ORDERS)).to.have.members(['', 'customer', 'amount']);
    expect(entry(out, ORDERS)!['replication-method']).to.equal('FULL_TABLE');
    expect((stream(out, ORDERS).schema.properties as JsonObject).amount).to.deep.equal({ type: 'string' });
  });

  it('leaves entries it creates without a selected flag (the tap decides)', () => {
    // address.city has no entry in the given catalog; nothing selects or deselects it.
    const out = applyCatalogRules(userCatalog(), {}, { keepSelection: true });
    expect(entry(out, ORDERS, 'address.city')).to.deep.equal({ inclusion: 'available' });
  });

  it('lets a given select replace the catalog flags', () => {
    const out = applyCatalogRules(
      userCatalog(),
      { select: ['public-customers.name'] },
      { keepSelection: true },
    );
    expect(selectedFlags(out, ORDERS)).to.deep.equal([]);
    expect(selectedFlags(out, CUSTOMERS)).to.have.members(['', 'name']);
  });

  it('without keepSelection, no select means *.* even over a catalog with its own flags', () => {
    const out = applyCatalogRules(userCatalog(), {});
    expect(selectedFlags(out, ORDERS)).to.have.members(ALL_ORDERS);
    expect(selectedFlags(out, CUSTOMERS)).to.have.members(ALL_CUSTOMERS);
  });
});

describe('applyCatalogRules: metadata entries', () => {
  it('creates entries for nested properties, with inclusion available', () => {
    const out = applyCatalogRules(tapPostgres(), {});
    expect(entry(out, ORDERS, 'address.city')).to.deep.equal({ inclusion: 'available', selected: true });
    expect(entry(out, ORDERS, 'address.zip')).to.deep.equal({ inclusion: 'available', selected: true });
  });

  it('creates top-level entries with inclusion available too (Meltano: automatic)', () => {
    const out = applyCatalogRules(tapPostgres(), {});
    expect(entry(out, CUSTOMERS, 'name')).to.deep.equal({ inclusion: 'available', selected: true });
    expect(entry(out, CUSTOMERS, 'id')).to.deep.equal({ inclusion: 'available', selected: true });
  });

  it('creates entries whatever the property name, even when metadata is listed before schema', () => {
    // Meltano skips non-word names and, with this key order, leaves new entries unselected.
    const cat: SingerCatalog = {
      streams: [
        {
          tap_stream_id: 'users',
          metadata: [],
          schema: {
            properties: {
              'first-name': { type: 'string' },
              'a.b': { type: 'string' },
              $x: { type: 'string' },
              'héllo wörld': { type: 'string' },
            },
          },
        },
      ],
    };
    const out = applyCatalogRules(cat, {});
    expect(stream(out, 'users').metadata).to.deep.equal([
      { breadcrumb: [], metadata: { inclusion: 'available', selected: true } },
      { breadcrumb: ['properties', 'first-name'], metadata: { inclusion: 'available', selected: true } },
      { breadcrumb: ['properties', 'a.b'], metadata: { inclusion: 'available', selected: true } },
      { breadcrumb: ['properties', '$x'], metadata: { inclusion: 'available', selected: true } },
      { breadcrumb: ['properties', 'héllo wörld'], metadata: { inclusion: 'available', selected: true } },
    ]);
    expect(stream(out, 'users').selected).to.equal(true);
  });

  it('does not descend into array items or anyOf branches', () => {
    const cat: SingerCatalog = {
      streams: [
        {
          tap_stream_id: 'events',
          schema: {
            properties: {
              tags: { type: 'array', items: { type: 'object', properties: { x: {} } } },
              payload: { anyOf: [{ type: 'object', properties: { y: {} } }, { type: 'null' }] },
            },
          },
          metadata: [],
        },
      ],
    };
    const crumbs = applyCatalogRules(cat, {}).catalog.streams[0]!.metadata.map((m) => m.breadcrumb.join('.'));
    expect(crumbs).to.deep.equal(['', 'properties.tags', 'properties.payload']);
  });

  it('does not duplicate or rewrite the entries the tap wrote', () => {
    const out = applyCatalogRules(tapPostgres(), {});
    const orders = stream(out, ORDERS).metadata;
    expect(orders.filter((m) => m.breadcrumb.join('.') === 'properties.id')).to.have.length(1);
    expect(orders.filter((m) => m.breadcrumb.length === 0)).to.have.length(1);
    expect(entry(out, ORDERS, 'amount')).to.deep.equal({
      inclusion: 'available',
      'sql-datatype': 'numeric',
      selected: true,
    });
    // The tap's entries keep their order; FlexCore's come after them.
    expect(orders.map((m) => m.breadcrumb.join('.')).slice(-2)).to.deep.equal([
      'properties.address.properties.city',
      'properties.address.properties.zip',
    ]);
  });
});

describe('applyCatalogRules: metadata', () => {
  it('writes stream-level keys into the stream entry and onto the stream object with - as _', () => {
    const out = applyCatalogRules(tapPostgres(), {
      metadata: { 'public-orders': { 'replication-method': 'INCREMENTAL', 'replication-key': 'updated_at' } },
    });
    expect(entry(out, ORDERS)).to.include({
      'replication-method': 'INCREMENTAL',
      'replication-key': 'updated_at',
    });
    expect(stream(out, ORDERS)).to.include({
      replication_method: 'INCREMENTAL',
      replication_key: 'updated_at',
    });
    expect(stream(out, ORDERS)).not.to.have.property('replication-method');
    expect(entry(out, CUSTOMERS)).not.to.have.property('replication-method');
    expect(stream(out, CUSTOMERS)).not.to.have.property('replication_method');
  });

  it('keeps keys verbatim in entries; the stream object gets the last writer of either spelling', () => {
    // Meltano's verified example: both keys land in the entry, the hyphenated one wins on the object.
    const out = applyCatalogRules(tapPostgres(), {
      metadata: { '*': { replication_key: 'x' }, 'public-orders': { 'replication-key': 'updated_at' } },
    });
    expect(entry(out, ORDERS)).to.include({ replication_key: 'x', 'replication-key': 'updated_at' });
    expect(stream(out, ORDERS).replication_key).to.equal('updated_at');
    expect(stream(out, CUSTOMERS).replication_key).to.equal('x');
  });

  it('sets property metadata through a nested object', () => {
    const out = applyCatalogRules(tapPostgres(), {
      metadata: {
        'public-orders': { amount: { 'sql-datatype': 'money' }, address: { city: { hint: 'geo' } } },
      },
    });
    expect(entry(out, ORDERS, 'amount')!['sql-datatype']).to.equal('money');
    expect(entry(out, ORDERS, 'address.city')!.hint).to.equal('geo');
    expect(entry(out, ORDERS, 'address')).not.to.have.property('city');
    expect(entry(out, ORDERS, 'address')).not.to.have.property('hint');
    // A property key is not written on the stream object.
    expect(stream(out, ORDERS)).not.to.have.property('amount');
  });

  it('treats lists, scalars, null and {} as values, never as properties', () => {
    const out = applyCatalogRules(tapPostgres(), {
      metadata: {
        'public-orders': {
          'table-key-properties': ['id', 'customer'],
          'row-count': 3,
          custom: {},
          gone: null,
        },
      },
    });
    expect(entry(out, ORDERS)).to.deep.include({
      'table-key-properties': ['id', 'customer'],
      'row-count': 3,
      custom: {},
      gone: null,
    });
  });

  it('matches stream patterns as globs', () => {
    const out = applyCatalogRules(tapPostgres(), {
      metadata: { 'public-*': { 'replication-method': 'FULL_TABLE' } },
    });
    expect(entry(out, ORDERS)!['replication-method']).to.equal('FULL_TABLE');
    expect(entry(out, CUSTOMERS)!['replication-method']).to.equal('FULL_TABLE');
  });

  it('a * property pattern reaches every property at every depth, not the stream entry', () => {
    const out = applyCatalogRules(tapPostgres(), { metadata: { 'public-orders': { '*': { tag: 1 } } } });
    for (const p of ALL_ORDERS.filter((x) => x !== '')) expect(entry(out, ORDERS, p)!.tag, p).to.equal(1);
    expect(entry(out, ORDERS, 'geom')!.tag).to.equal(1);
    expect(entry(out, ORDERS)).not.to.have.property('tag');
    expect(entry(out, CUSTOMERS, 'id')).not.to.have.property('tag');
  });

  it('a property glob matches names', () => {
    const out = applyCatalogRules(tapPostgres(), { metadata: { 'public-orders': { '*_at': { tag: 1 } } } });
    expect(entry(out, ORDERS, 'updated_at')!.tag).to.equal(1);
    expect(entry(out, ORDERS, 'amount')).not.to.have.property('tag');
  });

  it('the last matching pattern wins, key by key', () => {
    const out = applyCatalogRules(tapPostgres(), {
      metadata: {
        '*': { 'replication-method': 'INCREMENTAL', 'replication-key': 'updated_at' },
        'public-customers': { 'replication-method': 'FULL_TABLE' },
      },
    });
    expect(entry(out, ORDERS)).to.include({
      'replication-method': 'INCREMENTAL',
      'replication-key': 'updated_at',
    });
    // FULL_TABLE from the later pattern; replication-key from the earlier one stays.
    expect(entry(out, CUSTOMERS)).to.include({
      'replication-method': 'FULL_TABLE',
      'replication-key': 'updated_at',
    });
  });

  it('an earlier specific pattern loses to a later wildcard', () => {
    const out = applyCatalogRules(tapPostgres(), {
      metadata: {
        'public-customers': { 'replication-method': 'FULL_TABLE' },
        '*': { 'replication-method': 'LOG_BASED' },
      },
    });
    expect(entry(out, CUSTOMERS)!['replication-method']).to.equal('LOG_BASED');
  });

  it('never creates an entry for a property that is not in the schema', () => {
    const out = applyCatalogRules(tapPostgres(), {
      metadata: { 'public-orders': { nope: { selected: true } } },
    });
    expect(entry(out, ORDERS, 'nope')).to.equal(undefined);
    expect(stream(out, ORDERS).metadata).to.have.length(ALL_ORDERS.length + 1);
  });
});

describe('applyCatalogRules: schema', () => {
  const props = (out: AppliedCatalog, id: string): JsonObject =>
    stream(out, id).schema.properties as JsonObject;

  it('replaces a property schema entirely (no merge)', () => {
    const out = applyCatalogRules(tapPostgres(), {
      schema: { 'public-orders': { amount: { type: 'string' } } },
    });
    expect(props(out, ORDERS).amount).to.deep.equal({ type: 'string' });
    expect(props(out, CUSTOMERS)).not.to.have.property('amount');
  });

  it('adds a literal property that is missing, at the end, with a selected metadata entry', () => {
    const out = applyCatalogRules(tapPostgres(), {
      schema: { 'public-orders': { note: { type: ['string', 'null'] } } },
    });
    expect(Object.keys(props(out, ORDERS)).at(-1)).to.equal('note');
    expect(props(out, ORDERS).note).to.deep.equal({ type: ['string', 'null'] });
    expect(entry(out, ORDERS, 'note')).to.deep.equal({ inclusion: 'available', selected: true });
  });

  it('expands * over existing top-level properties and replaces nested objects whole', () => {
    const out = applyCatalogRules(tapPostgres(), {
      schema: { 'public-customers': { '*': { type: 'string' } } },
    });
    expect(props(out, CUSTOMERS)).to.deep.equal({ id: { type: 'string' }, name: { type: 'string' } });
    const orders = applyCatalogRules(tapPostgres(), {
      schema: { 'public-orders': { '*': { type: 'string' } } },
    });
    expect(props(orders, ORDERS).address).to.deep.equal({ type: 'string' });
    expect(entry(orders, ORDERS, 'address.city')).to.equal(undefined);
  });

  it('FlexCore: a glob anywhere in the key expands and never creates (Meltano creates "updated_*")', () => {
    const out = applyCatalogRules(tapPostgres(), {
      schema: { 'public-orders': { 'updated_*': { type: 'string' }, '[ac]*': { type: 'null' }, 'zz?': {} } },
    });
    const p = props(out, ORDERS);
    expect(p.updated_at).to.deep.equal({ type: 'string' });
    expect(p.customer).to.deep.equal({ type: 'null' });
    expect(p.amount).to.deep.equal({ type: 'null' });
    expect(p.address).to.deep.equal({ type: 'null' });
    expect(Object.keys(p)).to.deep.equal([
      'id',
      'customer',
      'amount',
      'secret',
      'updated_at',
      'address',
      'geom',
    ]);
  });

  it('touches top-level properties only: a wildcard does not reach nested ones', () => {
    const out = applyCatalogRules(tapPostgres(), { schema: { 'public-orders': { 'c*': { type: 'null' } } } });
    expect(props(out, ORDERS).customer).to.deep.equal({ type: 'null' });
    const address = props(out, ORDERS).address as JsonObject;
    expect((address.properties as JsonObject).city).to.deep.equal({ type: ['string', 'null'] });
  });

  it('a dotted key is a literal top-level property, not a path', () => {
    const out = applyCatalogRules(tapPostgres(), {
      schema: { 'public-orders': { 'address.city': { type: 'string' } } },
    });
    expect(props(out, ORDERS)['address.city']).to.deep.equal({ type: 'string' });
    const address = props(out, ORDERS).address as JsonObject;
    expect((address.properties as JsonObject).city).to.deep.equal({ type: ['string', 'null'] });
  });

  it('matches stream patterns as globs, and later patterns win', () => {
    const out = applyCatalogRules(tapPostgres(), {
      schema: { 'public-*': { id: { type: 'string' } }, 'public-customers': { id: { type: 'number' } } },
    });
    expect(props(out, ORDERS).id).to.deep.equal({ type: 'string' });
    expect(props(out, CUSTOMERS).id).to.deep.equal({ type: 'number' });
  });

  it('runs before selection, so a property it adds can be selected by name', () => {
    const out = applyCatalogRules(tapPostgres(), {
      select: ['public-orders.note'],
      schema: { 'public-orders': { note: { type: 'string' } } },
    });
    expect(selectedFlags(out, ORDERS)).to.have.members(['', 'note']);
    expect(out.unmatched).to.deep.equal([]);
  });

  it('creates schema.properties on a stream that has none', () => {
    const cat: SingerCatalog = { streams: [{ tap_stream_id: 'bare', schema: {}, metadata: [] }] };
    const out = applyCatalogRules(cat, {
      schema: { bare: { id: { type: 'integer' }, '*': { type: 'string' } } },
    });
    // `*` ran after `id` was created, so it replaced it.
    expect(out.catalog.streams[0]!.schema).to.deep.equal({ properties: { id: { type: 'string' } } });
  });

  it('gives each stream its own copy of the fragment', () => {
    const rules: CatalogRules = { schema: { '*': { id: { type: 'string' } } } };
    const out = applyCatalogRules(tapPostgres(), rules);
    (props(out, ORDERS).id as JsonObject).type = 'mutated';
    expect(props(out, CUSTOMERS).id).to.deep.equal({ type: 'string' });
    expect(rules.schema!['*']!.id).to.deep.equal({ type: 'string' });
  });
});

describe('applyCatalogRules: problems', () => {
  const incremental = (extra: Record<string, unknown>): CatalogRules['metadata'] => ({
    'public-orders': { 'replication-method': 'INCREMENTAL', ...extra },
  });
  const cases: [name: string, rules: CatalogRules, problems: string[]][] = [
    [
      'a selected INCREMENTAL stream without replication-key',
      { metadata: incremental({}) },
      ['stream public-orders is INCREMENTAL but has no replication-key'],
    ],
    [
      'an empty replication-key counts as none',
      { metadata: incremental({ 'replication-key': '' }) },
      ['stream public-orders is INCREMENTAL but has no replication-key'],
    ],
    [
      'a replication-key that is not a property',
      { metadata: incremental({ 'replication-key': 'modified' }) },
      ['stream public-orders: replication-key modified is not a property of the stream'],
    ],
    [
      'a nested property cannot be the replication-key',
      { metadata: incremental({ 'replication-key': 'city' }) },
      ['stream public-orders: replication-key city is not a property of the stream'],
    ],
    [
      'a replication-key that is not selected',
      { select: ['public-orders.customer'], metadata: incremental({ 'replication-key': 'updated_at' }) },
      ['stream public-orders: replication-key updated_at is not selected'],
    ],
    [
      'a replication-key excluded by !',
      {
        select: ['*.*', '!public-orders.updated_at'],
        metadata: incremental({ 'replication-key': 'updated_at' }),
      },
      ['stream public-orders: replication-key updated_at is not selected'],
    ],
    [
      'a selected replication-key is fine',
      { metadata: incremental({ 'replication-key': 'updated_at' }) },
      [],
    ],
    [
      'an automatic replication-key is fine without being selected',
      { select: ['public-orders.customer'], metadata: incremental({ 'replication-key': 'id' }) },
      [],
    ],
    [
      'an unselected stream is not checked',
      { select: ['public-customers.*'], metadata: incremental({}) },
      [],
    ],
    [
      'FULL_TABLE and LOG_BASED need no key',
      {
        metadata: {
          'public-orders': { 'replication-method': 'FULL_TABLE' },
          'public-customers': { 'replication-method': 'LOG_BASED' },
        },
      },
      [],
    ],
    [
      'every selected stream is checked, in catalog order',
      { metadata: { '*': { 'replication-method': 'INCREMENTAL' } } },
      [
        'stream public-orders is INCREMENTAL but has no replication-key',
        'stream public-customers is INCREMENTAL but has no replication-key',
      ],
    ],
    [
      'a later pattern can turn INCREMENTAL off for one stream',
      {
        metadata: {
          '*': { 'replication-method': 'INCREMENTAL', 'replication-key': 'updated_at' },
          'public-customers': { 'replication-method': 'FULL_TABLE' },
        },
      },
      [],
    ],
  ];
  for (const [name, rules, problems] of cases) {
    it(name, () => expect(applyCatalogRules(tapPostgres(), rules).problems).to.deep.equal(problems));
  }

  it('reads INCREMENTAL from the catalog itself too (a tap default, or a given catalog)', () => {
    const cat = tapPostgres();
    cat.streams[1]!.metadata[0]!.metadata['replication-method'] = 'INCREMENTAL';
    expect(applyCatalogRules(cat, {}).problems).to.deep.equal([
      'stream public-customers is INCREMENTAL but has no replication-key',
    ]);
  });
});

describe('applyCatalogRules: unmatched', () => {
  it('lists include patterns that match no stream or no property', () => {
    const out = applyCatalogRules(tapPostgres(), {
      select: [
        'public-orders.*',
        'public-orders.nope',
        'nope.*',
        'nope',
        'public-orders.address.city',
        'public-orders.address.nope',
        'public-orders.zz*',
        'public-customers.name',
        'public-*.id',
      ],
    });
    expect(out.unmatched).to.deep.equal([
      'public-orders.nope',
      'nope.*',
      'nope',
      'public-orders.address.nope',
      'public-orders.zz*',
    ]);
  });

  it('never lists exclusions, even ones that match nothing', () => {
    const out = applyCatalogRules(tapPostgres(), { select: ['*.*', '!nope.*', '!public-orders.nope'] });
    expect(out.unmatched).to.deep.equal([]);
  });

  it('a property pattern counts only for the streams its stream part matches', () => {
    // name exists, but only in customers.
    const out = applyCatalogRules(tapPostgres(), { select: ['public-orders.name'] });
    expect(out.unmatched).to.deep.equal(['public-orders.name']);
  });

  it('an unsupported property still counts as matched (the name exists)', () => {
    expect(applyCatalogRules(tapPostgres(), { select: ['public-orders.geom'] }).unmatched).to.deep.equal([]);
  });

  it('lists metadata stream patterns that match no stream, after the select ones', () => {
    const out = applyCatalogRules(tapPostgres(), {
      select: ['nope.*'],
      metadata: {
        'public-*': { 'replication-method': 'FULL_TABLE' },
        'private-*': { 'replication-method': 'FULL_TABLE' },
        orders: { 'replication-method': 'FULL_TABLE' },
      },
    });
    expect(out.unmatched).to.deep.equal(['nope.*', 'metadata private-*', 'metadata orders']);
  });

  it('does not check the default select, nor schema patterns', () => {
    const empty: SingerCatalog = { streams: [] };
    expect(applyCatalogRules(empty, {}).unmatched).to.deep.equal([]);
    expect(applyCatalogRules(tapPostgres(), { schema: { nope: { x: {} } } }).unmatched).to.deep.equal([]);
  });
});

describe('applyCatalogRules: purity', () => {
  it('does not mutate the input catalog or the rules', () => {
    const cat = tapPostgres();
    const rules: CatalogRules = {
      select: ['public-orders.*', '!public-orders.secret'],
      metadata: { 'public-orders': { 'replication-method': 'INCREMENTAL', 'replication-key': 'updated_at' } },
      schema: { 'public-orders': { note: { type: 'string' }, amount: { type: 'string' } } },
    };
    const before = structuredClone(cat);
    const rulesBefore = structuredClone(rules);
    const out = applyCatalogRules(cat, rules);
    expect(cat).to.deep.equal(before);
    expect(rules).to.deep.equal(rulesBefore);
    expect(out.catalog).not.to.equal(cat);
    expect(out.catalog.streams[0]).not.to.equal(cat.streams[0]);
  });

  it('keeps unknown catalog and stream fields', () => {
    const cat = { ...tapPostgres(), version: 2 };
    const out = applyCatalogRules(cat, {});
    expect(out.catalog.version).to.equal(2);
    expect(stream(out, ORDERS).table_name).to.equal('orders');
    expect(stream(out, ORDERS).stream).to.equal('orders');
  });

  it('is deterministic', () => {
    const rules: CatalogRules = { select: ['public-*.id'], metadata: { '*': { x: 1 } } };
    expect(JSON.stringify(applyCatalogRules(tapPostgres(), rules))).to.equal(
      JSON.stringify(applyCatalogRules(tapPostgres(), rules)),
    );
  });
});

describe('mergeCatalogRules (a step over its plugin)', () => {
  const plugin: CatalogRules = {
    select: ['public-orders.*'],
    metadata: {
      'public-orders': { 'replication-method': 'INCREMENTAL', 'replication-key': 'updated_at' },
      '*': { 'replication-method': 'FULL_TABLE' },
    },
    schema: { 'public-orders': { amount: { type: 'string' } }, '*': { id: { type: 'integer' } } },
  };

  it('gives empty rules when neither has any', () => {
    expect(mergeCatalogRules(undefined, undefined)).to.deep.equal({});
    expect(mergeCatalogRules({}, {})).to.deep.equal({});
  });

  it('takes the plugin rules when the step has none, and the step rules alone', () => {
    expect(mergeCatalogRules(plugin, undefined)).to.deep.equal(plugin);
    expect(mergeCatalogRules(undefined, plugin)).to.deep.equal(plugin);
  });

  it("replaces the plugin's select with the step's, even an empty one", () => {
    expect(mergeCatalogRules(plugin, { select: ['public-customers.*'] }).select).to.deep.equal([
      'public-customers.*',
    ]);
    expect(mergeCatalogRules(plugin, { select: [] }).select).to.deep.equal([]);
    expect(mergeCatalogRules(plugin, { metadata: {} }).select).to.deep.equal(['public-orders.*']);
  });

  it("replaces a plugin metadata entry by the step's of the same pattern, whole", () => {
    const merged = mergeCatalogRules(plugin, {
      metadata: { 'public-orders': { 'replication-method': 'LOG_BASED' } },
    });
    expect(merged.metadata).to.deep.equal({
      '*': { 'replication-method': 'FULL_TABLE' },
      'public-orders': { 'replication-method': 'LOG_BASED' },
    });
  });

  it("puts the step's patterns after the plugin's, so the step wins over a plugin wildcard", () => {
    // The plugin lists public-orders before '*': kept in place, the step's entry would lose to '*'.
    const step: CatalogRules = {
      metadata: { 'public-orders': { 'replication-method': 'INCREMENTAL', 'replication-key': 'updated_at' } },
      schema: { 'public-orders': { id: { type: 'string' } } },
    };
    const merged = mergeCatalogRules(plugin, step);
    expect(Object.keys(merged.metadata!)).to.deep.equal(['*', 'public-orders']);
    expect(Object.keys(merged.schema!)).to.deep.equal(['*', 'public-orders']);
    const out = applyCatalogRules(tapPostgres(), merged);
    expect(entry(out, ORDERS)!['replication-method']).to.equal('INCREMENTAL');
    expect(entry(out, CUSTOMERS)!['replication-method']).to.equal('FULL_TABLE');
    const orderProps = stream(out, ORDERS).schema.properties as JsonObject;
    expect(orderProps.id).to.deep.equal({ type: 'string' });
    // The step's schema entry replaced the plugin's for public-orders: amount is the tap's again.
    expect(orderProps.amount).to.deep.equal({ type: ['number', 'null'], multipleOf: 0.01 });
  });

  it('adds step patterns the plugin does not have, after the plugin ones', () => {
    const merged = mergeCatalogRules(plugin, { metadata: { 'public-customers': { x: 1 } } });
    expect(Object.keys(merged.metadata!)).to.deep.equal(['public-orders', '*', 'public-customers']);
  });

  it('does not mutate either input', () => {
    const p = structuredClone(plugin);
    const step: CatalogRules = { metadata: { '*': { x: 1 } }, schema: { '*': { y: {} } } };
    const s = structuredClone(step);
    mergeCatalogRules(plugin, step);
    expect(plugin).to.deep.equal(p);
    expect(step).to.deep.equal(s);
  });
});
