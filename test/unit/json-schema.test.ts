import { expect } from 'chai';
import { crdJsonSchemas, strictJsonSchema, type SchemaNode } from '../../controller/cli/json-schema.js';
import { findCrdDir, loadKindSchemas } from '../../controller/cli/schemas.js';

const openApi = (): SchemaNode => ({
  type: 'object',
  required: ['spec'],
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      required: ['image'],
      properties: {
        image: { type: 'string' },
        policy: { type: 'string', enum: ['A', 'B'] },
        cpu: { anyOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true },
        config: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        meta: {
          type: 'object',
          additionalProperties: { type: 'object', properties: { key: { type: 'string' } } },
        },
        open: {
          type: 'object',
          properties: { a: { type: 'string' } },
          'x-kubernetes-preserve-unknown-fields': true,
        },
        steps: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
      },
    },
  },
});

describe('strictJsonSchema', () => {
  const s = strictJsonSchema(openApi(), 'flexcore.io/v1alpha1', 'FlexPlugin');
  const props = s.properties as Record<string, SchemaNode>;
  const spec = props.spec!;
  const specProps = spec.properties as Record<string, SchemaNode>;

  it('refuses unknown fields at the root and in every object that lists its properties', () => {
    expect(s.additionalProperties).to.equal(false);
    expect(spec.additionalProperties).to.equal(false);
    expect((specProps.steps!.items as SchemaNode).additionalProperties).to.equal(false);
    expect((specProps.meta!.additionalProperties as SchemaNode).additionalProperties).to.equal(false);
  });

  it('leaves open what the CRD keeps open: metadata, preserve-unknown-fields, maps', () => {
    expect(props.metadata!.additionalProperties).to.equal(undefined);
    expect(specProps.config!.additionalProperties).to.equal(undefined);
    expect(specProps.open!.additionalProperties).to.equal(undefined);
    expect(specProps.meta!.additionalProperties).to.be.an('object');
  });

  it('lets optional fields be null, as the apiserver drops them, but not required ones', () => {
    expect(specProps.image!.type).to.equal('string');
    expect(spec.type).to.equal('object');
    expect(specProps.policy).to.deep.include({ type: ['string', 'null'], enum: ['A', 'B', null] });
    expect(specProps.cpu!.anyOf).to.deep.equal([{ type: 'integer' }, { type: 'string' }, { type: 'null' }]);
  });

  it('pins apiVersion and kind and requires them', () => {
    expect(props.apiVersion).to.deep.include({ type: 'string', enum: ['flexcore.io/v1alpha1'] });
    expect(props.kind).to.deep.include({ type: 'string', enum: ['FlexPlugin'] });
    expect(s.required).to.deep.equal(['apiVersion', 'kind', 'spec']);
  });

  it('does not change its input', () => {
    const input = openApi();
    strictJsonSchema(input, 'g/v', 'K');
    expect(input).to.deep.equal(openApi());
  });
});

describe('crdJsonSchemas', () => {
  it('names files in the CRD-catalog layout: group/lower-case kind_version.json', () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      spec: {
        group: 'flexcore.io',
        names: { kind: 'FlexPipeline' },
        versions: [{ name: 'v1alpha1', schema: { openAPIV3Schema: openApi() } }, { name: 'v1beta1' }],
      },
    };
    expect(crdJsonSchemas(crd).map((s) => s.path)).to.deep.equal(['flexcore.io/flexpipeline_v1alpha1.json']);
    expect(crdJsonSchemas({ kind: 'ConfigMap' })).to.deep.equal([]);
  });

  it('makes one schema for each of our kinds from crds/', async () => {
    const schemas = await loadKindSchemas(findCrdDir());
    expect(schemas.map((s) => s.path)).to.deep.equal([
      'flexcore.io/flexpipeline_v1alpha1.json',
      'flexcore.io/flexplugin_v1alpha1.json',
    ]);
  });
});
