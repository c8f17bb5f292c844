import { expect } from 'chai';
import type { FlexPipelineStatus } from '../../api/v1alpha1/index.js';
import { STATUS_COALESCE_MS, statusWriteDelay } from '../../controller/pipeline/status-coalesce.js';

const running: FlexPipelineStatus = {
  observedGeneration: 1,
  phase: 'Running',
  conditions: [
    {
      type: 'Ready',
      status: 'True',
      reason: 'Valid',
      message: 'ok',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    },
  ],
  currentRun: {
    id: 'g1-x',
    trigger: 'Generation',
    phase: 'Running',
    steps: [{ name: 'a', phase: 'Scheduled' }],
  },
  lastEventPosition: '10',
};

describe('statusWriteDelay', () => {
  const T = 1_000_000;

  it('writes the first status at once', () => {
    expect(statusWriteDelay(undefined, running, T)).to.equal(0);
  });

  it('lets progress inside a run wait until a while after the previous write', () => {
    const progressed = {
      ...running,
      currentRun: { ...running.currentRun!, steps: [{ name: 'a', phase: 'Running' as const }] },
      lastEventPosition: '11',
    };
    expect(statusWriteDelay({ status: running, at: T }, progressed, T + 300)).to.equal(
      STATUS_COALESCE_MS - 300,
    );
    expect(statusWriteDelay({ status: running, at: T }, progressed, T + STATUS_COALESCE_MS)).to.equal(0);
  });

  it('writes a new phase, run, generation, request or condition at once', () => {
    const prev = { status: running, at: T };
    const changes: Partial<FlexPipelineStatus>[] = [
      { phase: 'Succeeded' },
      { currentRun: { ...running.currentRun!, id: 'm-1-x' } },
      { observedGeneration: 2 },
      { lastRunRequest: 'again' },
      { conditions: [{ ...running.conditions![0]!, status: 'False', reason: 'PodNameTaken' }] },
    ];
    for (const change of changes)
      expect(statusWriteDelay(prev, { ...running, ...change }, T + 1), JSON.stringify(change)).to.equal(0);
  });
});
