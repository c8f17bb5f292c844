import { expect } from 'chai';
import { findCycle } from '../../api/v1alpha1/graph.js';

describe('findCycle', () => {
  const cases: {
    name: string;
    nodes: { name: string; dependsOn?: string[] }[];
    cycle: string[] | undefined;
  }[] = [
    { name: 'single step', nodes: [{ name: 'a' }], cycle: undefined },
    {
      name: 'chain',
      nodes: [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }, { name: 'c', dependsOn: ['b'] }],
      cycle: undefined,
    },
    {
      name: 'diamond',
      nodes: [
        { name: 'a' },
        { name: 'b', dependsOn: ['a'] },
        { name: 'c', dependsOn: ['a'] },
        { name: 'd', dependsOn: ['b', 'c'] },
      ],
      cycle: undefined,
    },
    { name: 'self loop', nodes: [{ name: 'a', dependsOn: ['a'] }], cycle: ['a', 'a'] },
    {
      name: 'two-cycle',
      nodes: [
        { name: 'a', dependsOn: ['b'] },
        { name: 'b', dependsOn: ['a'] },
      ],
      cycle: ['a', 'b', 'a'],
    },
    {
      name: 'three-cycle behind a root',
      nodes: [
        { name: 'r' },
        { name: 'x', dependsOn: ['r', 'z'] },
        { name: 'y', dependsOn: ['x'] },
        { name: 'z', dependsOn: ['y'] },
      ],
      cycle: ['x', 'z', 'y', 'x'],
    },
    {
      name: 'unknown dependency is not a cycle',
      nodes: [{ name: 'a', dependsOn: ['ghost'] }],
      cycle: undefined,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(findCycle(c.nodes)).to.deep.equal(c.cycle);
    });
  }
});
