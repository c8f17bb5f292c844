import { expect } from 'chai';
import {
  aboutSettings,
  checkAbout,
  imageTag,
  schemaKinds,
  type EntrySpec,
  type PluginAbout,
} from '../../hack/plugins/about-check.js';
import {
  parseDbtVersion,
  pythonConfigAbout,
  pythonLiteralKind,
  wrapperAbout,
} from '../../hack/plugins/about-sources.js';

/** A trimmed singer-sdk --about of a Postgres tap, in the shapes the real one uses. */
const ABOUT: PluginAbout = {
  name: 'tap-pg',
  version: '0.10.0',
  capabilities: ['catalog', 'state', 'discover', 'about', 'stream-maps'],
  settings: {
    type: 'object',
    properties: {
      host: { type: ['string', 'null'] },
      port: { type: ['integer', 'null'], default: 5432 },
      password: { type: ['string', 'null'], secret: true, writeOnly: true },
      ratio: { type: ['number', 'null'] },
      filter_schemas: { type: ['array', 'null'] },
      ssl_mode: { type: ['string', 'null'], default: 'verify-full', enum: ['disable', 'verify-full'] },
      seed: { oneOf: [{ type: ['number'] }, { type: ['string'] }, { type: 'null' }] },
      ssh_tunnel: {
        type: ['object', 'null'],
        required: ['host'],
        properties: {
          enable: { type: ['boolean', 'null'], default: false },
          host: { type: ['string', 'null'] },
          private_key: { type: ['string', 'null'], writeOnly: true },
        },
      },
      api_key: { type: 'string', sensitive: true },
      database: { type: 'string' },
    },
    required: ['database'],
  },
};

/** An entry that agrees with ABOUT. */
const ENTRY: EntrySpec = {
  image: 'localhost/flexcore/tap-pg:0.10.0',
  capabilities: ['catalog', 'discover', 'state'],
  settings: [
    { name: 'host', required: true },
    { name: 'port', kind: 'integer', default: 5432 },
    { name: 'password', secret: true, required: true },
    { name: 'database', required: true },
    { name: 'filter_schemas', kind: 'array' },
  ],
};

function withSettings(...settings: NonNullable<EntrySpec['settings']>): EntrySpec {
  return { ...ENTRY, settings: [...(ENTRY.settings ?? []), ...settings] };
}

describe('plugin --about check', () => {
  describe('reading --about settings', () => {
    it('flattens nested settings to dotted names with their types, secrets and required flags', () => {
      const byName = new Map(aboutSettings(ABOUT.settings).map((s) => [s.name, s]));
      expect(byName.get('port')).to.deep.include({ kinds: ['integer'], hasDefault: true, required: false });
      expect(byName.get('password')).to.deep.include({ secret: true });
      expect(byName.get('api_key')).to.deep.include({ secret: true, kinds: ['string'] });
      expect(byName.get('database')).to.deep.include({ required: true, hasDefault: false });
      expect(byName.get('ssh_tunnel.enable')).to.deep.include({ kinds: ['boolean'] });
      expect(byName.get('ssh_tunnel.private_key')).to.deep.include({ secret: true });
      // ssh_tunnel.host is required only within an ssh_tunnel, which is optional.
      expect(byName.get('ssh_tunnel.host')).to.deep.include({ required: false });
    });

    it('takes the types of anyOf/oneOf branches and drops null', () => {
      expect(
        schemaKinds({ oneOf: [{ type: ['number'] }, { type: ['string'] }, { type: 'null' }] }),
      ).to.deep.equal(['number', 'string']);
      expect(schemaKinds({ type: 'null' })).to.deep.equal([]);
      expect(schemaKinds({})).to.deep.equal([]);
    });

    it('reads the tag of an image reference', () => {
      expect(imageTag('localhost/flexcore/tap-postgres:0.10.0')).to.equal('0.10.0');
      expect(imageTag('registry.example.com:5000/flexcore/dbt-postgres:1.9.1')).to.equal('1.9.1');
      expect(imageTag('registry.example.com:5000/flexcore/dbt-postgres')).to.equal(undefined);
      expect(imageTag('r.io/x/y:1.0@sha256:abc')).to.equal('1.0');
    });
  });

  describe('comparing an entry', () => {
    it('finds nothing when the entry agrees (it may be stricter: host required, fewer capabilities)', () => {
      expect(checkAbout(ENTRY, ABOUT, { version: true })).to.deep.equal([]);
    });

    const cases: { what: string; entry: EntrySpec; lines: string[] }[] = [
      {
        what: 'a setting the plugin does not have',
        entry: withSettings({ name: 'hostname' }),
        lines: ["setting hostname: not among the plugin's settings"],
      },
      {
        what: 'a kind the plugin does not accept',
        entry: withSettings({ name: 'ssl_mode', kind: 'boolean' }),
        lines: ['setting ssl_mode: kind boolean, but the plugin types it string'],
      },
      {
        what: 'a string setting (no kind) the plugin types integer',
        entry: { ...ENTRY, settings: [{ name: 'port' }, { name: 'database', required: true }] },
        lines: ['setting port: kind string, but the plugin types it integer'],
      },
      {
        what: 'a secret the entry leaves plain',
        entry: {
          ...ENTRY,
          settings: [
            { name: 'password', required: true },
            { name: 'database', required: true },
          ],
        },
        lines: [
          'setting password: the plugin marks it secret; the entry needs secret: true (or kind: password)',
        ],
      },
      {
        what: 'a required setting without a default the entry leaves optional',
        entry: { ...ENTRY, settings: [{ name: 'database' }] },
        lines: ['setting database: the plugin requires it (no default); the entry needs required: true'],
      },
      {
        what: 'a required setting without a default the entry leaves out',
        entry: { ...ENTRY, settings: [] },
        lines: ['setting database: the plugin requires it (no default), but the entry does not declare it'],
      },
      {
        what: 'a default outside the enum',
        entry: withSettings({ name: 'ssl_mode', default: 'require' }),
        lines: ['setting ssl_mode: default "require" is not one of ["disable","verify-full"]'],
      },
      {
        what: 'a capability the plugin lacks',
        entry: { ...ENTRY, capabilities: ['catalog', 'properties'] },
        lines: [
          'capability properties: declared by the entry, but the plugin has only [catalog, state, discover, about, stream-maps]',
        ],
      },
      {
        what: 'an image tag that is not the plugin version',
        entry: { ...ENTRY, image: 'localhost/flexcore/tap-pg:0.9.0' },
        lines: ['image localhost/flexcore/tap-pg:0.9.0: tagged 0.9.0, but the plugin is version 0.10.0'],
      },
    ];
    for (const c of cases)
      it(`reports ${c.what}`, () => {
        expect(checkAbout(c.entry, ABOUT, { version: true })).to.deep.equal(c.lines);
      });

    it('accepts kind password or secret: true for a secret, a nested name, an integer for a number', () => {
      const entry = withSettings(
        { name: 'api_key', kind: 'password' },
        { name: 'ssh_tunnel.enable', kind: 'boolean' },
        { name: 'ssh_tunnel.private_key', secret: true },
        { name: 'ratio', kind: 'integer' },
        { name: 'seed', kind: 'string' },
      );
      expect(checkAbout(entry, ABOUT)).to.deep.equal([]);
    });

    it('a required setting with a default in the entry is fine: FlexCore always sends it', () => {
      const entry = { ...ENTRY, settings: [{ name: 'database', default: 'app' }] };
      expect(checkAbout(entry, ABOUT)).to.deep.equal([]);
    });

    it('asks for every setting only when told the list is complete, and the version only when told', () => {
      const small: PluginAbout = {
        version: '2.0',
        settings: { properties: { a: { type: 'string' }, b: { type: 'boolean' } } },
      };
      const entry: EntrySpec = { image: 'x:1.0', settings: [{ name: 'a' }] };
      expect(checkAbout(entry, small)).to.deep.equal([]);
      expect(checkAbout(entry, small, { complete: true })).to.deep.equal([
        'setting b: the plugin reads it, but the entry does not declare it',
      ]);
    });
  });

  describe('an --about from plugins without one', () => {
    it('types Python literals', () => {
      expect(
        ["''", '"x"', 'True', 'False', '5432', '1.5', '[]', '{}', 'None', 'dict()'].map(pythonLiteralKind),
      ).to.deep.equal([
        'string',
        'string',
        'boolean',
        'boolean',
        'integer',
        'number',
        'array',
        'object',
        undefined,
        undefined,
      ]);
    });

    it("reads a singer-python target's config.get and config[...] calls", () => {
      const source = `
    state = persist_messages(
        input_messages,
        config.get('destination_path', ''),
        config.get('custom_name', ''),
        config.get("do_timestamp_file", True),
        config.get('limit'),
        config.get('options', dict()),
        config['token'],
    )`;
      const settings = aboutSettings(pythonConfigAbout(source, ['token']).settings);
      expect(settings.map((s) => [s.name, s.kinds, s.hasDefault, s.required, s.secret])).to.deep.equal([
        ['destination_path', ['string'], true, false, false],
        ['custom_name', ['string'], true, false, false],
        ['do_timestamp_file', ['boolean'], true, false, false],
        ['limit', [], false, false, false],
        ['options', [], true, false, false],
        ['token', [], false, true, true],
      ]);
    });

    it("reads a wrapper's DEFAULTS and REQUIRED", () => {
      const about = wrapperAbout(
        { defaults: { port: 5432, project_dir: '/project' }, required: ['host', 'password'] },
        ['password'],
      );
      const entry: EntrySpec = {
        settings: [
          { name: 'port', kind: 'integer', default: 5432 },
          { name: 'project_dir', default: '/project' },
          { name: 'host', required: true },
        ],
      };
      expect(checkAbout(entry, about, { complete: true })).to.deep.equal([
        'setting password: the plugin requires it (no default), but the entry does not declare it',
      ]);
      expect(
        checkAbout({ settings: [{ name: 'port' }, { name: 'password', required: true }] }, about),
      ).to.deep.equal([
        'setting port: kind string, but the plugin types it integer',
        'setting password: the plugin marks it secret; the entry needs secret: true (or kind: password)',
        'setting host: the plugin requires it (no default), but the entry does not declare it',
      ]);
    });

    it('reads the versions in dbt --version', () => {
      const out = [
        'Core:',
        '  - installed: 1.9.11',
        '  - latest:    1.10.2 - Update available!',
        '',
        'Plugins:',
        '  - postgres: 1.9.1 - Could not determine latest version',
        '  - snowflake: 1.9.0 - Up to date!',
        '',
      ].join('\n');
      expect(parseDbtVersion(out)).to.deep.equal({
        core: '1.9.11',
        plugins: { postgres: '1.9.1', snowflake: '1.9.0' },
      });
    });
  });
});
