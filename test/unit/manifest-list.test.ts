import { expect } from 'chai';
import { expandLists, isList } from '../../controller/cli/manifest-list.js';
import { validateText } from '../../controller/cli/validate.js';

const plugin = (name: string, extra = ''): string =>
  `  - apiVersion: flexcore.io/v1alpha1\n    kind: FlexPlugin\n    metadata: {name: ${name}}\n    spec: {type: tap, image: "ghcr.io/acme/${name}:1"${extra}}\n`;

describe('expandLists', () => {
  const cases: { name: string; doc: unknown; expect: { path: string; object: unknown }[] }[] = [
    {
      name: 'a plain object is itself',
      doc: { kind: 'FlexPlugin' },
      expect: [{ path: '', object: { kind: 'FlexPlugin' } }],
    },
    { name: 'a scalar is itself', doc: 'text', expect: [{ path: '', object: 'text' }] },
    {
      name: 'kind: List gives its items in order, named by index',
      doc: { apiVersion: 'v1', kind: 'List', items: [{ kind: 'A' }, { kind: 'B' }] },
      expect: [
        { path: 'items[0]', object: { kind: 'A' } },
        { path: 'items[1]', object: { kind: 'B' } },
      ],
    },
    { name: 'an empty list holds nothing', doc: { apiVersion: 'v1', kind: 'List', items: [] }, expect: [] },
    {
      name: 'nested lists are flattened, the path says where',
      doc: { kind: 'List', items: [{ kind: 'List', items: [{ kind: 'A' }] }] },
      expect: [{ path: 'items[0].items[0]', object: { kind: 'A' } }],
    },
    {
      name: 'a typed list lends its kind and apiVersion to items that leave them out',
      doc: {
        apiVersion: 'flexcore.io/v1alpha1',
        kind: 'FlexPipelineList',
        items: [{ metadata: { name: 'p' } }, { apiVersion: 'v1', kind: 'ConfigMap' }],
      },
      expect: [
        {
          path: 'items[0]',
          object: { apiVersion: 'flexcore.io/v1alpha1', kind: 'FlexPipeline', metadata: { name: 'p' } },
        },
        { path: 'items[1]', object: { apiVersion: 'v1', kind: 'ConfigMap' } },
      ],
    },
    {
      name: 'a kind ending in List without items is an object, not a list',
      doc: { kind: 'PodList' },
      expect: [{ path: '', object: { kind: 'PodList' } }],
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(expandLists(c.doc)).to.deep.equal(c.expect));
  }

  it('does not change the document', () => {
    const doc = { apiVersion: 'flexcore.io/v1alpha1', kind: 'FlexPluginList', items: [{ spec: {} }] };
    const copy = structuredClone(doc);
    expandLists(doc);
    expect(doc).to.deep.equal(copy);
  });

  it('knows a list by its kind and items', () => {
    expect(isList({ kind: 'List', items: [] })).to.equal(true);
    expect(isList({ kind: 'List' })).to.equal(false);
    expect(isList({ kind: 'List', items: {} })).to.equal(false);
    expect(isList({ kind: 'FlexPipelineList', items: [] })).to.equal(true);
  });
});

describe('validateText with lists', () => {
  it('checks each item of a kind: List and names a bad one by its index', () => {
    const text =
      'apiVersion: v1\nkind: List\nitems:\n' +
      plugin('good') +
      '  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: c}\n' +
      plugin('bad', ', version: "2"');
    const r = validateText('list.yaml', text);
    expect(r.documents).to.equal(3);
    expect(r.skipped).to.equal(1);
    expect(r.findings).to.deep.equal([
      {
        severity: 'note',
        text: 'list.yaml:1:items[1]: note: skipping ConfigMap v1: not a FlexCore resource',
      },
      { severity: 'problem', text: 'list.yaml:1:items[2].spec.version: unknown field' },
    ]);
  });

  it('checks a FlexPluginList whose items leave out kind and apiVersion', () => {
    const text =
      'apiVersion: flexcore.io/v1alpha1\nkind: FlexPluginList\nitems:\n' +
      '  - metadata: {name: a}\n    spec: {type: tap}\n';
    const r = validateText('typed.yaml', text);
    expect(r.findings).to.deep.equal([
      { severity: 'problem', text: 'typed.yaml:1:items[0].spec.image: required field is missing' },
    ]);
  });

  it('reports a bad item itself (not a mapping) at its index', () => {
    const r = validateText('scalar.yaml', 'apiVersion: v1\nkind: List\nitems:\n  - just text\n');
    expect(r.findings).to.have.length(1);
    expect(r.findings[0]!.text).to.match(/^scalar\.yaml:1:items\[0\]: document is not a Kubernetes object/);
  });

  it('counts lists among the documents of a multi-document stream', () => {
    const text = `apiVersion: v1\nkind: List\nitems:\n${plugin('a')}${plugin('b')}---\napiVersion: v1\nkind: Service\n`;
    const r = validateText('-', text);
    expect(r).to.deep.include({ documents: 3, skipped: 1 });
    expect(r.findings.filter((f) => f.severity === 'problem')).to.deep.equal([]);
  });
});
