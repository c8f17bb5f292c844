import { expect } from 'chai';
import { latestTick, nextTick } from '../../controller/pipeline/cron.js';
import type { History } from '../../controller/pipeline/history.js';
import type { RunCause } from '../../controller/pipeline/naming.js';
import type { PipelineObject } from '../../controller/objects.js';
import { decideTrigger, nextScheduleTime, type TriggerDecision } from '../../controller/pipeline/triggers.js';
import {
  HOUR,
  MINUTE,
  SECOND,
  UID8,
  annotate,
  ev,
  historyOf,
  pipelineObject,
  step,
} from './support/pipeline-fixtures.js';

const at = (text: string): number => Date.parse(text);
const BERLIN = 'Europe/Berlin';

describe('schedule ticks (cron)', () => {
  it('latestTick is the last tick at or before now; nextTick the first one after', () => {
    const now = at('2025-01-01T10:00:00Z');
    expect(latestTick('0 * * * *', undefined, now)).to.equal(now);
    expect(latestTick('0 * * * *', undefined, now - 1)).to.equal(now - HOUR);
    expect(nextTick('0 * * * *', undefined, now)).to.equal(now + HOUR);
    expect(nextTick('*/15 * * * *', 'UTC', now + 1)).to.equal(now + 15 * MINUTE);
  });

  it('expands descriptors the way CronJobs do', () => {
    const now = at('2025-01-01T10:20:00Z');
    expect(latestTick('@hourly', undefined, now)).to.equal(at('2025-01-01T10:00:00Z'));
    expect(nextTick('@daily', undefined, now)).to.equal(at('2025-01-02T00:00:00Z'));
  });

  it('has no tick for a date that never exists', () => {
    expect(nextTick('0 0 31 2 *', undefined, at('2025-01-01T00:00:00Z'))).to.equal(undefined);
  });

  describe('in Europe/Berlin across DST', () => {
    // 03:00 local is 02:00Z in winter (CET) and 01:00Z in summer (CEST).
    const daily3: [string, string, string][] = [
      ['2025-03-29T12:00:00Z', '2025-03-29T02:00:00Z', '2025-03-30T01:00:00Z'],
      ['2025-03-30T12:00:00Z', '2025-03-30T01:00:00Z', '2025-03-31T01:00:00Z'],
      ['2025-10-25T12:00:00Z', '2025-10-25T01:00:00Z', '2025-10-26T02:00:00Z'],
      ['2025-10-26T12:00:00Z', '2025-10-26T02:00:00Z', '2025-10-27T02:00:00Z'],
    ];
    for (const [now, latest, next] of daily3) {
      it(`0 3 * * * at ${now}: last ${latest}, next ${next}`, () => {
        expect(new Date(latestTick('0 3 * * *', BERLIN, at(now))!).toISOString()).to.equal(
          new Date(latest).toISOString(),
        );
        expect(new Date(nextTick('0 3 * * *', BERLIN, at(now))!).toISOString()).to.equal(
          new Date(next).toISOString(),
        );
      });
    }

    /** Ticks of `schedule` in [from, to). */
    function ticks(schedule: string, from: string, to: string): string[] {
      const out: string[] = [];
      for (let t = nextTick(schedule, BERLIN, at(from) - 1); t !== undefined && t < at(to);) {
        out.push(new Date(t).toISOString());
        t = nextTick(schedule, BERLIN, t);
      }
      return out;
    }

    it('an hourly schedule fires 23 times on the spring-forward day and 25 times on the fall-back day', () => {
      // Local midnight to local midnight.
      expect(ticks('0 * * * *', '2025-03-29T23:00:00Z', '2025-03-30T22:00:00Z')).to.have.length(23);
      expect(ticks('0 * * * *', '2025-10-25T22:00:00Z', '2025-10-26T23:00:00Z')).to.have.length(25);
    });

    it('a daily 02:30 job still runs once on the day 02:30 does not exist (right after the gap)', () => {
      expect(ticks('30 2 * * *', '2025-03-29T23:00:00Z', '2025-03-30T22:00:00Z')).to.deep.equal([
        '2025-03-30T01:00:00.000Z',
      ]);
    });

    it('a daily 02:30 job runs once, not twice, on the day 02:30 happens twice', () => {
      expect(ticks('30 2 * * *', '2025-10-25T22:00:00Z', '2025-10-26T23:00:00Z')).to.deep.equal([
        '2025-10-26T00:30:00.000Z',
      ]);
      // After the second 02:30 (01:30Z) the latest tick is still the first one: no second run.
      expect(latestTick('30 2 * * *', BERLIN, at('2025-10-26T01:45:00Z'))).to.equal(
        at('2025-10-26T00:30:00Z'),
      );
    });
  });
});

describe('decideTrigger (which run is due)', () => {
  const NOW = at('2025-03-01T12:00:30Z');
  const TICK = at('2025-03-01T12:00:00Z');
  const steps = [step('a')];
  const hourly = { steps, schedule: '0 * * * *' };
  const spec = pipelineObject({ steps }).spec;
  /** A history whose only run (`key`) is still active. */
  const activeRun = (key = 'g1'): History => historyOf(ev.runStarted(key, spec, NOW - HOUR));
  const decide = (p: PipelineObject, history: History = historyOf(), now = NOW): TriggerDecision =>
    decideTrigger({ pipeline: p, history, now });
  // Only what names the run matters here; a manual cause may carry more to keep run ids unique.
  const causeOf = (d: TriggerDecision): RunCause | undefined => (d.kind === 'start' ? d.cause : undefined);

  describe('without a schedule: once per spec generation', () => {
    it('starts generation 1 of a new pipeline', () => {
      expect(decide(pipelineObject({ steps }))).to.deep.equal({
        kind: 'start',
        cause: { trigger: 'Generation', generation: 1 },
        replace: [],
      });
    });
    it('does not run a generation twice', () => {
      const done = historyOf(ev.runStarted('g1', spec, NOW), ev.runFinished('g1', 'Succeeded', NOW));
      expect(decide(pipelineObject({ steps }), done)).to.deep.equal({ kind: 'none' });
    });
    it('runs a newer generation', () => {
      const done = historyOf(ev.runStarted('g1', spec, NOW), ev.runFinished('g1', 'Succeeded', NOW));
      expect(decide(pipelineObject({ steps }, { generation: 4 }), done)).to.deep.equal({
        kind: 'start',
        cause: { trigger: 'Generation', generation: 4 },
        replace: [],
      });
    });
  });

  describe('the run-requested annotation', () => {
    it('starts a manual run for a new value (trimmed)', () => {
      const p = pipelineObject(hourly, { annotations: annotate.request('  2025-03-01T12:00Z ') });
      const h = historyOf({ type: 'ScheduleTickSkipped', data: { tickMs: TICK } });
      const d = decide(p, h);
      expect(d).to.deep.include({ kind: 'start', replace: [] });
      expect(causeOf(d)).to.deep.include({ trigger: 'Manual', request: '2025-03-01T12:00Z' });
    });
    it('comes before a pending generation', () => {
      const p = pipelineObject({ steps }, { annotations: annotate.request('r1') });
      expect(causeOf(decide(p))).to.deep.include({ trigger: 'Manual', request: 'r1' });
    });
    it('does nothing for the value already acted on, or an empty value', () => {
      const acted = historyOf(
        ev.runStarted('m-1', spec, NOW, { trigger: 'Manual', request: 'r1' }),
        ev.runFinished('m-1', 'Succeeded', NOW),
        ev.runStarted('g1', spec, NOW),
        ev.runFinished('g1', 'Succeeded', NOW),
      );
      expect(decide(pipelineObject({ steps }, { annotations: annotate.request('r1') }), acted)).to.deep.equal(
        {
          kind: 'none',
        },
      );
      expect(decide(pipelineObject({ steps }, { annotations: annotate.request('  ') }), acted)).to.deep.equal(
        {
          kind: 'none',
        },
      );
    });
  });

  describe('a schedule', () => {
    it('starts the tick that is due, and no generation run', () => {
      expect(decide(pipelineObject(hourly))).to.deep.equal({
        kind: 'start',
        cause: { trigger: 'Schedule', tickMs: TICK },
        replace: [],
      });
    });
    it('acts on each tick once', () => {
      const h = historyOf(ev.runStarted('s-1', spec, NOW, { trigger: 'Schedule', tickMs: TICK }));
      const finished = historyOf(
        ev.runStarted('s-1', spec, NOW, { trigger: 'Schedule', tickMs: TICK }),
        ev.runFinished('s-1', 'Succeeded', NOW),
      );
      expect(decide(pipelineObject(hourly), finished)).to.deep.equal({ kind: 'none' });
      expect(decide(pipelineObject({ ...hourly, concurrencyPolicy: 'Allow' }), h)).to.deep.equal({
        kind: 'none',
      });
    });
    it('ignores ticks from before the pipeline existed', () => {
      expect(decide(pipelineObject(hourly, { created: '2025-03-01T12:00:10Z' }))).to.deep.equal({
        kind: 'none',
      });
    });
    it('after downtime starts only the latest missed tick, once', () => {
      const h = historyOf({ type: 'ScheduleTickSkipped', data: { tickMs: TICK - 6 * HOUR } });
      const d = decide(pipelineObject(hourly), h, NOW + 10 * MINUTE);
      expect(d).to.deep.equal({ kind: 'start', cause: { trigger: 'Schedule', tickMs: TICK }, replace: [] });
      const after = historyOf(
        { type: 'ScheduleTickSkipped', data: { tickMs: TICK - 6 * HOUR } },
        ev.runStarted('s-x', spec, NOW + 10 * MINUTE, { trigger: 'Schedule', tickMs: TICK }),
        ev.runFinished('s-x', 'Succeeded', NOW + 20 * MINUTE),
      );
      expect(decide(pipelineObject(hourly), after, NOW + 30 * MINUTE)).to.deep.equal({ kind: 'none' });
    });

    const deadlines: [string, string, number, number, string][] = [
      ['within startingDeadlineSeconds', '0 * * * *', 60, 30 * SECOND, 'start'],
      ['exactly at startingDeadlineSeconds', '0 * * * *', 30, 30 * SECOND, 'start'],
      ['after startingDeadlineSeconds', '0 * * * *', 29, 30 * SECOND, 'skipTick'],
      ['missed during 5 hours of downtime', '0 12 * * *', 300, 5 * HOUR, 'skipTick'],
      [
        'missed during 5 hours of downtime, with a 6-hour deadline',
        '0 12 * * *',
        6 * 3600,
        5 * HOUR,
        'start',
      ],
    ];
    for (const [what, schedule, seconds, late, kind] of deadlines) {
      it(`${kind === 'start' ? 'starts' : 'skips'} a tick ${what}`, () => {
        const p = pipelineObject({ steps, schedule, startingDeadlineSeconds: seconds });
        const h = historyOf({ type: 'ScheduleTickSkipped', data: { tickMs: TICK - 24 * HOUR } });
        expect(decide(p, h, TICK + late)).to.deep.equal(
          kind === 'start'
            ? { kind: 'start', cause: { trigger: 'Schedule', tickMs: TICK }, replace: [] }
            : { kind: 'skipTick', tickMs: TICK, reason: 'StartingDeadlineExceeded' },
        );
      });
    }

    it('fires at local time in its time zone (Europe/Berlin, summer time)', () => {
      const p = pipelineObject({ steps, schedule: '0 3 * * *', timeZone: BERLIN });
      expect(decide(p, historyOf(), at('2025-03-30T01:00:30Z'))).to.deep.equal({
        kind: 'start',
        cause: { trigger: 'Schedule', tickMs: at('2025-03-30T01:00:00Z') },
        replace: [],
      });
      expect(decide(p, historyOf(), at('2025-03-30T00:59:59Z'))).to.deep.include({
        cause: { trigger: 'Schedule', tickMs: at('2025-03-29T02:00:00Z') },
      });
    });
  });

  describe('suspend and deletion', () => {
    it('suspend starts nothing: no tick, no request, no generation', () => {
      const p = pipelineObject({ ...hourly, suspend: true }, { annotations: annotate.request('r1') });
      expect(decide(p)).to.deep.equal({ kind: 'none' });
      expect(decide(pipelineObject({ steps, suspend: true }))).to.deep.equal({ kind: 'none' });
    });
    it('a deleted pipeline starts nothing', () => {
      expect(decide(pipelineObject(hourly), historyOf({ type: 'PipelineDeleted', data: {} }))).to.deep.equal({
        kind: 'none',
      });
    });
  });

  describe('concurrencyPolicy while a run is active', () => {
    const ACTIVE = `g1-${UID8}`;
    it('Allow starts the new run next to it', () => {
      expect(decide(pipelineObject({ ...hourly, concurrencyPolicy: 'Allow' }), activeRun())).to.deep.equal({
        kind: 'start',
        cause: { trigger: 'Schedule', tickMs: TICK },
        replace: [],
      });
    });
    it('Replace starts the new run in place of every active one', () => {
      const two = historyOf(
        ev.runStarted('g1', spec, NOW),
        ev.runStarted('m-1', spec, NOW, { trigger: 'Manual', request: 'x' }),
      );
      expect(decide(pipelineObject({ ...hourly, concurrencyPolicy: 'Replace' }), two)).to.deep.equal({
        kind: 'start',
        cause: { trigger: 'Schedule', tickMs: TICK },
        replace: [ACTIVE, `m-1-${UID8}`],
      });
    });
    it('Forbid (the default) skips a tick', () => {
      expect(decide(pipelineObject(hourly), activeRun())).to.deep.equal({
        kind: 'skipTick',
        tickMs: TICK,
        reason: 'ConcurrencyForbid',
      });
    });
    it('Forbid lets a manual request wait for its turn', () => {
      const p = pipelineObject(hourly, { annotations: annotate.request('r2') });
      expect(decide(p, activeRun())).to.deep.equal({
        kind: 'none',
        waiting: `a manual run waits for run ${ACTIVE}`,
      });
    });
    it('Forbid lets a new generation wait for its turn', () => {
      expect(decide(pipelineObject({ steps }, { generation: 2 }), activeRun())).to.deep.equal({
        kind: 'none',
        waiting: `a generation run waits for run ${ACTIVE}`,
      });
    });
  });

  describe('nextScheduleTime', () => {
    it('is the next tick of the schedule in its time zone', () => {
      const p = pipelineObject({ steps, schedule: '0 3 * * *', timeZone: BERLIN });
      expect(nextScheduleTime(p, at('2025-10-25T12:00:00Z'))).to.equal(at('2025-10-26T02:00:00Z'));
    });
    it('is undefined without a schedule or while suspended', () => {
      expect(nextScheduleTime(pipelineObject({ steps }), NOW)).to.equal(undefined);
      expect(nextScheduleTime(pipelineObject({ ...hourly, suspend: true }), NOW)).to.equal(undefined);
    });
  });
});
