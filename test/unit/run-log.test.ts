/** Log lines of run transitions: the fields log tools join on, and the trace ids when tracing. */
import { expect } from 'chai';
import { runLogLines } from '../../controller/pipeline/run-log.js';
import { attemptSpanIdOf, rootSpanIdOf, traceIdOf } from '../../controller/tracing/run-trace.js';

const pipeline = { namespace: 'data', name: 'orders' };
const runId = 'g1-3f9c1e2a';
const events = [
  { id: '1', type: 'RunStarted', data: { runId, trigger: 'Manual', spec: { steps: [] }, at: 'x' } },
  { id: '2', type: 'StepAttemptScheduled', data: { runId, step: 'el', attempt: 2, pod: 'orders-m-el-2' } },
  { id: '3', type: 'SingerStateCaptured', data: { runId, step: 'el', attempt: 2, state: { secret: 'no' } } },
  {
    id: '4',
    type: 'StepAttemptFinished',
    data: { runId, step: 'el', attempt: 2, phase: 'Failed', exitCode: 3 },
  },
  { id: '5', type: 'RunFinished', data: { runId, phase: 'Failed', reason: 'StepFailed' } },
];

describe('run log lines', () => {
  it('one line per transition with namespace, pipeline, runId, step and attempt; failures as warnings', () => {
    const lines = runLogLines(pipeline, events, false);
    expect(lines.map((l) => [l.level, l.message])).to.deep.equal([
      ['info', 'run started'],
      ['info', 'step attempt scheduled'],
      ['warn', 'step attempt finished'],
      ['warn', 'run finished'],
    ]);
    expect(lines[0]!.fields).to.deep.equal({
      namespace: 'data',
      pipeline: 'orders',
      runId,
      trigger: 'Manual',
    });
    expect(lines[2]!.fields).to.deep.equal({
      namespace: 'data',
      pipeline: 'orders',
      runId,
      step: 'el',
      attempt: 2,
      phase: 'Failed',
      exitCode: 3,
    });
    expect(JSON.stringify(lines), 'no spec, state or config in a log line').to.not.match(/spec|secret/);
  });

  it('adds trace_id and span_id when tracing: the attempt’s span for step lines, the root for run lines', () => {
    const [started, scheduled] = runLogLines(pipeline, events, true);
    expect(started!.fields).to.include({ trace_id: traceIdOf(runId), span_id: rootSpanIdOf(runId) });
    expect(scheduled!.fields).to.include({
      trace_id: traceIdOf(runId),
      span_id: attemptSpanIdOf(runId, 'el', 2),
    });
  });
});
