import { expect } from 'chai';
import {
  LabelSelectorError,
  matchesLabels,
  parseLabelSelector,
} from '../../controller/kube/label-selector.js';

describe('label selectors (kubectl -l syntax)', () => {
  const cases: [string, Record<string, string>, boolean][] = [
    ['', { a: '1' }, true],
    ['tier=gold', { tier: 'gold' }, true],
    ['tier==gold', { tier: 'silver' }, false],
    ['tier!=gold', {}, true],
    ['tier!=gold', { tier: 'gold' }, false],
    ['tier in (gold, silver)', { tier: 'silver' }, true],
    ['tier notin (gold,silver)', { tier: 'bronze' }, true],
    ['tier notin (gold)', { tier: 'gold' }, false],
    ['tier', { tier: '' }, true],
    ['!tier', { tier: 'x' }, false],
    [
      'app.kubernetes.io/part-of=etl,tier in (gold)',
      { 'app.kubernetes.io/part-of': 'etl', tier: 'gold' },
      true,
    ],
    [
      'app.kubernetes.io/part-of=etl,tier in (gold)',
      { 'app.kubernetes.io/part-of': 'etl', tier: 'x' },
      false,
    ],
  ];
  for (const [selector, labels, expected] of cases) {
    it(`"${selector}" ${expected ? 'matches' : 'does not match'} ${JSON.stringify(labels)}`, () => {
      expect(matchesLabels(parseLabelSelector(selector), labels)).to.equal(expected);
    });
  }

  for (const bad of [
    'tier in (gold',
    'tier=gold)',
    'tier=go ld',
    '=gold',
    'a,,b',
    '-bad!=x',
    'tier in (a b)',
  ]) {
    it(`refuses "${bad}"`, () => {
      expect(() => parseLabelSelector(bad)).to.throw(LabelSelectorError);
    });
  }
});
