import { expect } from 'chai';
import { FlexPlugin } from '../../api/v1alpha1/index.js';
import { loadSchemaDefaults } from '../../controller/pipeline/render/load-schema.js';

function target(settings: Record<string, unknown>[]): FlexPlugin {
  return FlexPlugin.parse({
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPlugin',
    metadata: { name: 'target-pg' },
    spec: { type: 'target', image: 'x/target:1', settings },
  });
}

const DECLARES = target([{ name: 'default_target_schema', default: 'raw' }]);

describe('loadSchemaDefaults', () => {
  const cases: {
    name: string;
    pipeline?: string;
    step?: string;
    target?: FlexPlugin;
    expected: Record<string, string>;
  }[] = [
    { name: 'the pipeline’s schema', pipeline: 'sales', expected: { default_target_schema: 'sales' } },
    { name: 'the step’s schema alone', step: 'orders', expected: { default_target_schema: 'orders' } },
    {
      name: 'the step’s schema over the pipeline’s',
      pipeline: 'sales',
      step: 'orders',
      expected: { default_target_schema: 'orders' },
    },
    { name: 'neither: the setting’s own default stays', expected: {} },
    {
      name: 'a target that does not declare the setting never gets it',
      pipeline: 'sales',
      step: 'orders',
      target: target([{ name: 'destination_path' }]),
      expected: {},
    },
    {
      name: 'a target without settings never gets it',
      pipeline: 'sales',
      target: target([]),
      expected: {},
    },
    {
      name: 'a declared setting of another kind is left alone',
      pipeline: 'sales',
      target: target([{ name: 'default_target_schema', kind: 'object' }]),
      expected: {},
    },
    {
      name: 'a secret setting only comes from a Secret',
      pipeline: 'sales',
      target: target([{ name: 'default_target_schema', kind: 'password' }]),
      expected: {},
    },
    {
      name: 'a declared setting without a default gets it too',
      pipeline: 'sales',
      target: target([{ name: 'default_target_schema', required: true }]),
      expected: { default_target_schema: 'sales' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const pipeline = c.pipeline === undefined ? {} : { loadSchema: c.pipeline };
      const step = c.step === undefined ? {} : { loadSchema: c.step };
      expect(loadSchemaDefaults(pipeline, step, c.target ?? DECLARES)).to.deep.equal(c.expected);
    });
  }
});
