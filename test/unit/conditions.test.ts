import { expect } from 'chai';
import type { Condition } from '../../api/v1alpha1/index.js';
import { mergeConditions, type ConditionUpdate } from '../../controller/conditions.js';

const EARLIER = '2025-01-01T00:00:00Z';
const NOW = Date.parse('2025-03-01T12:34:56.789Z');
const NOW_TEXT = '2025-03-01T12:34:56Z'; // RFC 3339 in whole seconds, as Kubernetes writes it

const ready: ConditionUpdate = { type: 'Ready', status: 'True', reason: 'Valid', message: 'ok' };
const previous: Condition[] = [
  {
    type: 'Ready',
    status: 'True',
    reason: 'Valid',
    message: 'ok',
    observedGeneration: 1,
    lastTransitionTime: EARLIER,
  },
  {
    type: 'Running',
    status: 'False',
    reason: 'NoRuns',
    message: 'none',
    observedGeneration: 1,
    lastTransitionTime: EARLIER,
  },
];

describe('mergeConditions', () => {
  it('stamps new conditions with the generation and now, in whole seconds', () => {
    expect(mergeConditions(undefined, [ready], 3, NOW)).to.deep.equal([
      { ...ready, observedGeneration: 3, lastTransitionTime: NOW_TEXT },
    ]);
  });

  it('keeps the transition time while the status stays, taking the new reason, message and generation', () => {
    const update: ConditionUpdate = {
      type: 'Ready',
      status: 'True',
      reason: 'StillValid',
      message: 'still ok',
    };
    expect(mergeConditions(previous, [update], 2, NOW)).to.deep.equal([
      { ...update, observedGeneration: 2, lastTransitionTime: EARLIER },
    ]);
  });

  it('moves the transition time when the status changes', () => {
    const update: ConditionUpdate = { type: 'Running', status: 'True', reason: 'RunActive', message: 'run' };
    expect(
      mergeConditions(previous, [ready, update], 2, NOW).map((c) => [c.type, c.lastTransitionTime]),
    ).to.deep.equal([
      ['Ready', EARLIER],
      ['Running', NOW_TEXT],
    ]);
  });

  it('treats Unknown as a status of its own', () => {
    const update: ConditionUpdate = { type: 'Ready', status: 'Unknown', reason: 'Checking', message: '?' };
    expect(mergeConditions(previous, [update], 1, NOW)[0]!.lastTransitionTime).to.equal(NOW_TEXT);
  });

  it('returns the updates in their order and leaves the previous list as it was', () => {
    const before = structuredClone(previous);
    const updates: ConditionUpdate[] = [
      { type: 'Running', status: 'False', reason: 'NoRuns', message: 'none' },
      ready,
    ];
    expect(
      mergeConditions(previous, updates, undefined, NOW).map((c) => [c.type, c.observedGeneration]),
    ).to.deep.equal([
      ['Running', undefined],
      ['Ready', undefined],
    ]);
    expect(previous).to.deep.equal(before);
  });
});
