import { expect } from 'chai';
import type { PipelineObject, PluginObject } from '../../controller/objects.js';
import { pipelineProblem, pluginProblem, type Invalid } from '../../controller/pipeline/validation.js';
import {
  TAP,
  TARGET,
  UTILITY,
  pipelineObject,
  pluginMap,
  pluginObject,
  step,
} from './support/pipeline-fixtures.js';

/** A pipeline whose spec skipped admission (e.g. stored before a CRD upgrade). */
function stored(spec: Record<string, unknown>): PipelineObject {
  const p = pipelineObject({ steps: [step('a')] });
  const merged: unknown = { ...p.spec, ...spec };
  return { ...p, spec: merged as PipelineObject['spec'] };
}
/** A plugin whose spec skipped admission. */
function storedPlugin(base: PluginObject, spec: Record<string, unknown>): PluginObject {
  const merged: unknown = { ...base.spec, ...spec };
  return { ...base, spec: merged as PluginObject['spec'] };
}

const PG = pluginObject('pg', {
  type: 'utility',
  image: 'example.com/pg:1',
  settings: [
    { name: 'host', required: true },
    { name: 'port', kind: 'integer', default: 5432 },
    { name: 'password', secret: true, required: true },
    { name: 'tables', kind: 'array' },
    { name: 'api_key', kind: 'password' },
  ],
});
const PASSWORD = { setting: 'password', secretKeyRef: { name: 'pg', key: 'password' } };
const plugins = pluginMap(UTILITY, TAP, TARGET, PG);

describe('pipelineProblem', () => {
  const cases: [string, Record<string, unknown>, Invalid | undefined][] = [
    ['a valid pipeline', { steps: [step('a'), step('b', { dependsOn: ['a'] })] }, undefined],
    [
      'a dependency cycle',
      { steps: [step('a', { dependsOn: ['b'] }), step('b', { dependsOn: ['a'] })] },
      { reason: 'DependencyCycle', message: 'spec.steps: dependency cycle: a -> b -> a' },
    ],
    [
      'a dependency on an unknown step',
      { steps: [step('a', { dependsOn: ['x'] })] },
      { reason: 'InvalidSpec', message: 'spec.steps[0].dependsOn[0]: dependsOn names unknown step "x"' },
    ],
    [
      'a missing plugin',
      { steps: [step('a'), { name: 'b', plugin: 'nope' }] },
      { reason: 'PluginNotFound', message: 'step b: FlexPlugin "nope" not found' },
    ],
    [
      'the first problem, in step order',
      {
        steps: [
          { name: 'a', plugin: 'gone-1' },
          { name: 'b', plugin: 'gone-2' },
        ],
      },
      { reason: 'PluginNotFound', message: 'step a: FlexPlugin "gone-1" not found' },
    ],
  ];
  for (const [what, spec, expected] of cases) {
    it(`${expected ? `reports ${expected.reason} for` : 'accepts'} ${what}`, () =>
      expect(pipelineProblem(stored(spec), plugins)).to.deep.equal(expected));
  }

  it('reports schedule and time zone problems the CRD cannot catch', () => {
    expect(pipelineProblem(stored({ schedule: '61 * * * *' }), plugins)).to.deep.include({
      reason: 'InvalidSpec',
    });
    expect(pipelineProblem(stored({ schedule: '61 * * * *' }), plugins)!.message).to.match(
      /^spec\.schedule: .*61/,
    );
    expect(
      pipelineProblem(stored({ schedule: '0 * * * *', timeZone: 'Mars/Olympus' }), plugins),
    ).to.deep.equal({
      reason: 'InvalidSpec',
      message: 'spec.timeZone: unknown time zone "Mars/Olympus"; use an IANA name such as Europe/Berlin',
    });
  });

  it('reports an invalid plugin a step uses', () => {
    const bad = storedPlugin(UTILITY, { protocol: 'singer' });
    expect(pipelineProblem(stored({ steps: [step('a')] }), pluginMap(bad))).to.deep.equal({
      reason: 'PluginInvalid',
      message:
        'step a: FlexPlugin "job" is invalid: spec.protocol: protocol singer is only for taps and targets',
    });
  });

  describe('step config against the plugin settings', () => {
    const pgStep = (extra: Record<string, unknown>): Record<string, unknown> => ({
      steps: [{ name: 'a', plugin: 'pg', ...extra }],
    });
    const cases: [string, Record<string, unknown>, string | undefined][] = [
      [
        'all required settings given',
        { config: { host: 'db', tables: ['t'] }, configFrom: [PASSWORD] },
        undefined,
      ],
      ['required settings from a whole Secret', { configFrom: [{ secretRef: { name: 'pg' } }] }, undefined],
      [
        'an unknown setting',
        { config: { host: 'db', hots: 'x' }, configFrom: [PASSWORD] },
        'step a: plugin pg has no setting "hots"',
      ],
      [
        'a secret setting in plain config',
        { config: { host: 'db', password: 'hunter2' } },
        'step a: setting "password" is secret; give it with configFrom, not config',
      ],
      [
        'a password setting in plain config',
        { config: { host: 'db', api_key: 'hunter2' }, configFrom: [PASSWORD] },
        'step a: setting "api_key" is secret; give it with configFrom, not config',
      ],
      [
        'a value of the wrong kind',
        { config: { host: 'db', port: '5432' }, configFrom: [PASSWORD] },
        'step a: setting "port" must be of kind integer',
      ],
      [
        'a missing required setting',
        { configFrom: [PASSWORD] },
        'step a: required setting "host" is not set',
      ],
      [
        'a missing required secret setting',
        { config: { host: 'db' } },
        'step a: required setting "password" is not set',
      ],
    ];
    for (const [what, extra, message] of cases) {
      it(`${message ? 'refuses' : 'accepts'} ${what}`, () =>
        expect(pipelineProblem(stored(pgStep(extra)), plugins)).to.deep.equal(
          message && { reason: 'ConfigInvalid', message },
        ));
    }

    it('accepts any config for a plugin that declares no settings', () => {
      expect(
        pipelineProblem(stored({ steps: [step('a', { config: { anything: [1, { x: 2 }] } })] }), plugins),
      ).to.equal(undefined);
    });
  });

  describe('Singer pairing', () => {
    const pair = (
      tap: string,
      target: string,
      extra: Record<string, unknown> = {},
    ): Record<string, unknown> => ({
      steps: [{ name: 'sync', plugin: tap, target: { plugin: target, ...extra } }],
    });
    const plainTap = storedPlugin(pluginObject('tap-plain', { type: 'tap', image: 'x' }), {
      protocol: 'plain',
    });
    const strictTarget = pluginObject('target-pg', {
      type: 'target',
      image: 'x',
      settings: [{ name: 'schema', required: true }],
    });
    const schemaTarget = pluginObject('target-schema', {
      type: 'target',
      image: 'x',
      settings: [{ name: 'default_target_schema', required: true }],
    });
    const all = pluginMap(
      UTILITY,
      TAP,
      TARGET,
      plainTap,
      strictTarget,
      schemaTarget,
      storedPlugin(pluginObject('target-bad', { type: 'target', image: 'x' }), { image: 'has space' }),
    );
    const cases: [string, Record<string, unknown>, Invalid | undefined][] = [
      ['a Singer tap with a Singer target', pair('tap-pg', 'target-jsonl'), undefined],
      [
        'a target with its required config',
        pair('tap-pg', 'target-pg', { config: { schema: 'raw' } }),
        undefined,
      ],
      [
        'a target on a utility',
        pair('job', 'target-jsonl'),
        {
          reason: 'InvalidPairing',
          message: 'step sync: only a Singer tap can have a target; job is a utility',
        },
      ],
      [
        'a target on a plain tap',
        pair('tap-plain', 'target-jsonl'),
        {
          reason: 'InvalidPairing',
          message: 'step sync: only a Singer tap can have a target; tap-plain is a tap',
        },
      ],
      [
        'a missing target plugin',
        pair('tap-pg', 'target-x'),
        { reason: 'PluginNotFound', message: 'step sync: target FlexPlugin "target-x" not found' },
      ],
      [
        'a target that is not a target',
        pair('tap-pg', 'tap-pg'),
        { reason: 'InvalidPairing', message: 'step sync: tap-pg is not a Singer target' },
      ],
      [
        'a target missing a required setting',
        pair('tap-pg', 'target-pg'),
        { reason: 'ConfigInvalid', message: 'step sync target: required setting "schema" is not set' },
      ],
      [
        'a target whose required default_target_schema the pipeline’s loadSchema gives',
        { ...pair('tap-pg', 'target-schema'), loadSchema: 'sales' },
        undefined,
      ],
      [
        'a target whose required default_target_schema the step’s loadSchema gives',
        {
          steps: [
            { name: 'sync', plugin: 'tap-pg', loadSchema: 'orders', target: { plugin: 'target-schema' } },
          ],
        },
        undefined,
      ],
      [
        'a target whose required default_target_schema nothing gives',
        pair('tap-pg', 'target-schema'),
        {
          reason: 'ConfigInvalid',
          message: 'step sync target: required setting "default_target_schema" is not set',
        },
      ],
      [
        'a loadSchema the target does not declare (never sent, so never required)',
        { ...pair('tap-pg', 'target-pg'), loadSchema: 'sales' },
        { reason: 'ConfigInvalid', message: 'step sync target: required setting "schema" is not set' },
      ],
    ];
    for (const [what, spec, expected] of cases) {
      it(`${expected ? `reports ${expected.reason} for` : 'accepts'} ${what}`, () =>
        expect(pipelineProblem(stored(spec), all)).to.deep.equal(expected));
    }

    it('reports a step loadSchema without a target', () => {
      expect(pipelineProblem(stored({ steps: [step('a', { loadSchema: 'sales' })] }), all)).to.deep.equal({
        reason: 'InvalidSpec',
        message: 'spec.steps[0].loadSchema: loadSchema is for steps with a Singer target',
      });
    });

    it('reports a loadSchema that is not an identifier', () => {
      const problem = pipelineProblem(
        stored({ ...pair('tap-pg', 'target-jsonl'), loadSchema: 'raw; drop' }),
        all,
      );
      expect(problem?.reason).to.equal('InvalidSpec');
      expect(problem?.message).to.match(/^spec\.loadSchema: must be an identifier/);
    });

    it('reports an invalid target plugin', () => {
      const problem = pipelineProblem(stored(pair('tap-pg', 'target-bad')), all);
      expect(problem?.reason).to.equal('PluginInvalid');
      expect(problem?.message).to.match(/^step sync: FlexPlugin "target-bad" is invalid: spec\.image: /);
    });
  });
});

describe('pluginProblem', () => {
  it('accepts valid plugins', () => {
    for (const p of [UTILITY, TAP, TARGET, PG]) expect(pluginProblem(p)).to.equal(undefined);
  });
  it('reports a rule the spec breaks, with its path', () => {
    expect(pluginProblem(storedPlugin(UTILITY, { protocol: 'singer' }))).to.deep.equal({
      reason: 'InvalidSpec',
      message: 'spec.protocol: protocol singer is only for taps and targets',
    });
  });
  it('reports a secret setting with a default', () => {
    const bad = storedPlugin(UTILITY, {
      settings: [{ name: 'token', kind: 'string', secret: true, required: false, default: 'x' }],
    });
    expect(pluginProblem(bad)).to.deep.equal({
      reason: 'InvalidSpec',
      message: 'spec.settings[0].default: a secret setting cannot have a default value',
    });
  });
  it('reports a password setting with a default', () => {
    const bad = storedPlugin(UTILITY, {
      settings: [{ name: 'token', kind: 'password', required: false, default: 'x' }],
    });
    expect(pluginProblem(bad)).to.deep.equal({
      reason: 'InvalidSpec',
      message: 'spec.settings[0].default: a secret setting cannot have a default value',
    });
  });
  it('reports a password setting marked secret: false', () => {
    const bad = storedPlugin(UTILITY, {
      settings: [{ name: 'token', kind: 'password', required: false, secret: false }],
    });
    expect(pluginProblem(bad)).to.deep.equal({
      reason: 'InvalidSpec',
      message: 'spec.settings[0].secret: a password setting is always secret; leave out secret: false',
    });
  });
  it('accepts a password setting marked secret: true', () => {
    const ok = storedPlugin(UTILITY, {
      settings: [{ name: 'token', kind: 'password', required: false, secret: true }],
    });
    expect(pluginProblem(ok)).to.equal(undefined);
  });
  it('reports a missing image', () => {
    const { image: _image, ...spec } = UTILITY.spec;
    expect(pluginProblem({ ...UTILITY, spec: spec as PluginObject['spec'] })).to.deep.equal({
      reason: 'InvalidSpec',
      message: 'spec.image: required field is missing',
    });
  });
});
