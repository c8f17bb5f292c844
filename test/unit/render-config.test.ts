import { expect } from 'chai';
import { FlexPipeline, FlexPlugin, type Step } from '../../api/v1alpha1/index.js';
import type { AttemptInput } from '../../controller/pipeline/render/attempt-input.js';
import type { ConfigProblem } from '../../controller/pipeline/render/config-problem.js';
import { renderAttemptConfig } from '../../controller/pipeline/render/config.js';
import { convertSecretValue } from '../../controller/pipeline/render/plugin-config.js';

const UID = '7d1b2c3a-0000-4000-8000-00000000beef';

const tap = FlexPlugin.parse({
  apiVersion: 'flexcore.io/v1alpha1',
  kind: 'FlexPlugin',
  metadata: { name: 'tap-pg' },
  spec: {
    type: 'tap',
    image: 'x/tap:1',
    command: ['tap-postgres'],
    settings: [
      { name: 'host', required: true },
      { name: 'port', kind: 'integer', default: 5432 },
      { name: 'password', secret: true, required: true },
      { name: 'ssl', kind: 'boolean' },
      { name: 'ratio', kind: 'number' },
      { name: 'schemas', kind: 'array' },
      { name: 'options', kind: 'object' },
      { name: 'api_key', kind: 'password' },
    ],
  },
});

const target = FlexPlugin.parse({
  apiVersion: 'flexcore.io/v1alpha1',
  kind: 'FlexPlugin',
  metadata: { name: 'target-jsonl' },
  spec: {
    type: 'target',
    image: 'x/target:1',
    command: ['target-jsonl'],
    settings: [
      { name: 'destination_path', default: '/data/out' },
      { name: 'token', secret: true },
      { name: 'batch', kind: 'integer' },
    ],
  },
});

/** Secret values that must never show up in a problem message. */
const SECRET_VALUES = ['hunter2-very-secret', 'not-a-number-secret', 'tok-3141', '{"broken'];

const SECRETS = new Map<string, Record<string, string>>([
  ['db', { password: 'hunter2-very-secret', port: '6543', host: 'db.internal' }],
  ['bad', { port: 'not-a-number-secret', options: '{"broken' }],
  ['typed', { ssl: 'true', ratio: '0.25', schemas: '["a","b"]', options: '{"k":1}', port: ' 7000\n' }],
  ['target', { token: 'tok-3141', batch: '100' }],
  ['api', { api_key: '31415', port: '5432' }],
  ['schema', { default_target_schema: 'from_secret', user: 'loader' }],
]);

function input(step: Record<string, unknown>, extra: Partial<AttemptInput> = {}): AttemptInput {
  const pipeline = FlexPipeline.parse({
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPipeline',
    metadata: { name: 'orders', namespace: 'data', uid: UID },
    spec: { steps: [{ name: 'load', plugin: 'tap-pg', ...step }] },
  });
  const s = pipeline.spec.steps[0] as Step;
  return {
    pipeline,
    step: s,
    plugin: tap,
    ...(s.target ? { targetPlugin: target } : {}),
    runId: 'g1-7d1b2c3a',
    runKey: 'g1',
    attempt: 1,
    podName: 'orders-g1-load-1',
    secretName: 'orders-g1-load-1',
    secrets: SECRETS,
    ...extra,
  };
}

function files(result: ReturnType<typeof renderAttemptConfig>): Record<string, unknown> {
  if ('problems' in result) throw new Error(`unexpected problems: ${JSON.stringify(result.problems)}`);
  if ('inline' in result) return { 'config.json': JSON.parse(result.inline) as unknown };
  const data = result.secret.data ?? {};
  return Object.fromEntries(
    Object.entries(data).map(([k, v]) => [k, JSON.parse(Buffer.from(v, 'base64').toString('utf8'))]),
  );
}

function problems(result: ReturnType<typeof renderAttemptConfig>): ConfigProblem[] {
  return 'problems' in result ? result.problems : [];
}

const password = { setting: 'password', secretKeyRef: { name: 'db', key: 'password' } };

describe('renderAttemptConfig', () => {
  describe('config files', () => {
    const cases: {
      name: string;
      step: Record<string, unknown>;
      extra?: Partial<AttemptInput>;
      files: object;
    }[] = [
      {
        name: 'defaults, then config, then configFrom',
        step: { config: { host: 'a', port: 1 }, configFrom: [password] },
        files: { 'config.json': { port: 1, host: 'a', password: 'hunter2-very-secret' } },
      },
      {
        name: 'configFrom wins over config',
        step: {
          config: { host: 'a', port: 1 },
          configFrom: [password, { setting: 'port', secretKeyRef: { name: 'db', key: 'port' } }],
        },
        files: { 'config.json': { port: 6543, host: 'a', password: 'hunter2-very-secret' } },
      },
      {
        name: 'secretRef: every key becomes a setting, converted to its kind',
        step: { configFrom: [{ secretRef: { name: 'db' } }] },
        files: { 'config.json': { port: 6543, host: 'db.internal', password: 'hunter2-very-secret' } },
      },
      {
        name: 'every kind converts from a Secret string',
        step: { config: { host: 'h' }, configFrom: [password, { secretRef: { name: 'typed' } }] },
        files: {
          'config.json': {
            port: 7000,
            host: 'h',
            password: 'hunter2-very-secret',
            options: { k: 1 },
            ratio: 0.25,
            schemas: ['a', 'b'],
            ssl: true,
          },
        },
      },
      {
        name: 'a password is the Secret’s text, even when it reads as a number',
        step: { config: { host: 'h' }, configFrom: [password, { secretRef: { name: 'api' } }] },
        files: {
          'config.json': { port: 5432, host: 'h', password: 'hunter2-very-secret', api_key: '31415' },
        },
      },
      {
        name: 'a setting the plugin does not declare is passed as given',
        step: { config: { host: 'h', filter_tables: ['x'] }, configFrom: [password] },
        files: {
          'config.json': { port: 5432, host: 'h', filter_tables: ['x'], password: 'hunter2-very-secret' },
        },
      },
      {
        name: 'a Singer pair has the target’s own file',
        step: {
          config: { host: 'h' },
          configFrom: [password],
          target: {
            plugin: 'target-jsonl',
            config: { batch: 5 },
            configFrom: [{ setting: 'token', secretKeyRef: { name: 'target', key: 'token' } }],
          },
        },
        files: {
          'config.json': { port: 5432, host: 'h', password: 'hunter2-very-secret' },
          'target-config.json': { destination_path: '/data/out', batch: 5, token: 'tok-3141' },
        },
      },
      {
        name: 'the tap’s state',
        step: { config: { host: 'h' }, configFrom: [password] },
        extra: { singerState: { bookmarks: { orders: { lsn: 42 } } } },
        files: {
          'config.json': { port: 5432, host: 'h', password: 'hunter2-very-secret' },
          'state.json': { bookmarks: { orders: { lsn: 42 } } },
        },
      },
    ];
    for (const c of cases) {
      it(c.name, () => expect(files(renderAttemptConfig(input(c.step, c.extra)))).to.deep.equal(c.files));
    }
  });

  describe('problems', () => {
    const cases: { name: string; step: Record<string, unknown>; expected: Partial<ConfigProblem>[] }[] = [
      {
        name: 'missing required settings',
        step: {},
        expected: [
          { reason: 'RequiredSettingMissing', setting: 'host', part: 'step', plugin: 'tap-pg' },
          { reason: 'RequiredSettingMissing', setting: 'password', part: 'step', plugin: 'tap-pg' },
        ],
      },
      {
        name: 'a secret setting in plain config',
        step: { config: { host: 'h', password: 'hunter2-very-secret' } },
        expected: [
          { reason: 'SecretSettingInPlainConfig', setting: 'password' },
          { reason: 'RequiredSettingMissing', setting: 'password' },
        ],
      },
      {
        name: 'a password setting in plain config',
        step: { config: { host: 'h', api_key: 'hunter2-very-secret' }, configFrom: [password] },
        expected: [{ reason: 'SecretSettingInPlainConfig', setting: 'api_key' }],
      },
      {
        name: 'a plain value of the wrong kind',
        step: { config: { host: 'h', port: '5432', ssl: 'yes' }, configFrom: [password] },
        expected: [
          { reason: 'SettingKindMismatch', setting: 'port' },
          { reason: 'SettingKindMismatch', setting: 'ssl' },
        ],
      },
      {
        name: 'Secret values that do not convert',
        step: { config: { host: 'h' }, configFrom: [password, { secretRef: { name: 'bad' } }] },
        expected: [
          { reason: 'SettingKindMismatch', setting: 'options', secret: 'bad' },
          { reason: 'SettingKindMismatch', setting: 'port', secret: 'bad' },
        ],
      },
      {
        name: 'a missing Secret and a missing key',
        step: {
          config: { host: 'h' },
          configFrom: [
            { secretRef: { name: 'nope' } },
            { setting: 'password', secretKeyRef: { name: 'db', key: 'pass' } },
          ],
        },
        expected: [
          { reason: 'SecretNotFound', secret: 'nope' },
          { reason: 'SecretKeyNotFound', secret: 'db', setting: 'password' },
          { reason: 'RequiredSettingMissing', setting: 'password' },
        ],
      },
      {
        name: 'problems of the target',
        step: {
          config: { host: 'h' },
          configFrom: [password],
          target: { plugin: 'target-jsonl', config: { token: 'tok-3141', batch: 'many' } },
        },
        expected: [
          { reason: 'SecretSettingInPlainConfig', setting: 'token', part: 'target', plugin: 'target-jsonl' },
          { reason: 'SettingKindMismatch', setting: 'batch', part: 'target', plugin: 'target-jsonl' },
        ],
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const found = problems(renderAttemptConfig(input(c.step)));
        expect(found).to.have.length(c.expected.length);
        c.expected.forEach((e, i) => expect(found[i]).to.deep.include(e));
        for (const p of found) {
          expect(p.message).to.be.a('string').and.not.equal('');
          for (const value of SECRET_VALUES) expect(p.message).to.not.include(value);
        }
      });
    }

    it('refuses pairs that cannot be wrapped or are not Singer tap and target', () => {
      const step = { config: { host: 'h' }, configFrom: [password], target: { plugin: 'target-jsonl' } };
      const bareTap = { ...tap, spec: { ...tap.spec, command: undefined } };
      const util = { ...target, spec: { ...target.spec, type: 'utility' as const } };
      const found = problems(renderAttemptConfig({ ...input(step), plugin: bareTap, targetPlugin: util }));
      expect(found.map((p) => [p.reason, p.part])).to.deep.equal([
        ['CommandRequired', 'step'],
        ['PairingInvalid', 'target'],
      ]);
    });
  });

  it('makes an immutable Secret labelled like the Pod and owned by the pipeline', () => {
    const result = renderAttemptConfig(input({ config: { host: 'h' }, configFrom: [password] }));
    if (!('secret' in result)) throw new Error('expected a Secret');
    const { secret } = result;
    expect(secret.immutable).to.equal(true);
    expect(secret.type).to.equal('Opaque');
    expect(secret.metadata).to.deep.equal({
      name: 'orders-g1-load-1',
      namespace: 'data',
      labels: {
        'app.kubernetes.io/managed-by': 'flexcore',
        'flexcore.io/pipeline': 'orders',
        'flexcore.io/pipeline-uid': UID,
        'flexcore.io/run': 'g1',
        'flexcore.io/step': 'load',
        'flexcore.io/attempt': '1',
        'flexcore.io/plugin': 'tap-pg',
      },
      ownerReferences: [
        {
          apiVersion: 'flexcore.io/v1alpha1',
          kind: 'FlexPipeline',
          name: 'orders',
          uid: UID,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    expect(Object.keys(secret.data ?? {})).to.deep.equal(['config.json']);
  });

  it('gives a plain step no state file, even when state is passed', () => {
    const dbt = FlexPlugin.parse({
      apiVersion: 'flexcore.io/v1alpha1',
      kind: 'FlexPlugin',
      metadata: { name: 'dbt' },
      spec: { type: 'transformer', image: 'x/dbt:1' },
    });
    const result = renderAttemptConfig({ ...input({}), plugin: dbt, singerState: { a: 1 } });
    expect(files(result)).to.deep.equal({ 'config.json': {} });
  });

  it('keeps a "__proto__" key as a plain key', () => {
    const base = input({ configFrom: [password] });
    const config = JSON.parse('{"host":"h","__proto__":{"polluted":true}}') as Record<string, unknown>;
    const result = renderAttemptConfig({ ...base, step: { ...base.step, config } });
    expect(files(result)['config.json']).to.have.own.property('__proto__');
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it('is deterministic', () => {
    const i = input({ config: { host: 'h' }, configFrom: [{ secretRef: { name: 'typed' } }, password] });
    expect(renderAttemptConfig(i)).to.deep.equal(renderAttemptConfig(i));
  });
});

describe('renderAttemptConfig: loadSchema', () => {
  const targetPg = FlexPlugin.parse({
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPlugin',
    metadata: { name: 'target-pg' },
    spec: {
      type: 'target',
      image: 'x/target-pg:1',
      command: ['target-postgres'],
      settings: [{ name: 'default_target_schema', default: 'raw' }, { name: 'user' }],
    },
  });

  /** The target's config file for a pair whose pipeline and step carry the given loadSchemas. */
  function targetConfig(
    o: { pipeline?: string; step?: string; target?: Record<string, unknown> },
    targetPlugin: FlexPlugin = targetPg,
  ): unknown {
    const base = input({
      config: { host: 'h' },
      configFrom: [password],
      target: { plugin: targetPlugin.metadata.name, ...o.target },
      ...(o.step ? { loadSchema: o.step } : {}),
    });
    const spec = { ...base.pipeline.spec, ...(o.pipeline ? { loadSchema: o.pipeline } : {}) };
    const result = renderAttemptConfig({ ...base, pipeline: { ...base.pipeline, spec }, targetPlugin });
    return files(result)['target-config.json'];
  }

  const cases: {
    name: string;
    o: Parameters<typeof targetConfig>[0];
    plugin?: FlexPlugin;
    expected: object;
  }[] = [
    {
      name: 'the pipeline’s loadSchema',
      o: { pipeline: 'sales' },
      expected: { default_target_schema: 'sales' },
    },
    {
      name: 'the step’s loadSchema over the pipeline’s',
      o: { pipeline: 'sales', step: 'orders' },
      expected: { default_target_schema: 'orders' },
    },
    { name: 'neither: the setting’s default', o: {}, expected: { default_target_schema: 'raw' } },
    {
      name: 'the target’s config wins',
      o: { pipeline: 'sales', step: 'orders', target: { config: { default_target_schema: 'mine' } } },
      expected: { default_target_schema: 'mine' },
    },
    {
      name: 'the target’s secretKeyRef wins',
      o: {
        step: 'orders',
        target: {
          configFrom: [
            {
              setting: 'default_target_schema',
              secretKeyRef: { name: 'schema', key: 'default_target_schema' },
            },
          ],
        },
      },
      expected: { default_target_schema: 'from_secret' },
    },
    {
      name: 'a whole Secret holding the key wins',
      o: { pipeline: 'sales', target: { configFrom: [{ secretRef: { name: 'schema' } }] } },
      expected: { default_target_schema: 'from_secret', user: 'loader' },
    },
    {
      name: 'a target that does not declare the setting never gets it',
      o: { pipeline: 'sales', step: 'orders' },
      plugin: target,
      expected: { destination_path: '/data/out' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(targetConfig(c.o, c.plugin)).to.deep.equal(c.expected));
  }

  it('leaves the tap’s own config alone', () => {
    const base = input({ config: { host: 'h' }, configFrom: [password], target: { plugin: 'target-pg' } });
    const spec = { ...base.pipeline.spec, loadSchema: 'sales' };
    const result = renderAttemptConfig({
      ...base,
      pipeline: { ...base.pipeline, spec },
      targetPlugin: targetPg,
    });
    expect(files(result)['config.json']).to.not.have.property('default_target_schema');
  });
});

describe('convertSecretValue', () => {
  const cases: [string, Parameters<typeof convertSecretValue>[1], unknown][] = [
    ['secret\n', 'string', 'secret\n'],
    ['42', 'integer', 42],
    ['42.5', 'integer', undefined],
    ['42.5', 'number', 42.5],
    ['true', 'boolean', true],
    ['True', 'boolean', undefined],
    ['[1]', 'array', [1]],
    ['{"a":1}', 'object', { a: 1 }],
    ['[1]', 'object', undefined],
    ['null', 'object', undefined],
    ['5432', 'integer', 5432],
    [' 5432\n', 'integer', 5432],
    ['"5432"', 'integer', undefined],
    ['54x', 'integer', undefined],
    ['5432', 'password', '5432'],
    ['{"a":1}\n', 'password', '{"a":1}\n'],
  ];
  for (const [raw, kind, expected] of cases) {
    it(`${JSON.stringify(raw)} as ${kind}`, () => {
      const result = convertSecretValue(raw, kind);
      expect(result === undefined ? undefined : result.value).to.deep.equal(expected);
    });
  }
});
