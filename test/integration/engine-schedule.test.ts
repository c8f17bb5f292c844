import { expect } from 'chai';
import type { FlexPipelineStatus } from '../../api/v1alpha1/index.js';
import { pipelineStream } from '../../controller/pipeline/naming.js';
import { eventually, JumpClock, startEngine, type Engine } from './support/engine.js';
import { fake, pipeline, plugin } from './support/manifests.js';

type Pipeline = { metadata: { uid: string }; status?: FlexPipelineStatus };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * An hourly schedule whose tick is half an hour from the real time: the clock the test moves
 * runs on with real time, so a per-minute schedule could tick for real in the middle of a test
 * (seen on a loaded machine) and start a run the test did not ask for.
 */
function hourlyAwayFromNow(): { schedule: string; nextTick: (ms: number, plus?: number) => number } {
  const minute = (new Date().getUTCMinutes() + 30) % 60;
  const nextTick = (ms: number, plus = 1000): number => {
    const hour = Math.floor(ms / HOUR) * HOUR + minute * MINUTE;
    return (hour > ms ? hour : hour + HOUR) + plus;
  };
  return { schedule: `${minute} * * * *`, nextTick };
}

describe('engine: schedules (with a clock the test moves)', function () {
  this.timeout(120_000);
  let engine: Engine;
  let clock = new JumpClock();
  let hourly = hourlyAwayFromNow();
  before(async () => {
    engine = await startEngine({ prefix: 'cron', clock });
    await engine.apply(plugin('work'));
  });
  // A fresh clock per test: a pipeline created "now" must not look created before earlier jumps.
  beforeEach(async () => {
    clock = new JumpClock();
    hourly = hourlyAwayFromNow();
    await engine.restart({ clock });
  });
  after(async () => engine?.stop());

  const status = async (name: string): Promise<FlexPipelineStatus> =>
    (await engine.get<Pipeline>('flexpipeline', name)).status ?? {};
  const poke = (name: string): void =>
    engine.manager.pipelineController.enqueue(`${engine.namespace}/${name}`);
  const jumpToNextTick = (name: string): number => {
    const at = hourly.nextTick(clock.now());
    clock.jumpTo(at);
    poke(name);
    return at - 1000;
  };
  /** Applies an hourly pipeline with one step (`duration` long) and waits for its next tick. */
  const applyHourly = async (
    name: string,
    fields: Record<string, unknown>,
    duration?: string,
  ): Promise<void> => {
    await engine.apply(
      pipeline(name, {
        schedule: hourly.schedule,
        ...fields,
        // A day-long timeout: the test's hour-long jumps must not time the step out.
        steps: [{ name: 's', plugin: 'work', podMetadata: fake(0, duration), timeoutSeconds: 86_400 }],
      }),
    );
    await eventually(async () => (await status(name)).nextScheduleTime);
  };
  const eventsOf = async (name: string): Promise<{ type: string; data: Record<string, unknown> }[]> => {
    const p = await engine.get<Pipeline>('flexpipeline', name);
    return engine.manager.store.readStream(pipelineStream(p.metadata.uid));
  };

  it('fires on its cron schedule, and not before', async () => {
    await engine.apply(
      pipeline('hourly', {
        schedule: hourly.schedule,
        steps: [{ name: 's', plugin: 'work', podMetadata: fake() }],
      }),
    );
    const idle = await eventually(async () => {
      const s = await status('hourly');
      return s.nextScheduleTime !== undefined && s;
    });
    expect(idle.phase).to.equal('Idle');
    expect(idle.lastRun).to.equal(undefined);
    const tick = jumpToNextTick('hourly');
    const s = await eventually(async () => {
      const s = await status('hourly');
      return s.lastRun?.phase === 'Succeeded' && s;
    });
    expect(s.lastRun!.trigger).to.equal('Schedule');
    expect(Date.parse(s.lastScheduleTime!)).to.be.within(tick, tick + 5000);
    expect(Date.parse(s.nextScheduleTime!)).to.equal(tick + HOUR);
  });

  it('Forbid skips a tick while the previous run still runs', async () => {
    await applyHourly('forbid', { concurrencyPolicy: 'Forbid' }, '1h');
    jumpToNextTick('forbid');
    const first = await eventually(
      async () =>
        (await status('forbid')).currentRun?.steps?.[0]?.phase === 'Running' &&
        (await status('forbid')).currentRun,
    );
    const skipped = jumpToNextTick('forbid');
    const events = await eventually(async () => {
      const evs = await eventsOf('forbid');
      return evs.some((e) => e.type === 'ScheduleTickSkipped') && evs;
    });
    expect(events.find((e) => e.type === 'ScheduleTickSkipped')!.data).to.include({
      tickMs: skipped,
      reason: 'ConcurrencyForbid',
    });
    expect(events.filter((e) => e.type === 'RunStarted')).to.have.length(1);
    expect((await status('forbid')).currentRun!.id).to.equal(first.id);
  });

  it('Replace cancels the running run and starts the new one', async () => {
    await applyHourly('replace', { concurrencyPolicy: 'Replace' }, '1h');
    jumpToNextTick('replace');
    const first = await eventually(async () => (await status('replace')).currentRun);
    jumpToNextTick('replace');
    const s = await eventually(async () => {
      const s = await status('replace');
      return s.currentRun && s.currentRun.id !== first.id && s.lastRun?.id === first.id && s;
    });
    expect(s.lastRun).to.include({ phase: 'Cancelled' });
    expect(s.lastRun!.steps![0]).to.include({ phase: 'Cancelled', reason: 'Replaced' });
  });

  it('after downtime, runs the latest missed tick once, inside startingDeadlineSeconds', async () => {
    await applyHourly('catch-up', { startingDeadlineSeconds: 300 });
    await engine.manager.stop();
    // Ten ticks missed while the controller is down, the latest 10 s ago.
    const latest = hourly.nextTick(clock.now(), 0) + 9 * HOUR;
    clock.jumpTo(latest + 10_000);
    await engine.restart({ clock });
    const s = await eventually(async () => {
      const s = await status('catch-up');
      return s.lastRun?.phase === 'Succeeded' && s;
    });
    const events = await eventsOf('catch-up');
    const started = events.filter((e) => e.type === 'RunStarted');
    expect(started).to.have.length(1);
    expect(started[0]!.data.tickMs).to.equal(latest);
    expect(s.lastRun!.trigger).to.equal('Schedule');
  });

  it('after downtime, skips a missed tick older than startingDeadlineSeconds', async () => {
    await applyHourly('too-late', { startingDeadlineSeconds: 10 });
    await engine.manager.stop();
    clock.jumpTo(hourly.nextTick(clock.now(), 30_000)); // 30 s after the missed tick: too late
    await engine.restart({ clock });
    const events = await eventually(async () => {
      const evs = await eventsOf('too-late');
      return evs.some((e) => e.type === 'ScheduleTickSkipped') && evs;
    });
    expect(events.find((e) => e.type === 'ScheduleTickSkipped')!.data.reason).to.equal(
      'StartingDeadlineExceeded',
    );
    expect(events.filter((e) => e.type === 'RunStarted')).to.have.length(0);
  });

  it('suspend starts nothing; runs-requested still wait; a new annotation value starts a manual run', async () => {
    await engine.apply(
      pipeline('manual', {
        schedule: '0 0 1 1 *',
        steps: [{ name: 's', plugin: 'work', podMetadata: fake() }],
      }),
    );
    await engine.kubectl(['annotate', 'flexpipeline', 'manual', 'flexcore.io/run-requested=first']);
    const s = await eventually(async () => {
      const s = await status('manual');
      return s.lastRun?.phase === 'Succeeded' && s;
    });
    expect(s.lastRun!.trigger).to.equal('Manual');
    expect(s.lastRunRequest).to.equal('first');
    await engine.kubectl([
      'patch',
      'flexpipeline',
      'manual',
      '--type=merge',
      '-p',
      '{"spec":{"suspend":true}}',
    ]);
    await engine.kubectl([
      'annotate',
      '--overwrite',
      'flexpipeline',
      'manual',
      'flexcore.io/run-requested=second',
    ]);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await eventsOf('manual')).filter((e) => e.type === 'RunStarted')).to.have.length(1);
    await engine.kubectl([
      'patch',
      'flexpipeline',
      'manual',
      '--type=merge',
      '-p',
      '{"spec":{"suspend":false}}',
    ]);
    await eventually(async () => (await status('manual')).lastRunRequest === 'second');
    expect((await eventsOf('manual')).filter((e) => e.type === 'RunStarted')).to.have.length(2);
  });
});
