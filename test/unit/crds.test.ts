import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { generateCrds } from '../../hack/codegen/crds.js';

type Node = Record<string, unknown>;

/** Walks every schema node under properties/items/additionalProperties with its path. */
function walk(node: Node, path: string, visit: (node: Node, path: string) => void): void {
  visit(node, path);
  for (const [name, child] of Object.entries((node.properties as Record<string, Node> | undefined) ?? {})) {
    walk(child, `${path}.${name}`, visit);
  }
  if (node.items) walk(node.items as Node, `${path}[]`, visit);
  if (typeof node.additionalProperties === 'object')
    walk(node.additionalProperties as Node, `${path}{}`, visit);
}

describe('generated CRDs', () => {
  const generated = generateCrds();

  it('match the checked-in files in crds/ (run `npm run gen:crds` after changing api/)', async () => {
    expect([...generated.keys()].sort()).to.deep.equal([
      'flexcore.io_flexpipelines.yaml',
      'flexcore.io_flexplugins.yaml',
    ]);
    for (const [file, text] of generated) {
      const checkedIn = await readFile(new URL(`../../crds/${file}`, import.meta.url), 'utf8');
      expect(checkedIn, `crds/${file} is stale`).to.equal(text);
    }
  });

  for (const [file, text] of generated) {
    describe(file, () => {
      const crd = parse(text) as { spec: { versions: { schema: { openAPIV3Schema: Node } }[] } };
      const root = crd.spec.versions[0]!.schema.openAPIV3Schema;
      const spec = (root.properties as Record<string, Node>).spec!;
      const status = (root.properties as Record<string, Node>).status!;

      it('describes every field of spec and status', () => {
        const missing: string[] = [];
        for (const [name, top] of [
          ['spec', spec],
          ['status', status],
        ] as const) {
          walk(top, name, (node, path) => {
            if (!path.endsWith('[]') && !path.endsWith('{}') && typeof node.description !== 'string')
              missing.push(path);
          });
        }
        expect(missing).to.deep.equal([]);
      });

      it('is structural: every node has a type unless it is int-or-string or free-form', () => {
        const untyped: string[] = [];
        walk(root, '', (node, path) => {
          const exempt =
            node['x-kubernetes-int-or-string'] === true ||
            node['x-kubernetes-preserve-unknown-fields'] === true;
          if (typeof node.type !== 'string' && !exempt) untyped.push(path);
          if (node.properties && node.additionalProperties !== undefined)
            untyped.push(`${path} (properties with additionalProperties)`);
        });
        expect(untyped).to.deep.equal([]);
      });
    });
  }
});
