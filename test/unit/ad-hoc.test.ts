import { expect } from 'chai';
import { adHocExpiry } from '../../controller/pipeline/ad-hoc.js';
import type { History } from '../../controller/pipeline/history.js';
import type { PipelineObject } from '../../controller/objects.js';

const T = Date.UTC(2026, 10, 30, 12);

function pipelineWith(
  labels: Record<string, string>,
  annotations: Record<string, string> = {},
  deleting = false,
): PipelineObject {
  return {
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPipeline',
    metadata: {
      name: 'tap-adhoc-x1y2z',
      namespace: 'team-a',
      uid: 'u',
      labels,
      annotations,
      ...(deleting && { deletionTimestamp: new Date(T) }),
    },
    spec: { steps: [{ name: 'run', plugin: 'tap' }] },
  } as unknown as PipelineObject;
}

function historyWith(...finishedAt: (number | undefined)[]): History {
  return { runs: finishedAt.map((f, i) => ({ id: `g${i}`, finishedAt: f })) } as unknown as History;
}

describe('ad hoc pipelines: deleted a TTL after their run finished', () => {
  const adHoc = { 'flexcore.io/ad-hoc': 'true' };
  const ttl = (s: string): Record<string, string> => ({ 'flexcore.io/ttl-seconds-after-finished': s });

  const cases: [string, PipelineObject, History, number, ReturnType<typeof adHocExpiry>][] = [
    ['not ad hoc', pipelineWith({}), historyWith(T - 1e7), T, undefined],
    ['no run yet', pipelineWith(adHoc, ttl('60')), historyWith(), T, undefined],
    ['its run still active', pipelineWith(adHoc, ttl('60')), historyWith(undefined), T, undefined],
    ['already being deleted', pipelineWith(adHoc, ttl('0'), true), historyWith(T - 1000), T, undefined],
    [
      'finished, TTL running',
      pipelineWith(adHoc, ttl('60')),
      historyWith(T - 10_000),
      T,
      { deleteAt: T + 50_000 },
    ],
    ['finished, TTL over', pipelineWith(adHoc, ttl('60')), historyWith(T - 60_000), T, { deleteNow: true }],
    ['TTL 0', pipelineWith(adHoc, ttl('0')), historyWith(T), T, { deleteNow: true }],
    ['no TTL: one hour', pipelineWith(adHoc), historyWith(T), T, { deleteAt: T + 3_600_000 }],
    ['a bad TTL: one hour', pipelineWith(adHoc, ttl('soon')), historyWith(T), T, { deleteAt: T + 3_600_000 }],
  ];
  for (const [name, p, h, now, expected] of cases) {
    it(`${name}: ${JSON.stringify(expected)}`, () => {
      expect(adHocExpiry(p, h, now)).to.deep.equal(expected);
    });
  }
});
