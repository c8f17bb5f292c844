import { expect } from 'chai';
import { mergePatch } from '../../controller/apply/merge-patch.js';

/** RFC 7386 MergePatch(target, patch), to check that a computed patch really leads to `to`. */
function apply(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = apply(result[key], value);
  }
  return result;
}

describe('mergePatch (RFC 7386)', () => {
  const cases: [string, unknown, unknown, unknown][] = [
    ['nothing for equal objects', { a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 2] } }, undefined],
    ['nothing for equal scalars', 'x', 'x', undefined],
    ['a changed field', { a: 1, b: 2 }, { a: 1, b: 3 }, { b: 3 }],
    ['an added field', { a: 1 }, { a: 1, b: { c: 1 } }, { b: { c: 1 } }],
    ['null for a removed field', { a: 1, b: 2 }, { a: 1 }, { b: null }],
    [
      'only the nested change',
      { s: { phase: 'Running', n: 1 } },
      { s: { phase: 'Failed', n: 1 } },
      { s: { phase: 'Failed' } },
    ],
    ['null for a removed nested field', { s: { a: 1, b: 2 } }, { s: { a: 1 } }, { s: { b: null } }],
    ['a whole array when any element changes', { l: [1, 2, 3] }, { l: [1, 2] }, { l: [1, 2] }],
    [
      'a whole array of objects when one changes',
      {
        c: [
          { type: 'Ready', status: 'True' },
          { type: 'Running', status: 'False' },
        ],
      },
      {
        c: [
          { type: 'Ready', status: 'True' },
          { type: 'Running', status: 'True' },
        ],
      },
      {
        c: [
          { type: 'Ready', status: 'True' },
          { type: 'Running', status: 'True' },
        ],
      },
    ],
    ['an object replacing a scalar', { a: 1 }, { a: { b: 1 } }, { a: { b: 1 } }],
    ['a scalar replacing an object', { a: { b: 1 } }, { a: 1 }, { a: 1 }],
    ['the new document when the old one is not an object', null, { a: 1 }, { a: 1 }],
    ['everything removed', { a: 1, b: { c: 2 } }, {}, { a: null, b: null }],
  ];
  for (const [what, from, to, patch] of cases) {
    it(`gives ${what}`, () => {
      expect(mergePatch(from, to)).to.deep.equal(patch);
      if (patch !== undefined) expect(apply(from, patch)).to.deep.equal(to);
    });
  }

  it('ignores key order', () => {
    expect(mergePatch({ a: 1, b: { c: 1, d: 2 } }, { b: { d: 2, c: 1 }, a: 1 })).to.equal(undefined);
  });

  it('never changes its inputs', () => {
    const from = { a: { b: 1 }, l: [1] };
    const to = { a: { c: 2 }, l: [2] };
    const [f, t] = [structuredClone(from), structuredClone(to)];
    mergePatch(from, to);
    expect([from, to]).to.deep.equal([f, t]);
  });
});
