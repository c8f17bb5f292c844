import { expect } from 'chai';
import { createHash } from 'node:crypto';
import {
  CatalogRules,
  FlexPlugin,
  globProblem,
  incrementalWithoutKey,
  selectPatternProblem,
  Step,
  StepCatalog,
  type StreamMetadata,
} from '../../api/v1alpha1/index.js';
import { canonicalJson, catalogKey } from '../../controller/catalog/catalog-key.js';
import {
  catalogDigest,
  discoveryEndMarker,
  discoveryMarker,
  readDiscoveryOutput,
} from '../../controller/catalog/discovery-output.js';
import {
  asSingerCatalog,
  CatalogInvalidError,
  parseCatalog,
} from '../../controller/catalog/singer-catalog.js';

const CATALOG = {
  streams: [
    {
      tap_stream_id: 'public-orders',
      stream: 'orders',
      schema: { type: 'object', properties: { id: { type: 'integer' }, amount: { type: 'number' } } },
      metadata: [
        { breadcrumb: [], metadata: { 'table-key-properties': ['id'] } },
        { breadcrumb: ['properties', 'id'], metadata: { inclusion: 'automatic' } },
      ],
    },
  ],
};

describe('parseCatalog / asSingerCatalog', () => {
  // Each message must say where the fault is: the tap's catalog can be megabytes long.
  const bad: [name: string, text: string, message: string | RegExp][] = [
    ['text that is not JSON', '{"streams": [', /^the catalog is not JSON: /],
    ['an empty text', '', /^the catalog is not JSON: /],
    ['a list', '[]', 'the catalog is not an object with a "streams" list'],
    ['null', 'null', 'the catalog is not an object with a "streams" list'],
    ['an object without streams', '{}', 'the catalog is not an object with a "streams" list'],
    ['streams that is an object', '{"streams": {}}', 'the catalog is not an object with a "streams" list'],
    ['a stream that is not an object', '{"streams": [1]}', 'streams[0] is not an object'],
    [
      'a stream without an id (the second)',
      '{"streams": [{"tap_stream_id": "a"}, {"schema": {}}]}',
      'streams[1] has neither tap_stream_id nor stream',
    ],
    [
      'an empty tap_stream_id',
      '{"streams": [{"tap_stream_id": ""}]}',
      'streams[0] has neither tap_stream_id nor stream',
    ],
    [
      'a numeric tap_stream_id',
      '{"streams": [{"tap_stream_id": 5}]}',
      'streams[0] has neither tap_stream_id nor stream',
    ],
    [
      'a schema that is a list',
      '{"streams": [{"stream": "a", "schema": []}]}',
      'streams[0].schema is not an object',
    ],
    [
      'a schema that is null',
      '{"streams": [{"stream": "a", "schema": null}]}',
      'streams[0].schema is not an object',
    ],
    [
      'metadata that is an object',
      '{"streams": [{"stream": "a", "metadata": {}}]}',
      'streams[0].metadata is not a list',
    ],
    [
      'a metadata entry without breadcrumb',
      '{"streams": [{"stream": "a", "metadata": [{"breadcrumb": []}, {}]}]}',
      'streams[0].metadata[1] has no breadcrumb list of strings',
    ],
    [
      'a breadcrumb with a number',
      '{"streams": [{"stream": "a", "metadata": [{"breadcrumb": ["properties", 1]}]}]}',
      'streams[0].metadata[0] has no breadcrumb list of strings',
    ],
    [
      'an entry whose metadata is not an object',
      '{"streams": [{"stream": "a"}, {"stream": "b", "metadata": [{"breadcrumb": [], "metadata": "x"}]}]}',
      'streams[1].metadata[0].metadata is not an object',
    ],
  ];
  for (const [name, text, message] of bad) {
    it(`rejects ${name}`, () => {
      expect(() => parseCatalog(text))
        .to.throw(CatalogInvalidError, message)
        .with.property('name', 'CatalogInvalidError');
    });
  }

  it('cuts a long JSON error message short', () => {
    try {
      parseCatalog(`{"streams": [${'x'.repeat(10_000)}`);
      expect.fail('no error');
    } catch (err) {
      expect((err as Error).message.length).to.be.at.most('the catalog is not JSON: '.length + 200);
    }
  });

  it('accepts a full catalog as it is', () => {
    expect(parseCatalog(JSON.stringify(CATALOG))).to.deep.equal(CATALOG);
  });

  it('fills in what taps may leave out: tap_stream_id from stream, schema, metadata, entry metadata', () => {
    const cat = parseCatalog('{"streams": [{"stream": "users", "metadata": [{"breadcrumb": []}]}]}');
    expect(cat.streams).to.deep.equal([
      { stream: 'users', tap_stream_id: 'users', schema: {}, metadata: [{ breadcrumb: [], metadata: {} }] },
    ]);
  });

  it('prefers tap_stream_id over stream', () => {
    expect(
      parseCatalog('{"streams": [{"tap_stream_id": "public-users", "stream": "users"}]}').streams[0],
    ).to.include({
      tap_stream_id: 'public-users',
      stream: 'users',
    });
  });

  it('keeps unknown fields at every level (the tap owns their meaning)', () => {
    const text = JSON.stringify({
      version: 3,
      streams: [
        {
          tap_stream_id: 'a',
          table_name: 'a',
          key_properties: ['id'],
          metadata: [{ breadcrumb: [], metadata: {}, note: 'x' }],
        },
      ],
    });
    const cat = parseCatalog(text);
    expect(cat.version).to.equal(3);
    expect(cat.streams[0]).to.deep.include({ table_name: 'a', key_properties: ['id'] });
    expect(cat.streams[0]!.metadata[0]!.note).to.equal('x');
  });

  it('accepts an empty stream list', () => {
    expect(parseCatalog('{"streams": []}')).to.deep.equal({ streams: [] });
  });

  it('asSingerCatalog does not mutate what it checks', () => {
    const value = { streams: [{ stream: 'a', metadata: [{ breadcrumb: [] }] }] };
    const before = structuredClone(value);
    asSingerCatalog(value);
    expect(value).to.deep.equal(before);
  });
});

describe('readDiscoveryOutput', () => {
  const POD = 'orders-extract-discover-1';
  const marker = discoveryMarker(POD);
  const END = `\n${discoveryEndMarker(POD)}\n`;
  const LOG = [
    'time=2025-01-01 level=INFO message=Discovering tables',
    'time=2025-01-01 level=INFO message=Found 1 table',
    // Another pod's marker in the log is just a log line.
    discoveryMarker('orders-extract-discover-0'),
    '',
  ].join('\n');

  it('names the pod in the marker', () => expect(marker).to.include(POD));

  it('splits the log at the marker and parses the catalog after it', () => {
    const out = readDiscoveryOutput(`${LOG}${marker}\n${JSON.stringify(CATALOG, null, 2)}\n${END}`, POD);
    if (!out.ok) throw new Error(out.message);
    expect(out.log).to.equal(LOG);
    expect(out.catalog).to.deep.equal(CATALOG);
    expect(out.text).to.equal(JSON.stringify(CATALOG));
    expect(out.digest).to.equal(createHash('sha256').update(out.text).digest('hex'));
    expect(out.digest)
      .to.equal(catalogDigest(out.text))
      .and.match(/^[0-9a-f]{64}$/);
  });

  it('takes the catalog after the last marker (a marker echoed earlier is log)', () => {
    const out = readDiscoveryOutput(
      `${marker}\nnot json\n${LOG}${marker}\n${JSON.stringify(CATALOG)}${END}`,
      POD,
    );
    expect(out.ok).to.equal(true);
    expect(out.log).to.equal(`${marker}\nnot json\n${LOG}`);
  });

  it('accepts an empty log before the marker', () => {
    const out = readDiscoveryOutput(`${marker}\n${JSON.stringify(CATALOG)}${END}`, POD);
    expect(out).to.include({ ok: true, log: '' });
  });

  it('reports CatalogMissing, with the whole log, when there is no marker', () => {
    const out = readDiscoveryOutput(LOG, POD);
    expect(out).to.deep.include({ ok: false, reason: 'CatalogMissing', log: LOG });
    if (out.ok) return;
    expect(out.message).to.match(/no catalog/);
  });

  it("does not take another pod's marker for its own", () => {
    const out = readDiscoveryOutput(`${discoveryMarker('other')}\n${JSON.stringify(CATALOG)}`, POD);
    expect(out).to.include({ ok: false, reason: 'CatalogMissing' });
  });

  it('reports CatalogMissing for a marker cut off before its newline (a truncated log)', () => {
    expect(readDiscoveryOutput(`${LOG}${marker}`, POD)).to.include({ ok: false, reason: 'CatalogMissing' });
  });

  it('reports CatalogIncomplete for a catalog without its end line (a log cut short)', () => {
    const out = readDiscoveryOutput(`${LOG}${marker}\n${JSON.stringify(CATALOG)}`, POD);
    expect(out).to.deep.include({ ok: false, reason: 'CatalogIncomplete', log: LOG });
  });

  const invalid: [name: string, after: string, message: RegExp][] = [
    [
      'JSON cut off',
      '{"streams": [{"tap_stream_id": "a"',
      /^the tap's --discover output: the catalog is not JSON: /,
    ],
    ['nothing', '', /^the tap's --discover output: the catalog is not JSON: /],
    ['log lines after the catalog', `${JSON.stringify(CATALOG)}\nINFO done\n`, /not JSON/],
    [
      'JSON that is not a catalog',
      '{"streams": [{"schema": {}}]}',
      /^the tap's --discover output: streams\[0\] has neither tap_stream_id nor stream$/,
    ],
  ];
  for (const [name, after, message] of invalid) {
    it(`reports CatalogInvalid, with the log before the marker, for ${name}`, () => {
      const out = readDiscoveryOutput(`${LOG}${marker}\n${after}${END}`, POD);
      expect(out).to.deep.include({ ok: false, reason: 'CatalogInvalid', log: LOG });
      if (out.ok) return;
      expect(out.message).to.match(message);
    });
  }

  it('gives equal catalogs the same text and digest, however they were printed', () => {
    const a = readDiscoveryOutput(`${LOG}${marker}\n${JSON.stringify(CATALOG, null, 4)}\n\n${END}`, POD);
    const b = readDiscoveryOutput(
      `other log\n${discoveryMarker('x')}\n${JSON.stringify(CATALOG)}\n${discoveryEndMarker('x')}\n`,
      'x',
    );
    if (!a.ok || !b.ok) throw new Error('not ok');
    expect(a.text).to.equal(b.text);
    expect(a.digest).to.equal(b.digest);
  });

  it('gives different catalogs different digests', () => {
    const changed = structuredClone(CATALOG);
    changed.streams[0]!.schema.properties.amount.type = 'string';
    const a = readDiscoveryOutput(`${marker}\n${JSON.stringify(CATALOG)}${END}`, POD);
    const b = readDiscoveryOutput(`${marker}\n${JSON.stringify(changed)}${END}`, POD);
    if (!a.ok || !b.ok) throw new Error('not ok');
    expect(a.digest).not.to.equal(b.digest);
  });
});

describe('canonicalJson', () => {
  const cases: [name: string, value: unknown, text: string][] = [
    ['sorts object keys', { b: 1, a: 2 }, '{"a":2,"b":1}'],
    ['sorts nested keys', { z: { y: 1, x: [{ d: 1, c: 2 }] } }, '{"z":{"x":[{"c":2,"d":1}],"y":1}}'],
    ['keeps array order', [3, 1, 2], '[3,1,2]'],
    ['sorts by code unit (upper case first)', { a: 1, B: 2, _: 3 }, '{"B":2,"_":3,"a":1}'],
    ['drops undefined object values, like JSON.stringify', { a: undefined, b: 1 }, '{"b":1}'],
    ['writes undefined array items as null, like JSON.stringify', [undefined, 1], '[null,1]'],
    ['writes a bare undefined as null', undefined, 'null'],
    ['escapes strings and keys', { 'k"': 'a"\n' }, '{"k\\"":"a\\"\\n"}'],
    ['keeps scalars', [null, true, false, 0, -1.5, ''], '[null,true,false,0,-1.5,""]'],
    ['an empty object and list', { a: {}, b: [] }, '{"a":{},"b":[]}'],
  ];
  for (const [name, value, text] of cases) it(name, () => expect(canonicalJson(value)).to.equal(text));

  it('gives equal text for equal values built in different orders', () => {
    const a = { image: 'x', config: { host: 'h', port: 1, opts: { b: [1, { q: 1, p: 2 }], a: null } } };
    const b = { config: { opts: { a: null, b: [1, { p: 2, q: 1 }] }, port: 1, host: 'h' }, image: 'x' };
    expect(canonicalJson(a)).to.equal(canonicalJson(b));
  });

  it('is valid JSON that parses back to the value', () => {
    const value = { b: [1, 'two', { c: null }], a: { 'x y': true } };
    expect(JSON.parse(canonicalJson(value))).to.deep.equal(value);
  });
});

describe('catalogKey (which cached catalog a tap step may reuse)', () => {
  function plugin(spec: Record<string, unknown> = {}): FlexPlugin {
    return FlexPlugin.parse({
      apiVersion: 'flexcore.io/v1alpha1',
      kind: 'FlexPlugin',
      metadata: { name: 'tap-pg' },
      spec: {
        type: 'tap',
        image: 'x/tap-postgres:1.0',
        command: ['tap-postgres'],
        settings: [
          { name: 'host', required: true },
          { name: 'port', kind: 'integer', default: 5432 },
          { name: 'user' },
          { name: 'password', secret: true },
        ],
        ...spec,
      },
    });
  }
  function step(fields: Record<string, unknown> = {}): Step {
    return Step.parse({
      name: 'extract',
      plugin: 'tap-pg',
      config: { host: 'db', user: 'reader' },
      configFrom: [{ setting: 'password', secretKeyRef: { name: 'db', key: 'password' } }],
      ...fields,
    });
  }
  const base = catalogKey(plugin(), step());

  it('is a hex SHA-256 and stable', () => {
    expect(base).to.match(/^[0-9a-f]{64}$/);
    expect(catalogKey(plugin(), step())).to.equal(base);
  });

  const changes: [name: string, key: () => string][] = [
    ['another image', () => catalogKey(plugin({ image: 'x/tap-postgres:1.1' }), step())],
    ['another command', () => catalogKey(plugin({ command: ['tap-postgres', '--debug'] }), step())],
    ['args', () => catalogKey(plugin({ args: ['--log-level', 'debug'] }), step())],
    ['a config value', () => catalogKey(plugin(), step({ config: { host: 'db2', user: 'reader' } }))],
    ['a config key more', () => catalogKey(plugin(), step({ config: { host: 'db', user: 'reader', x: 1 } }))],
    [
      'a value overriding a default',
      () => catalogKey(plugin(), step({ config: { host: 'db', user: 'reader', port: 6543 } })),
    ],
    [
      'another setting default',
      () =>
        catalogKey(
          plugin({
            settings: [
              { name: 'host', required: true },
              { name: 'port', kind: 'integer', default: 6543 },
              { name: 'user' },
              { name: 'password', secret: true },
            ],
          }),
          step(),
        ),
    ],
    [
      'another Secret name',
      () =>
        catalogKey(
          plugin(),
          step({ configFrom: [{ setting: 'password', secretKeyRef: { name: 'db2', key: 'password' } }] }),
        ),
    ],
    [
      'another Secret key',
      () =>
        catalogKey(
          plugin(),
          step({ configFrom: [{ setting: 'password', secretKeyRef: { name: 'db', key: 'pw' } }] }),
        ),
    ],
    [
      'a whole Secret instead',
      () => catalogKey(plugin(), step({ configFrom: [{ secretRef: { name: 'db' } }] })),
    ],
    ['no Secret at all', () => catalogKey(plugin(), step({ configFrom: undefined }))],
  ];
  for (const [name, key] of changes) it(`changes with ${name}`, () => expect(key()).not.to.equal(base));

  const same: [name: string, key: () => string][] = [
    ['reordered config keys', () => catalogKey(plugin(), step({ config: { user: 'reader', host: 'db' } }))],
    [
      'a value equal to the setting default written out',
      () => catalogKey(plugin(), step({ config: { host: 'db', user: 'reader', port: 5432 } })),
    ],
    ['another step name', () => catalogKey(plugin(), step({ name: 'extract-2' }))],
    [
      'catalog rules (applied after discovery, on every run)',
      () =>
        catalogKey(
          plugin({ catalog: { select: ['public-*.*'] } }),
          step({
            catalog: {
              select: ['public-orders.*'],
              metadata: { 'public-orders': { 'replication-method': 'FULL_TABLE' } },
              schema: { 'public-orders': { amount: { type: 'string' } } },
            },
          }),
        ),
    ],
  ];
  for (const [name, key] of same) it(`does not change with ${name}`, () => expect(key()).to.equal(base));

  it('depends on Secret names only, never on values (configFrom carries no value), in any order', () => {
    const two = [
      { setting: 'password', secretKeyRef: { name: 'db', key: 'password' } },
      { secretRef: { name: 'extra' } },
    ];
    const a = catalogKey(plugin(), step({ configFrom: two }));
    const b = catalogKey(plugin(), step({ configFrom: [...two].reverse() }));
    expect(a).to.equal(b);
    expect(a).not.to.equal(base);
  });
});

describe('CatalogRules / StepCatalog (API schema)', () => {
  interface Issue {
    path: PropertyKey[];
    message: string;
    issues?: Issue[];
  }
  // A bad record key is one "Invalid key in record" issue with the key's own issues inside.
  const flat = (list: readonly Issue[]): { path: PropertyKey[]; message: string }[] =>
    list.flatMap((i) => [{ path: i.path, message: i.message }, ...flat(i.issues ?? [])]);
  const issues = (value: unknown): { path: PropertyKey[]; message: string }[] => {
    const r = CatalogRules.safeParse(value);
    return r.success ? [] : flat(r.error.issues);
  };
  const SHAPE =
    'must be <stream>.<property> with glob wildcards (*, ?, [abc]), optionally prefixed with ! to exclude, without spaces';

  it('accepts empty rules', () => expect(issues({})).to.deep.equal([]));

  it('accepts good select patterns', () => {
    const select = [
      '*.*',
      'public-orders',
      'public-orders.*',
      '!public-orders.secret',
      'public\\.users.first-name',
      'public\\.users\\.',
      '?sers.[!e]*',
      'users.[a-z]*',
      's.[]]',
      's.[!]]x',
      'users.address.city',
      '!*.*',
    ];
    expect(issues({ select })).to.deep.equal([]);
  });

  const badSelect: [pattern: string, message: string][] = [
    ['a b', SHAPE],
    ['.a', SHAPE],
    ['!', SHAPE],
    ['!!a', SHAPE],
    ['!.a', SHAPE],
    [' a', SHAPE],
    ['a.b\t', SHAPE],
    ['a..b', 'select pattern "a..b": has an empty part (two dots, or a dot at the end)'],
    ['a.', 'select pattern "a.": has an empty part (two dots, or a dot at the end)'],
    ['a.b.', 'select pattern "a.b.": has an empty part (two dots, or a dot at the end)'],
    ['a.[b', 'select pattern "a.[b": "[" at 2 is never closed'],
    ['[!]', 'select pattern "[!]": "[" at 0 is never closed'],
    ['!x.[]', 'select pattern "!x.[]": "[" at 3 is never closed'],
    ['a.[x]y[', 'select pattern "a.[x]y[": "[" at 6 is never closed'],
  ];
  for (const [pattern, message] of badSelect) {
    it(`rejects select ${JSON.stringify(pattern)} at its index`, () => {
      expect(issues({ select: ['ok.*', pattern] })).to.deep.include({ path: ['select', 1], message });
    });
  }

  it('rejects an empty pattern, a too-long pattern and too many patterns', () => {
    expect(issues({ select: [''] })).to.have.length.greaterThan(0);
    expect(issues({ select: [`a.${'x'.repeat(255)}`] })).to.have.length.greaterThan(0);
    expect(issues({ select: [`a.${'x'.repeat(254)}`] })).to.deep.equal([]);
    expect(issues({ select: Array.from({ length: 257 }, (_, i) => `s${i}.*`) })).to.have.length.greaterThan(
      0,
    );
    expect(issues({ select: Array.from({ length: 256 }, (_, i) => `s${i}.*`) })).to.deep.equal([]);
  });

  it('accepts metadata with replication keys, other keys and property objects, and keeps them', () => {
    const metadata = {
      'public-*': { 'replication-method': 'INCREMENTAL', 'replication-key': 'updated_at', 'custom-key': [1] },
      'public-orders': { secret: { selected: false }, address: { city: { x: 1 } } },
    };
    const r = CatalogRules.parse({ metadata });
    expect(r.metadata).to.deep.equal(metadata);
  });

  const badMetadata: [name: string, metadata: unknown, message?: string][] = [
    ['an unknown replication-method', { s: { 'replication-method': 'INCREMENTALLY' } }],
    ['an empty replication-key', { s: { 'replication-key': '' } }],
    ['a numeric replication-key', { s: { 'replication-key': 1 } }],
    [
      'a stream pattern with a space',
      { 'a b': {} },
      'must be a stream id or a glob pattern over stream ids, without spaces',
    ],
    ['a stream value that is not an object', { s: 'FULL_TABLE' }],
  ];
  for (const [name, metadata, message] of badMetadata) {
    it(`rejects metadata with ${name}`, () => {
      const found = issues({ metadata });
      expect(found).to.have.length.greaterThan(0);
      if (message) expect(found.map((i) => i.message)).to.include(message);
    });
  }

  it('accepts schema fragments and rejects a fragment that is not an object', () => {
    expect(
      issues({ schema: { 'public-*': { amount: { type: ['number', 'null'] }, '*_at': {} } } }),
    ).to.deep.equal([]);
    expect(issues({ schema: { s: { amount: 'string' } } })).to.have.length.greaterThan(0);
    expect(issues({ schema: { s: { '': {} } } })).to.have.length.greaterThan(0);
    expect(issues({ schema: { 'a b': { x: {} } } })).to.have.length.greaterThan(0);
  });

  it('rejects unknown fields, and a configMapRef outside a step', () => {
    expect(issues({ selectFilter: ['a'] })).to.have.length.greaterThan(0);
    expect(issues({ configMapRef: { name: 'c' } })).to.have.length.greaterThan(0);
  });

  it('StepCatalog takes a configMapRef, with catalog.json as the default key', () => {
    expect(StepCatalog.parse({ configMapRef: { name: 'orders-catalog' } })).to.deep.equal({
      configMapRef: { name: 'orders-catalog', key: 'catalog.json' },
    });
    expect(
      StepCatalog.parse({ configMapRef: { name: 'c', key: 'tap.properties.json' } }).configMapRef!.key,
    ).to.equal('tap.properties.json');
  });

  it('StepCatalog checks its select patterns and ConfigMap key the same way', () => {
    const r = StepCatalog.safeParse({ select: ['a.[b'], configMapRef: { name: 'c', key: 'a/b' } });
    expect(r.success).to.equal(false);
    const messages = r.success ? [] : r.error.issues.map((i) => i.message);
    expect(messages).to.include('select pattern "a.[b": "[" at 2 is never closed');
    expect(messages).to.include('must be a ConfigMap key');
    expect(StepCatalog.safeParse({ configMapRef: { name: 'Not_A_Name' } }).success).to.equal(false);
    expect(StepCatalog.safeParse({ configMapRef: {} }).success).to.equal(false);
  });
});

describe('selectPatternProblem / globProblem', () => {
  const cases: [pattern: string, problem: string | undefined][] = [
    ['a', undefined],
    ['a.b.c', undefined],
    ['a\\.b', undefined],
    ['a\\.', undefined], // the dot is escaped: part of the stream id, not a separator
    ['a\\..b', undefined],
    ['a..b', 'has an empty part (two dots, or a dot at the end)'],
    ['a.', 'has an empty part (two dots, or a dot at the end)'],
    ['a\\..', 'has an empty part (two dots, or a dot at the end)'],
    ['[ab].[!c]', undefined],
    ['a.[b', '"[" at 2 is never closed'],
    ['a]', undefined],
  ];
  for (const [pattern, problem] of cases) {
    it(`selectPatternProblem(${JSON.stringify(pattern)})`, () =>
      expect(selectPatternProblem(pattern)).to.equal(problem));
  }

  // Mirrors glob.ts: a `[` that is not closed there is a literal, which a user never means.
  const globs: [pattern: string, problem: string | undefined][] = [
    ['abc', undefined],
    ['[ab]', undefined],
    ['[a-z]*', undefined],
    [']', undefined],
    ['[]]', undefined],
    ['[!]]', undefined],
    ['[', '"[" at 0 is never closed'],
    ['a[b', '"[" at 1 is never closed'],
    ['[]', '"[" at 0 is never closed'],
    ['[!]', '"[" at 0 is never closed'],
    ['[a][', '"[" at 3 is never closed'],
    ['[[]x[', '"[" at 4 is never closed'],
  ];
  for (const [pattern, problem] of globs) {
    it(`globProblem(${JSON.stringify(pattern)})`, () => expect(globProblem(pattern)).to.equal(problem));
  }
});

describe('incrementalWithoutKey', () => {
  const inc: StreamMetadata = { 'replication-method': 'INCREMENTAL' };
  const cases: [name: string, metadata: Record<string, StreamMetadata> | undefined, patterns: string[]][] = [
    ['no metadata', undefined, []],
    ['empty metadata', {}, []],
    ['INCREMENTAL without a key anywhere', { 'public-orders': inc }, ['public-orders']],
    [
      'every such pattern, in order',
      { b: inc, a: inc, c: { 'replication-method': 'FULL_TABLE' } },
      ['b', 'a'],
    ],
    ['a key in the same entry', { a: { ...inc, 'replication-key': 'updated_at' } }, []],
    [
      'a key from any other pattern (it may match the same streams)',
      { a: inc, '*': { 'replication-key': 'x' } },
      [],
    ],
    ['a key without INCREMENTAL', { a: { 'replication-key': 'x' } }, []],
    ['LOG_BASED needs no key', { a: { 'replication-method': 'LOG_BASED' } }, []],
  ];
  for (const [name, metadata, patterns] of cases) {
    it(name, () => expect(incrementalWithoutKey(metadata)).to.deep.equal(patterns));
  }
});
