import { expect } from 'chai';
import {
  MAX_FINISHED_RUNS,
  applyEvent,
  emptyHistory,
  foldHistory,
  isActive,
} from '../../controller/pipeline/history.js';
import {
  HOUR,
  MINUTE,
  T0,
  UID8,
  ev,
  fold,
  historyOf,
  iso,
  pipelineObject,
  podOf,
  step,
} from './support/pipeline-fixtures.js';

const spec = pipelineObject({ steps: [step('a'), step('b', { dependsOn: ['a'] })] }).spec;
const RUN = `g1-${UID8}`;

describe('pipeline history (folding the event stream)', () => {
  it('starts empty at version -1', () => {
    expect(emptyHistory()).to.deep.equal({ version: -1, runs: [], deleted: false });
  });

  describe('RunStarted', () => {
    it('adds a pending run with its spec and remembers the generation', () => {
      const h = historyOf(ev.runStarted('g1', spec, T0));
      expect(h.runs).to.deep.equal([
        {
          id: RUN,
          key: 'g1',
          trigger: 'Generation',
          generation: 1,
          startedAt: T0,
          phase: 'Pending',
          fullRefresh: [],
          spec,
          steps: {},
        },
      ]);
      expect(h.lastGeneration).to.equal(1);
      expect(h.version).to.equal(0);
      expect(h.lastPosition).to.equal(1);
    });

    it('never lowers the last generation', () => {
      const h = historyOf(
        ev.runStarted('g3', spec, T0, { trigger: 'Generation', generation: 3 }),
        ev.runStarted('g2', spec, T0, { trigger: 'Generation', generation: 2 }),
      );
      expect(h.lastGeneration).to.equal(3);
    });

    it('remembers the manual request it acted on', () => {
      const h = historyOf(ev.runStarted('m-1', spec, T0, { trigger: 'Manual', request: 'r1' }));
      expect(h.lastRequest).to.equal('r1');
      expect(h.lastGeneration).to.equal(undefined);
    });

    it('remembers the schedule tick and when the schedule last started a run', () => {
      const tickMs = T0 - MINUTE;
      const h = historyOf(ev.runStarted('s-1', spec, T0, { trigger: 'Schedule', tickMs }));
      expect(h.lastTickMs).to.equal(tickMs);
      expect(h.lastScheduleTime).to.equal(T0);
    });

    it('keeps the steps that skip stored Singer state', () => {
      const started = ev.runStarted('g1', spec, T0);
      const h = historyOf({ ...started, data: { ...started.data, fullRefresh: ['a', 'b'] } });
      expect(h.runs[0]!.fullRefresh).to.deep.equal(['a', 'b']);
    });
  });

  it('ScheduleTickSkipped moves the last tick but not the last schedule time', () => {
    const h = historyOf({ type: 'ScheduleTickSkipped', data: { tickMs: T0, reason: 'ConcurrencyForbid' } });
    expect(h.lastTickMs).to.equal(T0);
    expect(h.lastScheduleTime).to.equal(undefined);
    expect(h.runs).to.deep.equal([]);
  });

  describe('step attempts', () => {
    it('follow an attempt from scheduled to finished, and the run to running', () => {
      const h = historyOf(
        ev.runStarted('g1', spec, T0),
        ev.scheduled('g1', 'a', T0 + 1000),
        ev.started('g1', 'a', T0 + 5000),
        ev.finished('g1', 'a', T0 + 9000, { phase: 'Failed', exitCode: 3, reason: 'ExitCode3' }),
      );
      const run = h.runs[0]!;
      expect(run.phase).to.equal('Running');
      expect(run.steps).to.deep.equal({
        a: {
          attempts: [
            {
              attempt: 1,
              pod: podOf('g1', 'a'),
              scheduledAt: T0 + 1000,
              startedAt: T0 + 5000,
              finishedAt: T0 + 9000,
              phase: 'Failed',
              exitCode: 3,
              reason: 'ExitCode3',
            },
          ],
        },
      });
    });

    it('ignore a repeated schedule, a start after the finish and a second finish', () => {
      const h = historyOf(
        ev.runStarted('g1', spec, T0),
        ev.scheduled('g1', 'a', T0),
        ev.scheduled('g1', 'a', T0 + 1),
        ev.finished('g1', 'a', T0 + 2, { phase: 'Succeeded', exitCode: 0 }),
        ev.started('g1', 'a', T0 + 3),
        ev.finished('g1', 'a', T0 + 4, { phase: 'Failed', exitCode: 1 }),
      );
      expect(h.runs[0]!.steps.a!.attempts).to.deep.equal([
        {
          attempt: 1,
          pod: podOf('g1', 'a'),
          scheduledAt: T0,
          finishedAt: T0 + 2,
          phase: 'Succeeded',
          exitCode: 0,
          reason: undefined,
        },
      ]);
    });

    it('keep every attempt of a retried step', () => {
      const h = historyOf(
        ev.runStarted('g1', spec, T0),
        ev.scheduled('g1', 'a', T0),
        ev.finished('g1', 'a', T0 + 1, { phase: 'Failed', exitCode: 1 }),
        ev.scheduled('g1', 'a', T0 + 2, 2),
      );
      expect(h.runs[0]!.steps.a!.attempts.map((a) => [a.attempt, a.pod, a.phase])).to.deep.equal([
        [1, podOf('g1', 'a', 1), 'Failed'],
        [2, podOf('g1', 'a', 2), 'Scheduled'],
      ]);
    });

    it('of an unknown run change nothing but the version', () => {
      const h = historyOf(
        ev.runStarted('g1', spec, T0),
        ev.scheduled('g9', 'a', T0),
        ev.skipped('g9', 'a', 'X', T0),
      );
      expect(h.runs[0]!.steps).to.deep.equal({});
      expect(h.runs[0]!.phase).to.equal('Pending');
      expect(h.version).to.equal(2);
    });
  });

  it('StepSkipped records why and when', () => {
    const h = historyOf(ev.runStarted('g1', spec, T0), ev.skipped('g1', 'b', 'UpstreamFailed', T0 + 5));
    expect(h.runs[0]!.steps.b).to.deep.equal({
      attempts: [],
      skipped: { reason: 'UpstreamFailed', at: T0 + 5 },
    });
  });

  describe('RunFinished', () => {
    it('ends the run with its phase, reason and time', () => {
      const h = historyOf(
        ev.runStarted('g1', spec, T0),
        ev.runFinished('g1', 'Failed', T0 + HOUR, 'StepFailed'),
      );
      const run = h.runs[0]!;
      expect([run.phase, run.reason, run.finishedAt, isActive(run)]).to.deep.equal([
        'Failed',
        'StepFailed',
        T0 + HOUR,
        false,
      ]);
    });

    it('is final: a second RunFinished does not change the outcome', () => {
      const h = historyOf(
        ev.runStarted('g1', spec, T0),
        ev.runFinished('g1', 'Cancelled', T0 + 1, 'Cancelled'),
        ev.runFinished('g1', 'Succeeded', T0 + 2),
      );
      expect([h.runs[0]!.phase, h.runs[0]!.reason, h.runs[0]!.finishedAt]).to.deep.equal([
        'Cancelled',
        'Cancelled',
        T0 + 1,
      ]);
    });

    // DESIGN: "Transitions out of a terminal state are impossible."
    it('is final: a late StepAttemptScheduled does not reopen a finished run', () => {
      const h = historyOf(
        ev.runStarted('g1', spec, T0),
        ev.runFinished('g1', 'Cancelled', T0 + 1, 'Cancelled'),
        ev.scheduled('g1', 'a', T0 + 2),
      );
      expect(h.runs[0]!.phase).to.equal('Cancelled');
      expect(isActive(h.runs[0]!)).to.equal(false);
    });
  });

  it('PipelineDeleted marks the history deleted', () => {
    expect(historyOf({ type: 'PipelineDeleted', data: {} }).deleted).to.equal(true);
  });

  it('unknown event types only advance the version and position', () => {
    const h = historyOf(ev.runStarted('g1', spec, T0), { type: 'LogTailCaptured', data: { runId: RUN } });
    expect([h.version, h.lastPosition, h.runs.length]).to.deep.equal([1, 2, 1]);
  });

  it('takes event times from `at`, else from when the event was recorded', () => {
    const h = emptyHistory();
    const { data } = ev.runStarted('g1', spec, T0);
    const { at: _at, ...withoutAt } = data;
    applyEvent(h, {
      type: 'RunStarted',
      data: withoutAt,
      recordedAt: new Date(T0 + 7),
      streamVersion: 0,
      position: 9,
    });
    expect(h.runs[0]!.startedAt).to.equal(T0 + 7);
    expect(h.lastPosition).to.equal(9);
  });

  it('folds onto a copy, never into the base', () => {
    const base = historyOf(ev.runStarted('g1', spec, T0));
    const before = structuredClone(base);
    const after = fold(base, [ev.scheduled('g1', 'a', T0), ev.runFinished('g1', 'Succeeded', T0)]);
    expect(base).to.deep.equal(before);
    expect(after.runs[0]!.phase).to.equal('Succeeded');
    const copy = foldHistory([], base);
    expect(copy).to.deep.equal(base);
    expect(copy).to.not.equal(base);
  });

  it('keeps every active run and only the finished runs its history limits need, and one more', () => {
    const limited = { ...spec, successfulRunsHistoryLimit: 3, failedRunsHistoryLimit: 2 };
    const events = [ev.runStarted('g0', limited, T0)]; // stays active
    for (let i = 1; i <= 20; i++) {
      events.push(ev.runStarted(`g${i}`, limited, T0 + i), ev.runFinished(`g${i}`, 'Succeeded', T0 + i));
    }
    const h = historyOf(...events);
    expect(h.runs.map((r) => r.key)).to.deep.equal(['g0', 'g15', 'g16', 'g17', 'g18', 'g19', 'g20']);
    expect(iso(h.runs[1]!.startedAt)).to.equal(iso(T0 + 15));
  });

  it(`holds at most ${MAX_FINISHED_RUNS} finished runs, for the largest limits`, () => {
    const largest = { ...spec, successfulRunsHistoryLimit: 100, failedRunsHistoryLimit: 100 };
    const events = [];
    for (let i = 1; i <= MAX_FINISHED_RUNS + 5; i++) {
      events.push(ev.runStarted(`g${i}`, largest, T0 + i), ev.runFinished(`g${i}`, 'Succeeded', T0 + i));
    }
    const h = historyOf(...events);
    expect(h.runs.length).to.equal(MAX_FINISHED_RUNS);
    expect(h.runs[0]!.key).to.equal('g6');
  });
});
