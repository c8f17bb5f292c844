import { expect } from 'chai';
import type { Condition } from '../../api/v1alpha1/index.js';
import type { PipelineObject } from '../../controller/objects.js';
import type { History } from '../../controller/pipeline/history.js';
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { LABELS } from '../../controller/pipeline/labels.js';
import { observePod, type ObservedPod } from '../../controller/pipeline/observed-pod.js';
import { retryDelayMs } from '../../controller/pipeline/retry.js';
import { computeStatus, type StatusInput } from '../../controller/pipeline/status.js';
import {
  HOUR,
  MINUTE,
  SECOND,
  T0,
  UID8,
  UTILITY,
  ev,
  historyOf,
  observedPod,
  pipelineObject,
  pluginMap,
  podOf,
  step,
} from './support/pipeline-fixtures.js';

/** RFC 3339 in whole seconds, as status shows times. */
const rfc = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const RUN = `g1-${UID8}`;
const NOW = T0 + 10 * MINUTE;

function status(
  pipeline: PipelineObject,
  history: History,
  extra: Partial<Pick<StatusInput, 'pods' | 'invalid' | 'waiting' | 'now'>> = {},
): ReturnType<typeof computeStatus> {
  return computeStatus({ pipeline, plugins: pluginMap(UTILITY), history, pods: [], now: NOW, ...extra });
}

const ready = (generation = 1, time = NOW): Condition => ({
  type: 'Ready',
  status: 'True',
  reason: 'Valid',
  message: 'The pipeline can run.',
  observedGeneration: generation,
  lastTransitionTime: rfc(time),
});

describe('computeStatus', () => {
  const chain = pipelineObject({ steps: [step('a'), step('b', { dependsOn: ['a'] })] });

  it('is Idle before the first run', () => {
    expect(status(chain, historyOf())).to.deep.equal({
      observedGeneration: 1,
      phase: 'Idle',
      conditions: [
        ready(),
        {
          type: 'Running',
          status: 'False',
          reason: 'NoRuns',
          message: 'No run yet.',
          observedGeneration: 1,
          lastTransitionTime: rfc(NOW),
        },
      ],
    });
  });

  it('shows every step of the current run in its phase', () => {
    const p = pipelineObject({
      steps: [
        step('a'),
        step('b', { dependsOn: ['a'] }),
        step('c', { dependsOn: ['b'] }),
        step('d', { retries: { limit: 2 } }),
        step('e'),
      ],
    });
    const h = historyOf(
      ev.runStarted('g1', p.spec, T0),
      ev.scheduled('g1', 'a', T0),
      ev.started('g1', 'a', T0 + SECOND),
      ev.finished('g1', 'a', T0 + MINUTE),
      ev.scheduled('g1', 'b', T0 + MINUTE),
      ev.scheduled('g1', 'd', T0),
      ev.finished('g1', 'd', T0 + 30 * SECOND, { phase: 'Failed', exitCode: 1, reason: 'ExitCode1' }),
      ev.scheduled('g1', 'e', T0),
    );
    // b's start is not recorded yet, but its Pod runs.
    const pods: ObservedPod[] = [observedPod('g1', 'b', { outcome: 'Running', startedAt: T0 + 70 * SECOND })];
    const retryAt = T0 + 30 * SECOND + retryDelayMs(p.spec.steps[3]!.retries, 1, `${RUN}/d/1`);
    const s = status(p, h, { pods });
    expect(s.phase).to.equal('Running');
    expect(s.progress).to.equal('1/5');
    expect(s.lastRun).to.equal(undefined);
    expect(s.currentRun).to.deep.equal({
      id: RUN,
      trigger: 'Generation',
      phase: 'Running',
      startTime: rfc(T0),
      steps: [
        {
          name: 'a',
          phase: 'Succeeded',
          attempt: 1,
          pod: podOf('g1', 'a'),
          startTime: rfc(T0 + SECOND),
          exitCode: 0,
          completionTime: rfc(T0 + MINUTE),
        },
        { name: 'b', phase: 'Running', attempt: 1, pod: podOf('g1', 'b'), startTime: rfc(T0 + MINUTE) },
        { name: 'c', phase: 'Waiting' },
        {
          name: 'd',
          phase: 'Retrying',
          attempt: 1,
          pod: podOf('g1', 'd'),
          startTime: rfc(T0),
          exitCode: 1,
          reason: 'ExitCode1',
          nextAttemptTime: rfc(retryAt),
        },
        { name: 'e', phase: 'Scheduled', attempt: 1, pod: podOf('g1', 'e'), startTime: rfc(T0) },
      ],
    });
    expect(s.conditions![1]).to.deep.include({
      type: 'Running',
      status: 'True',
      reason: 'RunActive',
      message: `Run ${RUN} is running.`,
    });
  });

  it('shows the last finished run, skipped steps and why it failed', () => {
    const h = historyOf(
      ev.runStarted('g1', chain.spec, T0),
      ev.scheduled('g1', 'a', T0),
      ev.finished('g1', 'a', T0 + MINUTE, { phase: 'Failed', exitCode: 2, reason: 'ExitCode2' }),
      ev.skipped('g1', 'b', 'UpstreamFailed', T0 + MINUTE),
      ev.runFinished('g1', 'Failed', T0 + 2 * MINUTE, 'StepFailed'),
    );
    const s = status(chain, h);
    expect([s.phase, s.progress, s.currentRun]).to.deep.equal(['Failed', '2/2', undefined]);
    expect(s.lastRun).to.deep.equal({
      id: RUN,
      trigger: 'Generation',
      phase: 'Failed',
      startTime: rfc(T0),
      completionTime: rfc(T0 + 2 * MINUTE),
      steps: [
        {
          name: 'a',
          phase: 'Failed',
          attempt: 1,
          pod: podOf('g1', 'a'),
          startTime: rfc(T0),
          exitCode: 2,
          reason: 'ExitCode2',
          completionTime: rfc(T0 + MINUTE),
        },
        { name: 'b', phase: 'Skipped', reason: 'UpstreamFailed', completionTime: rfc(T0 + MINUTE) },
      ],
    });
    expect(s.conditions![1]).to.deep.include({
      status: 'False',
      reason: 'RunFailed',
      message: `Run ${RUN} failed: StepFailed.`,
    });
  });

  it('shows a cancelled run with its cancelled steps', () => {
    const h = historyOf(
      ev.runStarted('g1', chain.spec, T0),
      ev.scheduled('g1', 'a', T0),
      ev.finished('g1', 'a', T0 + MINUTE, { phase: 'Cancelled', reason: 'Cancelled' }),
      ev.skipped('g1', 'b', 'Cancelled', T0 + MINUTE),
      ev.runFinished('g1', 'Cancelled', T0 + MINUTE, 'Cancelled'),
    );
    const s = status(chain, h);
    expect(s.phase).to.equal('Cancelled');
    expect(s.lastRun!.steps!.map((x) => [x.name, x.phase, x.reason])).to.deep.equal([
      ['a', 'Cancelled', 'Cancelled'],
      ['b', 'Cancelled', 'Cancelled'],
    ]);
  });

  it('shows the newest active run as current and the newest finished one as last', () => {
    const h = historyOf(
      ev.runStarted('g1', chain.spec, T0),
      ev.runFinished('g1', 'Succeeded', T0 + 1),
      ev.runStarted('m-1', chain.spec, T0 + 2, { trigger: 'Manual', request: 'r1' }),
      ev.runStarted('m-2', chain.spec, T0 + 3, { trigger: 'Manual', request: 'r2' }),
    );
    const s = status(chain, h);
    expect([s.currentRun!.id, s.currentRun!.phase, s.lastRun!.id, s.phase]).to.deep.equal([
      `m-2-${UID8}`,
      'Pending',
      RUN,
      'Pending',
    ]);
    expect(s.lastRunRequest).to.equal('r2');
  });

  it('says why a due run waits', () => {
    const h = historyOf(ev.runStarted('g1', chain.spec, T0), ev.runFinished('g1', 'Succeeded', T0 + 1));
    const waiting = `a manual run waits for run ${RUN}`;
    expect(status(chain, h, { waiting }).conditions![1]).to.deep.include({
      status: 'False',
      reason: 'Waiting',
      message: waiting,
    });
    expect(status(chain, h).conditions![1]).to.deep.include({
      reason: 'RunSucceeded',
      message: `Run ${RUN} succeeded.`,
    });
  });

  describe('an invalid spec', () => {
    const invalid = { reason: 'PluginNotFound', message: 'step a: FlexPlugin "job" not found' };

    it('is Invalid, with the reason on the Ready condition', () => {
      const s = status(chain, historyOf(), { invalid });
      expect(s.phase).to.equal('Invalid');
      expect(s.conditions![0]).to.deep.equal({
        type: 'Ready',
        status: 'False',
        ...invalid,
        observedGeneration: 1,
        lastTransitionTime: rfc(NOW),
      });
    });

    it('still shows a run that is active', () => {
      const s = status(chain, historyOf(ev.runStarted('g1', chain.spec, T0)), { invalid });
      expect([s.phase, s.currentRun!.phase, s.conditions![0]!.status]).to.deep.equal([
        'Pending',
        'Pending',
        'False',
      ]);
    });

    // The CRD admits any five cron fields and any zone-shaped name; status must still say what is wrong.
    for (const [what, fields] of [
      ['schedule', { schedule: '61 * * * *' }],
      ['time zone', { schedule: '0 * * * *', timeZone: 'Mars/Olympus' }],
    ] as const) {
      it(`is Invalid (not an exception) for an unusable ${what}`, () => {
        const p = { ...chain, spec: { ...chain.spec, ...fields } };
        const bad = { reason: 'InvalidSpec', message: `spec.${what}: invalid` };
        expect(() => status(p, historyOf(), { invalid: bad })).to.not.throw();
        expect(status(p, historyOf(), { invalid: bad }).phase).to.equal('Invalid');
      });
    }
  });

  it('moves lastTransitionTime only when a condition status changes', () => {
    const EARLIER = T0 - HOUR;
    const previous: Condition[] = [
      ready(1, EARLIER),
      {
        type: 'Running',
        status: 'False',
        reason: 'NoRuns',
        message: 'No run yet.',
        observedGeneration: 1,
        lastTransitionTime: rfc(EARLIER),
      },
    ];
    const p: PipelineObject = {
      ...pipelineObject(chain.spec, { generation: 2 }),
      status: { conditions: previous },
    };
    const s = status(
      p,
      historyOf(ev.runStarted('g2', chain.spec, T0, { trigger: 'Generation', generation: 2 })),
    );
    expect(s.observedGeneration).to.equal(2);
    expect(
      s.conditions!.map((c) => [c.type, c.status, c.lastTransitionTime, c.observedGeneration]),
    ).to.deep.equal([
      ['Ready', 'True', rfc(EARLIER), 2],
      ['Running', 'True', rfc(NOW), 2],
      ['Reconciling', 'True', rfc(NOW), 2],
    ]);
  });

  describe('the kstatus conditions Reconciling and Stalled (present only when True)', () => {
    const scheduled = pipelineObject({ ...chain.spec, schedule: '0 3 * * *' });
    const suspended = pipelineObject({ ...chain.spec, suspend: true });
    const gen = (phase?: 'Succeeded' | 'Failed' | 'Cancelled'): History =>
      historyOf(
        ev.runStarted('g1', chain.spec, T0),
        ...(phase
          ? [ev.runFinished('g1', phase, T0 + MINUTE, phase === 'Failed' ? 'StepFailed' : undefined)]
          : []),
      );
    const tick = (phase?: 'Failed'): History =>
      historyOf(
        ev.runStarted('s-1', chain.spec, T0, { trigger: 'Schedule', tickMs: T0 }),
        ...(phase ? [ev.runFinished('s-1', phase, T0 + MINUTE, 'StepFailed')] : []),
      );
    const manual = historyOf(
      ev.runStarted('s-1', chain.spec, T0, { trigger: 'Schedule', tickMs: T0 }),
      ev.runFinished('s-1', 'Failed', T0 + MINUTE, 'StepFailed'),
      ev.runStarted('m-1', chain.spec, T0 + 2 * MINUTE, { trigger: 'Manual', request: 'now' }),
    );
    const invalid = { reason: 'DependencyCycle', message: 'a -> b -> a' };
    const cases: [string, PipelineObject, History, Partial<StatusInput>, string[]][] = [
      ['none before the first run of a scheduled pipeline', scheduled, historyOf(), {}, []],
      ['Reconciling while the run of this generation is active', chain, gen(), {}, ['Reconciling:RunActive']],
      ['none when the run of this generation succeeded', chain, gen('Succeeded'), {}, []],
      ['none when the run of this generation was cancelled', chain, gen('Cancelled'), {}, []],
      ['Stalled when the run of this generation failed', chain, gen('Failed'), {}, ['Stalled:LastRunFailed']],
      ['none when a suspended pipeline failed its last run', suspended, gen('Failed'), {}, []],
      ['none while a scheduled run is active', scheduled, tick(), {}, []],
      ['none when a scheduled run failed (the next tick runs)', scheduled, tick('Failed'), {}, []],
      ['Reconciling while a requested run is active', scheduled, manual, {}, ['Reconciling:RunActive']],
      [
        'Reconciling while a due run waits its turn',
        chain,
        gen(),
        { waiting: 'a manual run waits for run g1' },
        ['Reconciling:RunActive'],
      ],
      [
        'Reconciling (waiting) after a success',
        chain,
        gen('Succeeded'),
        { waiting: 'a manual run waits' },
        ['Reconciling:RunWaiting'],
      ],
      [
        'Stalled with the reason of an invalid spec',
        chain,
        historyOf(),
        { invalid },
        ['Stalled:DependencyCycle'],
      ],
    ];
    for (const [what, p, h, extra, expected] of cases)
      it(what, () => {
        const got = status(p, h, extra)
          .conditions!.filter((c) => c.type === 'Reconciling' || c.type === 'Stalled')
          .map((c) => `${c.type}:${c.reason}`);
        expect(got).to.deep.equal(expected);
      });

    it('says which run and why', () => {
      const [stalled] = status(chain, gen('Failed')).conditions!.filter((c) => c.type === 'Stalled');
      expect(stalled).to.deep.include({ status: 'True', observedGeneration: 1 });
      expect(stalled!.message).to.equal(
        `Run ${RUN} failed: StepFailed; a new generation or run request runs it again.`,
      );
      const [reconciling] = status(chain, gen()).conditions!.filter((c) => c.type === 'Reconciling');
      expect(reconciling!.message).to.equal(`Generation run ${RUN} is pending.`);
    });
  });

  it('shows schedule times, the last request and the last event position', () => {
    const p = pipelineObject({ ...chain.spec, schedule: '0 3 * * *', timeZone: 'Europe/Berlin' });
    const h = historyOf(
      ev.runStarted('s-1', p.spec, T0 + 5 * SECOND, { trigger: 'Schedule', tickMs: T0 }),
      ev.runFinished('s-1', 'Succeeded', T0 + MINUTE),
      ev.runStarted('m-1', p.spec, T0 + 2 * MINUTE, { trigger: 'Manual', request: 'again' }),
      ev.runFinished('m-1', 'Succeeded', T0 + 3 * MINUTE),
    );
    const s = status(p, h, { now: Date.parse('2025-03-29T12:00:00Z') });
    expect([s.lastScheduleTime, s.nextScheduleTime, s.lastRunRequest, s.lastEventPosition]).to.deep.equal([
      rfc(T0 + 5 * SECOND),
      '2025-03-30T01:00:00Z',
      'again',
      '4',
    ]);
  });
});

describe('observePod (the facts status and the planner read from a Pod)', () => {
  const LABELLED = { [LABELS.run]: 'g1', [LABELS.step]: 'sync', [LABELS.attempt]: '2' };
  const terminated = (name: string, exitCode: number, finishedAt: string): V1ContainerStatus => ({
    name,
    image: 'x',
    imageID: '',
    ready: false,
    restartCount: 0,
    state: { terminated: { exitCode, finishedAt: new Date(finishedAt) } },
  });
  const pod = (
    status: V1Pod['status'],
    labels: Record<string, string> = LABELLED,
    deleting = false,
  ): V1Pod => ({
    metadata: {
      name: 'orders-g1-sync-2',
      labels,
      ...(deleting && { deletionTimestamp: new Date('2025-03-01T13:00:00Z') }),
    },
    spec: { containers: [{ name: 'tap' }, { name: 'target' }] },
    status,
  });

  it('reads a running Pod', () => {
    expect(observePod(pod({ phase: 'Running', startTime: new Date('2025-03-01T12:00:05Z') }))).to.deep.equal({
      name: 'orders-g1-sync-2',
      runKey: 'g1',
      step: 'sync',
      attempt: 2,
      outcome: 'Running',
      exitCode: undefined,
      reason: undefined,
      startedAt: Date.parse('2025-03-01T12:00:05Z'),
      finishedAt: undefined,
      stuck: undefined,
      killedBecause: undefined,
      exits: undefined,
      containers: ['tap', 'target'],
      deleting: false,
    });
  });

  const waiting = (name: string, reason: string, message?: string): V1ContainerStatus => ({
    name,
    image: 'x',
    imageID: '',
    ready: false,
    restartCount: 0,
    state: { waiting: { reason, message } },
  });

  for (const reason of [
    'ErrImagePull',
    'ImagePullBackOff',
    'ErrImageNeverPull',
    'InvalidImageName',
    'CreateContainerConfigError',
  ])
    it(`sees a container that cannot start: ${reason}`, () => {
      const observed = observePod(
        pod({
          phase: 'Pending',
          containerStatuses: [waiting('tap', 'ContainerCreating'), waiting('target', reason, 'no')],
        }),
      );
      expect(observed?.stuck).to.deep.equal({ reason, message: 'target: no' });
    });

  it('does not call a slow start stuck (ContainerCreating, a pull in progress)', () => {
    const observed = observePod(
      pod({ phase: 'Pending', containerStatuses: [waiting('tap', 'ContainerCreating')] }),
    );
    expect(observed?.stuck).to.equal(undefined);
  });

  it('names a container killed for its memory', () => {
    const oom: V1ContainerStatus = {
      ...terminated('target', 137, '2025-03-01T12:01:00Z'),
      state: {
        terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: new Date('2025-03-01T12:01:00Z') },
      },
    };
    expect(observePod(pod({ phase: 'Failed', containerStatuses: [oom] }))?.killedBecause).to.equal(
      'OOMKilled',
    );
  });

  it('takes the first non-zero exit code and the last finish time of a failed Pod', () => {
    const observed = observePod(
      pod({
        phase: 'Failed',
        containerStatuses: [
          terminated('tap', 0, '2025-03-01T12:01:00Z'),
          terminated('target', 3, '2025-03-01T12:02:00Z'),
        ],
      }),
    );
    expect([observed?.outcome, observed?.exitCode, observed?.finishedAt]).to.deep.equal([
      'Failed',
      3,
      Date.parse('2025-03-01T12:02:00Z'),
    ]);
  });

  it('names the side of a pair that failed first, and both exits in a message', () => {
    const failed = (tap: string, target: string): ObservedPod | undefined =>
      observePod(
        pod({
          phase: 'Failed',
          containerStatuses: [terminated('tap', 1, tap), terminated('target', 7, target)],
        }),
      );
    // The tap failed a second earlier: its failure ended the target.
    expect(failed('2025-03-01T12:01:00Z', '2025-03-01T12:01:01Z')?.exitCode).to.equal(1);
    // The target failed first: the tap's broken pipe came after.
    expect(failed('2025-03-01T12:01:02Z', '2025-03-01T12:01:01Z')?.exitCode).to.equal(7);
    // The same second: the target's code (a dying target breaks the tap's pipe at once).
    const tie = failed('2025-03-01T12:01:00Z', '2025-03-01T12:01:00Z');
    expect(tie?.exitCode).to.equal(7);
    expect(tie?.exits).to.equal('tap exited 1, target exited 7');
  });

  it('gives exit code 0 when every container exited 0', () => {
    const observed = observePod(
      pod({ phase: 'Succeeded', containerStatuses: [terminated('tap', 0, '2025-03-01T12:01:00Z')] }),
    );
    expect([observed?.outcome, observed?.exitCode]).to.deep.equal(['Succeeded', 0]);
  });

  it("keeps the Pod's reason when no container says why (activeDeadlineSeconds)", () => {
    const observed = observePod(pod({ phase: 'Failed', reason: 'DeadlineExceeded' }));
    expect([observed?.outcome, observed?.exitCode, observed?.reason]).to.deep.equal([
      'Failed',
      undefined,
      'DeadlineExceeded',
    ]);
  });

  it('has no finish time while running, even with a terminated container', () => {
    const observed = observePod(
      pod({ phase: 'Running', containerStatuses: [terminated('tap', 0, '2025-03-01T12:01:00Z')] }),
    );
    expect([observed?.exitCode, observed?.finishedAt]).to.deep.equal([0, undefined]);
  });

  for (const phase of [undefined, 'Pending', 'Unknown']) {
    it(`reads phase ${phase ?? '(none)'} as Pending`, () => {
      expect(observePod(pod(phase === undefined ? undefined : { phase }))?.outcome).to.equal('Pending');
    });
  }

  it('sees a Pod being deleted', () => {
    expect(observePod(pod({ phase: 'Running' }, LABELLED, true))?.deleting).to.equal(true);
  });

  const foreign: [string, Record<string, string>][] = [
    ['no run label', { [LABELS.step]: 'sync', [LABELS.attempt]: '1' }],
    ['no step label', { [LABELS.run]: 'g1', [LABELS.attempt]: '1' }],
    ['no attempt label', { [LABELS.run]: 'g1', [LABELS.step]: 'sync' }],
    ['an attempt that is not a number', { ...LABELLED, [LABELS.attempt]: 'two' }],
  ];
  for (const [what, labels] of foreign) {
    it(`ignores a Pod with ${what}`, () =>
      expect(observePod(pod({ phase: 'Running' }, labels))).to.equal(undefined));
  }
});
