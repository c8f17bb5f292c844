import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { FlexPlugin, isSecretSetting, matchesKind, type SettingKind } from '../../api/v1alpha1/index.js';

describe('isSecretSetting', () => {
  const cases: [string, { kind?: SettingKind; secret?: boolean }, boolean][] = [
    ['a plain string', { kind: 'string' }, false],
    ['a string marked secret', { kind: 'string', secret: true }, true],
    ['a string marked not secret', { kind: 'string', secret: false }, false],
    ['a password', { kind: 'password' }, true],
    ['a password also marked secret', { kind: 'password', secret: true }, true],
    ['an integer marked secret', { kind: 'integer', secret: true }, true],
    ['no kind (string by default)', {}, false],
  ];
  for (const [what, setting, expected] of cases) {
    it(`${what}: ${expected ? 'secret' : 'not secret'}`, () =>
      expect(isSecretSetting(setting)).to.equal(expected));
  }
});

describe('matchesKind: password', () => {
  const cases: [unknown, boolean][] = [
    ['hunter2', true],
    ['', true],
    [5432, false],
    [null, false],
    [{ value: 'x' }, false],
  ];
  for (const [value, expected] of cases) {
    it(`${JSON.stringify(value)} ${expected ? 'is' : 'is not'} a password`, () =>
      expect(matchesKind(value, 'password')).to.equal(expected));
  }
});

describe('plugins/catalog', () => {
  const dir = new URL('../../plugins/catalog/', import.meta.url);
  const entries = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const [doc] = parseAllDocuments(readFileSync(new URL(f, dir), 'utf8'));
      return { file: f, plugin: FlexPlugin.parse(doc?.toJS()) };
    });

  it('has entries', () => expect(entries).to.not.be.empty);

  for (const { file, plugin } of entries) {
    it(`${file}: every password setting is kind password, so secret`, () => {
      for (const s of plugin.spec.settings ?? []) {
        if (s.name !== 'password') continue;
        expect(s.kind, s.name).to.equal('password');
        expect(isSecretSetting(s), s.name).to.equal(true);
        expect(s.default, s.name).to.equal(undefined);
      }
    });
  }
});
