import { expect } from 'chai';
import { ANNOTATIONS } from '../../controller/pipeline/labels.js';
import type { Plan } from '../../controller/pipeline/plan.js';
import { planPipeline } from '../../controller/pipeline/planner.js';
import { retryDelayMs } from '../../controller/pipeline/retry.js';
import { deterministicEventId } from '../../controller/store/event-store.js';
import { MAX_LOG_TAIL_BYTES } from '../../controller/store/event-types.js';
import {
  HOUR,
  MINUTE,
  NAMESPACE,
  PIPELINE,
  PipelineWorld,
  SECOND,
  STREAM,
  T0,
  TAP,
  TARGET,
  UID8,
  actionsOf,
  annotate,
  ev,
  historyOf,
  iso,
  pipelineObject,
  pluginMap,
  podOf,
  step,
  typesOf,
} from './support/pipeline-fixtures.js';

const RUN = `g1-${UID8}`;
const runOf = (key: string): string => `${key}-${UID8}`;
const id = (type: string, ...parts: (string | number)[]): string =>
  deterministicEventId(STREAM, type, ...parts);
const at = (text: string): number => Date.parse(text);

/** Pods the plan asks to create, each once (see the duplicate-createPod test for the exact list). */
const createdPods = (plan: Plan): string[] => [
  ...new Set(plan.actions.flatMap((a) => (a.kind === 'createPod' ? [a.pod] : []))),
];
/** Event data of the first event of `type` in the plan. */
const dataOf = (plan: Plan, type: string): Record<string, unknown> | undefined =>
  plan.events.find((e) => e.type === type)?.data;
const chain = { steps: [step('a'), step('b', { dependsOn: ['a'] })] };

describe('planPipeline', () => {
  describe('a run through its whole life (a → b)', () => {
    it('starts, schedules, follows the Pods, keeps the logs and succeeds', () => {
      const w = new PipelineWorld(pipelineObject(chain));

      // 1. A new pipeline (generation 1) starts run g1 and schedules a.
      let plan = w.reconcile();
      expect(plan.events).to.deep.equal([
        {
          id: id('RunStarted', RUN),
          type: 'RunStarted',
          data: {
            runId: RUN,
            runKey: 'g1',
            pipeline: { namespace: NAMESPACE, name: PIPELINE },
            trigger: 'Generation',
            generation: 1,
            fullRefresh: [],
            spec: w.pipeline.spec,
            at: iso(T0),
          },
        },
        {
          id: id('StepAttemptScheduled', RUN, 'a', 1),
          type: 'StepAttemptScheduled',
          // A plain step without configFrom: its config goes inline, no Secret.
          data: { runId: RUN, step: 'a', attempt: 1, pod: podOf('g1', 'a'), config: 'inline', at: iso(T0) },
        },
      ]);
      // No Kubernetes Event for the start: one comes when the run ends.
      expect(plan.actions.filter((a) => a.kind === 'event')).to.deep.equal([]);
      expect(createdPods(plan)).to.deep.equal([podOf('g1', 'a')]);
      expect(plan.wakeAt).to.equal(T0 + HOUR); // the default attempt timeout
      expect(w.history.runs[0]!.phase).to.equal('Running');

      // 2. The Pod exists but has not started: nothing to record.
      w.now = T0 + 10 * SECOND;
      w.pod('g1', 'a', { outcome: 'Pending' });
      plan = w.reconcile();
      expect([typesOf(plan), actionsOf(plan), plan.wakeAt]).to.deep.equal([[], [], T0 + HOUR]);

      // 3. It runs: the start is recorded at the Pod's start time; the timeout counts from there.
      w.now = T0 + 20 * SECOND;
      w.pod('g1', 'a', { outcome: 'Running', startedAt: T0 + 15 * SECOND });
      plan = w.reconcile();
      expect(plan.events).to.deep.equal([
        {
          id: id('StepAttemptStarted', RUN, 'a', 1),
          type: 'StepAttemptStarted',
          data: { runId: RUN, step: 'a', attempt: 1, at: iso(T0 + 15 * SECOND) },
        },
      ]);
      expect([actionsOf(plan), plan.wakeAt]).to.deep.equal([[], T0 + 15 * SECOND + HOUR]);

      // 4. It succeeded: the logs are read before anything is recorded.
      w.now = T0 + 2 * MINUTE;
      w.pod('g1', 'a', {
        outcome: 'Succeeded',
        exitCode: 0,
        startedAt: T0 + 15 * SECOND,
        finishedAt: T0 + 90 * SECOND,
      });
      plan = w.reconcile();
      expect([typesOf(plan), actionsOf(plan), [...plan.needLogs]]).to.deep.equal([
        [],
        [],
        [podOf('g1', 'a')],
      ]);

      // 5. With the logs: tail kept, attempt finished, b scheduled; the Pod stays (no Secret to delete).
      w.log(podOf('g1', 'a'), { plugin: 'extracted 10 rows\n' });
      plan = w.reconcile();
      expect(plan.events.map((e) => [e.id, e.type, e.data])).to.deep.equal([
        [
          id('LogTailCaptured', RUN, 'a', 1, 'plugin'),
          'LogTailCaptured',
          {
            runId: RUN,
            step: 'a',
            attempt: 1,
            container: 'plugin',
            tail: 'extracted 10 rows\n',
            truncated: false,
            at: iso(w.now),
          },
        ],
        [
          id('StepAttemptFinished', RUN, 'a', 1),
          'StepAttemptFinished',
          { runId: RUN, step: 'a', attempt: 1, phase: 'Succeeded', exitCode: 0, at: iso(T0 + 90 * SECOND) },
        ],
        [
          id('StepAttemptScheduled', RUN, 'b', 1),
          'StepAttemptScheduled',
          { runId: RUN, step: 'b', attempt: 1, pod: podOf('g1', 'b'), config: 'inline', at: iso(w.now) },
        ],
      ]);
      expect(plan.actions.filter((a) => a.kind !== 'createPod')).to.deep.equal([]);
      expect(createdPods(plan)).to.deep.equal([podOf('g1', 'b')]);
      expect(plan.wakeAt).to.equal(w.now + HOUR);

      // 6. b runs and succeeds in between two reconciles: start, finish and the run's end.
      w.now = T0 + 5 * MINUTE;
      w.pod('g1', 'b', {
        outcome: 'Succeeded',
        exitCode: 0,
        startedAt: T0 + 3 * MINUTE,
        finishedAt: T0 + 4 * MINUTE,
      });
      w.log(podOf('g1', 'b'), { plugin: 'loaded\n' });
      plan = w.reconcile();
      expect(typesOf(plan)).to.deep.equal([
        'LogTailCaptured',
        'StepAttemptStarted',
        'StepAttemptFinished',
        'RunFinished',
      ]);
      expect(dataOf(plan, 'StepAttemptStarted')!.at).to.equal(iso(T0 + 3 * MINUTE));
      expect(dataOf(plan, 'RunFinished')).to.deep.equal({ runId: RUN, phase: 'Succeeded', at: iso(w.now) });
      expect(plan.actions).to.deep.equal([
        {
          kind: 'event',
          type: 'Normal',
          reason: 'RunSucceeded',
          note: `Run ${RUN} (Generation) succeeded`,
          key: `${id('RunFinished', RUN)}/RunSucceeded`,
        },
      ]);
      expect(plan.wakeAt).to.equal(undefined);

      // 7. Settled: generation 1 ran once; nothing more to do.
      w.now = T0 + HOUR;
      plan = w.reconcile();
      expect([typesOf(plan), actionsOf(plan), plan.wakeAt]).to.deep.equal([[], [], undefined]);
      const run = w.history.runs[0]!;
      expect([w.history.runs.length, run.phase, run.finishedAt]).to.deep.equal([
        1,
        'Succeeded',
        T0 + 5 * MINUTE,
      ]);
      const ids = w.recorded.map((e) => e.id);
      expect(new Set(ids).size).to.equal(ids.length);
    });

    it('asks to create each Pod once per plan', () => {
      const plan = new PipelineWorld(pipelineObject(chain)).plan();
      expect(actionsOf(plan)).to.deep.equal([`createPod ${podOf('g1', 'a')}`]);
    });
  });

  describe('determinism', () => {
    /** A world in the middle of a run: a finished (logs read), b waiting. */
    function midRun(): PipelineWorld {
      const w = new PipelineWorld(pipelineObject(chain));
      w.reconcile();
      w.now = T0 + 2 * MINUTE;
      w.pod('g1', 'a', {
        outcome: 'Failed',
        exitCode: 2,
        startedAt: T0 + 5 * SECOND,
        finishedAt: T0 + MINUTE,
      });
      w.log(podOf('g1', 'a'), { plugin: 'boom\n' });
      return w;
    }

    it('gives the same events (ids included), actions and wake time for the same input', () => {
      for (const w of [new PipelineWorld(pipelineObject(chain)), midRun()]) {
        const input = w.input();
        const first = planPipeline(input);
        const second = planPipeline(structuredClone(input));
        expect(first.events.length).to.be.greaterThan(0);
        expect(second.events).to.deep.equal(first.events);
        expect(second.actions).to.deep.equal(first.actions);
        expect([...second.needLogs]).to.deep.equal([...first.needLogs]);
        expect([second.wakeAt, second.waiting]).to.deep.equal([first.wakeAt, first.waiting]);
      }
    });

    it('never changes the history it was given', () => {
      const w = midRun();
      const before = structuredClone(w.history);
      const plan = w.plan();
      expect(typesOf(plan)).to.include('RunFinished');
      expect(w.history).to.deep.equal(before);
    });
  });

  describe('the DAG', () => {
    const fanIn = {
      steps: [step('extract-a'), step('extract-b'), step('load', { dependsOn: ['extract-a', 'extract-b'] })],
    };

    it('starts independent steps at once, in parallel', () => {
      const plan = new PipelineWorld(pipelineObject(fanIn)).plan();
      expect(
        plan.events.filter((e) => e.type === 'StepAttemptScheduled').map((e) => e.data.step),
      ).to.deep.equal(['extract-a', 'extract-b']);
      expect(createdPods(plan)).to.deep.equal([podOf('g1', 'extract-a'), podOf('g1', 'extract-b')]);
    });

    it('starts a step only when all its dependencies succeeded', () => {
      const w = new PipelineWorld(pipelineObject(fanIn));
      w.reconcile();
      w.now = T0 + MINUTE;
      w.pod('g1', 'extract-a', {
        outcome: 'Succeeded',
        exitCode: 0,
        startedAt: T0,
        finishedAt: T0 + 30 * SECOND,
      });
      w.pod('g1', 'extract-b', { outcome: 'Running', startedAt: T0 });
      w.log(podOf('g1', 'extract-a'), { plugin: '' });
      let plan = w.reconcile();
      expect(dataOf(plan, 'StepAttemptScheduled')).to.equal(undefined);
      expect(createdPods(plan)).to.deep.equal([]);

      w.now = T0 + 2 * MINUTE;
      w.pod('g1', 'extract-b', {
        outcome: 'Succeeded',
        exitCode: 0,
        startedAt: T0,
        finishedAt: T0 + 90 * SECOND,
      });
      w.log(podOf('g1', 'extract-b'), { plugin: '' });
      plan = w.reconcile();
      expect(dataOf(plan, 'StepAttemptScheduled')).to.deep.include({ step: 'load', attempt: 1 });
      expect(createdPods(plan)).to.deep.equal([podOf('g1', 'load')]);
    });

    it('skips everything downstream of a failure, lets other branches finish, then fails the run', () => {
      const spec = {
        steps: [step('a'), step('b', { dependsOn: ['a'] }), step('c', { dependsOn: ['b'] }), step('d')],
      };
      const w = new PipelineWorld(pipelineObject(spec));
      w.reconcile();
      w.now = T0 + MINUTE;
      w.pod('g1', 'a', { outcome: 'Failed', exitCode: 3, startedAt: T0, finishedAt: T0 + 30 * SECOND });
      w.pod('g1', 'd', { outcome: 'Running', startedAt: T0 });
      w.log(podOf('g1', 'a'), { plugin: 'error: no such table\n' });
      let plan = w.reconcile();
      expect(plan.events.map((e) => [e.type, e.data.step ?? null, e.data.reason ?? null])).to.deep.equal([
        ['LogTailCaptured', 'a', null],
        ['StepAttemptStarted', 'a', null],
        ['StepAttemptFinished', 'a', 'ExitCode3'],
        ['StepSkipped', 'b', 'UpstreamFailed'],
        ['StepSkipped', 'c', 'UpstreamFailed'],
        ['StepAttemptStarted', 'd', null],
      ]);
      expect(dataOf(plan, 'StepAttemptFinished')).to.include({ phase: 'Failed', exitCode: 3 });
      expect(w.history.runs[0]!.phase).to.equal('Running');

      w.now = T0 + 2 * MINUTE;
      w.pod('g1', 'd', { outcome: 'Succeeded', exitCode: 0, startedAt: T0, finishedAt: T0 + 100 * SECOND });
      w.log(podOf('g1', 'd'), { plugin: '' });
      plan = w.reconcile();
      expect(dataOf(plan, 'RunFinished')).to.deep.equal({
        runId: RUN,
        phase: 'Failed',
        reason: 'StepFailed',
        at: iso(w.now),
      });
      expect(plan.actions.at(-1)).to.deep.include({
        kind: 'event',
        type: 'Warning',
        reason: 'RunFailed',
        note: `Run ${RUN} (Generation) failed: step a StepFailed`,
      });
    });
  });

  describe('retries', () => {
    const retrying = (retries: Record<string, unknown>): PipelineWorld => {
      const w = new PipelineWorld(pipelineObject({ steps: [step('a', { retries })] }));
      w.reconcile();
      w.pod('g1', 'a', { outcome: 'Running', startedAt: T0 + 5 * SECOND });
      w.reconcile();
      return w;
    };
    const failAttempt = (w: PipelineWorld, attempt: number, exitCode: number, finishedAt: number): Plan => {
      w.now = finishedAt + SECOND;
      w.pod('g1', 'a', { outcome: 'Failed', exitCode, startedAt: finishedAt - SECOND, finishedAt }, attempt);
      w.log(podOf('g1', 'a', attempt), { plugin: `exit ${exitCode}\n` });
      return w.reconcile();
    };

    it('retries a failed attempt after the backoff, then gives up when the limit is reached', () => {
      const w = retrying({ limit: 1, backoff: { initialSeconds: 30 } });
      const failedAt = T0 + MINUTE;
      let plan = failAttempt(w, 1, 1, failedAt);
      const retryAt = failedAt + retryDelayMs(w.pipeline.spec.steps[0]!.retries, 1, `${RUN}/a/1`);
      expect(retryAt - failedAt).to.be.within(30_000, 36_000);
      expect(typesOf(plan)).to.deep.equal(['LogTailCaptured', 'StepAttemptFinished']);
      expect(dataOf(plan, 'StepAttemptFinished')).to.include({
        phase: 'Failed',
        exitCode: 1,
        reason: 'ExitCode1',
      });
      expect(plan.wakeAt).to.equal(retryAt);

      w.now = retryAt - 1;
      plan = w.reconcile();
      expect([typesOf(plan), plan.wakeAt]).to.deep.equal([[], retryAt]);

      w.now = retryAt;
      plan = w.reconcile();
      expect(plan.events.map((e) => [e.type, e.data.attempt, e.data.pod])).to.deep.equal([
        ['StepAttemptScheduled', 2, podOf('g1', 'a', 2)],
      ]);
      expect(createdPods(plan)).to.deep.equal([podOf('g1', 'a', 2)]);

      plan = failAttempt(w, 2, 1, retryAt + MINUTE);
      expect(typesOf(plan)).to.deep.equal([
        'LogTailCaptured',
        'StepAttemptStarted',
        'StepAttemptFinished',
        'RunFinished',
      ]);
      expect(dataOf(plan, 'RunFinished')).to.include({ phase: 'Failed', reason: 'StepFailed' });
    });

    it('fails at once for an exit code that is not retryable', () => {
      const w = retrying({ limit: 3, retryableExitCodes: [75] });
      const plan = failAttempt(w, 1, 1, T0 + MINUTE);
      expect(dataOf(plan, 'RunFinished')).to.include({ phase: 'Failed', reason: 'StepFailed' });
    });

    it('retries a retryable exit code', () => {
      const w = retrying({ limit: 3, retryableExitCodes: [75] });
      const plan = failAttempt(w, 1, 75, T0 + MINUTE);
      expect(dataOf(plan, 'RunFinished')).to.equal(undefined);
      expect(plan.wakeAt).to.be.within(T0 + MINUTE + 10_000, T0 + MINUTE + 12_000);
    });

    it('retries an attempt whose Pod was lost', () => {
      const w = retrying({ limit: 1 });
      w.pods.clear();
      w.now = T0 + MINUTE;
      const plan = w.reconcile();
      expect(plan.events.map((e) => [e.type, e.data.phase ?? null, e.data.reason ?? null])).to.deep.equal([
        ['StepAttemptFinished', 'Failed', 'PodLost'],
      ]);
      expect(actionsOf(plan)).to.deep.equal([]);
      expect(plan.wakeAt).to.equal(
        T0 + MINUTE + retryDelayMs(w.pipeline.spec.steps[0]!.retries, 1, `${RUN}/a/1`),
      );
    });
  });

  describe('timeouts', () => {
    const timed = { steps: [step('a', { timeoutSeconds: 60 })] };

    it('stops a running attempt at its timeout, keeping its logs', () => {
      const w = new PipelineWorld(pipelineObject(timed));
      w.reconcile();
      w.pod('g1', 'a', { outcome: 'Running', startedAt: T0 + 5 * SECOND });
      w.now = T0 + 10 * SECOND;
      let plan = w.reconcile();
      expect(plan.wakeAt).to.equal(T0 + 65 * SECOND);

      w.now = T0 + 65 * SECOND;
      plan = w.reconcile();
      expect([typesOf(plan), [...plan.needLogs]]).to.deep.equal([[], [podOf('g1', 'a')]]);
      w.log(podOf('g1', 'a'), { plugin: 'still working\n' });
      plan = w.reconcile();
      expect(typesOf(plan)).to.deep.equal(['LogTailCaptured', 'StepAttemptFinished', 'RunFinished']);
      expect(dataOf(plan, 'StepAttemptFinished')).to.deep.equal({
        runId: RUN,
        step: 'a',
        attempt: 1,
        phase: 'TimedOut',
        reason: 'Timeout',
        at: iso(w.now),
      });
      expect(dataOf(plan, 'RunFinished')).to.include({ phase: 'Failed', reason: 'StepTimedOut' });
      expect(actionsOf(plan)).to.deep.equal([
        `deletePod ${podOf('g1', 'a')} (Timeout)`,
        'event Warning RunFailed',
      ]);
    });

    it('records a Pod stopped by its own activeDeadlineSeconds as timed out', () => {
      const w = new PipelineWorld(pipelineObject(timed));
      w.reconcile();
      w.now = T0 + 2 * MINUTE;
      w.pod('g1', 'a', {
        outcome: 'Failed',
        reason: 'DeadlineExceeded',
        startedAt: T0,
        finishedAt: T0 + 60 * SECOND,
      });
      w.log(podOf('g1', 'a'), { plugin: '' });
      const plan = w.reconcile();
      expect(dataOf(plan, 'StepAttemptFinished')).to.include({
        phase: 'TimedOut',
        reason: 'DeadlineExceeded',
      });
      expect(actionsOf(plan)).to.not.include(`deletePod ${podOf('g1', 'a')} (DeadlineExceeded)`);
    });

    it('fails an attempt whose container cannot start once the start grace has passed, with the kubelet’s words', () => {
      const w = new PipelineWorld(pipelineObject({ steps: [step('a', { retries: { limit: 1 } })] }));
      w.startGraceMs = 2 * MINUTE;
      w.reconcile();
      const stuck = {
        outcome: 'Pending' as const,
        startedAt: T0 + 5 * SECOND,
        stuck: { reason: 'ErrImagePull', message: 'plugin: manifest for example.com/job:1 not found' },
      };
      w.now = T0 + 60 * SECOND;
      w.pod('g1', 'a', stuck);
      let plan = w.reconcile();
      expect(typesOf(plan), 'within the grace').to.deep.equal([]);
      expect(plan.wakeAt).to.equal(T0 + 5 * SECOND + 2 * MINUTE);

      w.now = T0 + 5 * SECOND + 2 * MINUTE;
      plan = w.reconcile();
      expect(plan.needLogs.has(podOf('g1', 'a')), 'keeps what the Pod logged first').to.equal(true);
      w.log(podOf('g1', 'a'), { plugin: '' });
      plan = w.reconcile();
      expect(dataOf(plan, 'StepAttemptFinished')).to.include({
        phase: 'Failed',
        reason: 'ErrImagePull',
        message: 'plugin: manifest for example.com/job:1 not found',
      });
      expect(actionsOf(plan)).to.include(`deletePod ${podOf('g1', 'a')} (ErrImagePull)`);
      // Retryable like any failure: a new attempt is planned after the backoff.
      expect(typesOf(plan)).to.not.include('RunFinished');
    });

    it('names OOMKilled as the reason of an attempt killed for its memory', () => {
      const w = new PipelineWorld(pipelineObject({ steps: [step('a')] }));
      w.reconcile();
      w.pod('g1', 'a', {
        outcome: 'Failed',
        exitCode: 137,
        killedBecause: 'OOMKilled',
        startedAt: T0,
        finishedAt: T0 + SECOND,
      });
      w.log(podOf('g1', 'a'), { plugin: '' });
      const plan = w.reconcile();
      expect(dataOf(plan, 'StepAttemptFinished')).to.include({
        phase: 'Failed',
        exitCode: 137,
        reason: 'OOMKilled',
      });
    });

    it('times out an attempt whose Pod never appeared', () => {
      const w = new PipelineWorld(pipelineObject(timed));
      w.reconcile();
      w.now = T0 + 59 * SECOND;
      let plan = w.reconcile();
      // Recorded but not visible yet: ask again (AlreadyExists is success) and wait for the timeout.
      expect([typesOf(plan), createdPods(plan), plan.wakeAt]).to.deep.equal([
        [],
        [podOf('g1', 'a')],
        T0 + 60 * SECOND,
      ]);

      w.now = T0 + 60 * SECOND;
      plan = w.reconcile();
      expect(plan.events.map((e) => [e.type, e.data.phase ?? null, e.data.reason ?? null])).to.deep.equal([
        ['StepAttemptFinished', 'TimedOut', 'NeverStarted'],
        ['RunFinished', 'Failed', 'StepTimedOut'],
      ]);
      expect(plan.needLogs.size).to.equal(0);
    });
  });

  describe('cancel (flexcore.io/cancel-run)', () => {
    /** Run g1 of a → b with a running. */
    function running(): PipelineWorld {
      const w = new PipelineWorld(pipelineObject(chain));
      w.reconcile();
      w.now = T0 + MINUTE;
      w.pod('g1', 'a', { outcome: 'Running', startedAt: T0 + 5 * SECOND });
      w.reconcile();
      return w;
    }
    const cancel = (w: PipelineWorld, value: string): void => {
      w.pipeline = pipelineObject(chain, { annotations: annotate.cancel(value) });
      w.now = T0 + 2 * MINUTE;
    };

    for (const value of [RUN, 'g1']) {
      it(`stops the run named by ${value === RUN ? 'its id' : 'its key'}: logs kept, Pod deleted, rest skipped`, () => {
        const w = running();
        cancel(w, value);
        expect(w.plan().needLogs).to.deep.equal(new Set([podOf('g1', 'a')]));
        w.log(podOf('g1', 'a'), { plugin: 'half done\n' });
        const plan = w.reconcile();
        expect(
          plan.events.map((e) => [e.type, e.data.step ?? null, e.data.phase ?? null, e.data.reason ?? null]),
        ).to.deep.equal([
          ['LogTailCaptured', 'a', null, null],
          ['StepAttemptFinished', 'a', 'Cancelled', 'Cancelled'],
          ['StepSkipped', 'b', null, 'Cancelled'],
          ['RunFinished', null, 'Cancelled', 'Cancelled'],
        ]);
        expect(actionsOf(plan)).to.deep.equal([
          `deletePod ${podOf('g1', 'a')} (Cancelled)`,
          'event Warning RunCancelled',
        ]);
        expect(w.reconcile().events).to.deep.equal([]);
      });
    }

    it('leaves other runs alone', () => {
      const w = running();
      cancel(w, `g2-${UID8}`);
      expect(w.plan().events).to.deep.equal([]);
    });

    // labels.ts: "a value equal to a run id (or "current") cancels that run."
    // Only a run id or key cancels: a value such as "current" left in Git must not cancel every future run.
    it('ignores a value that names no active run, such as "current"', () => {
      const w = running();
      cancel(w, 'current');
      w.log(podOf('g1', 'a'), { plugin: '' });
      expect(typesOf(w.plan())).to.not.include('RunFinished');
    });

    // The facts of a run come from the world: a step whose Pod already succeeded did succeed.
    it('records an attempt whose Pod already succeeded as succeeded, not cancelled', () => {
      const w = running();
      cancel(w, RUN);
      w.pod('g1', 'a', {
        outcome: 'Succeeded',
        exitCode: 0,
        startedAt: T0 + 5 * SECOND,
        finishedAt: T0 + 90 * SECOND,
      });
      w.log(podOf('g1', 'a'), { plugin: '' });
      const plan = w.plan();
      expect(dataOf(plan, 'StepAttemptFinished')).to.deep.equal({
        runId: RUN,
        step: 'a',
        attempt: 1,
        phase: 'Succeeded',
        exitCode: 0,
        at: iso(T0 + 90 * SECOND),
      });
      expect(dataOf(plan, 'RunFinished')).to.include({ phase: 'Cancelled' });
    });

    // run-progress.ts: cancellation "stops everything in flight"; the informer may not show a new Pod yet.
    it('deletes the Pod of a scheduled attempt even when the Pod cache does not show it yet', () => {
      const w = new PipelineWorld(pipelineObject(chain));
      w.reconcile();
      cancel(w, RUN);
      const plan = w.reconcile();
      expect(dataOf(plan, 'RunFinished')).to.include({ phase: 'Cancelled' });
      expect(actionsOf(plan)).to.include(`deletePod ${podOf('g1', 'a')} (Cancelled)`);
    });
  });

  describe('activeDeadlineSeconds of a run', () => {
    it('wakes at the deadline, then stops the run and fails it', () => {
      const w = new PipelineWorld(pipelineObject({ ...chain, activeDeadlineSeconds: 600 }));
      let plan = w.reconcile();
      expect(plan.wakeAt).to.equal(T0 + 600 * SECOND);
      w.pod('g1', 'a', { outcome: 'Running', startedAt: T0 + 5 * SECOND });
      w.now = T0 + 600 * SECOND - 1;
      plan = w.reconcile();
      expect([typesOf(plan), plan.wakeAt]).to.deep.equal([['StepAttemptStarted'], T0 + 600 * SECOND]);

      w.now = T0 + 600 * SECOND;
      w.log(podOf('g1', 'a'), { plugin: '' });
      plan = w.reconcile();
      expect(plan.events.map((e) => [e.type, e.data.phase ?? null, e.data.reason ?? null])).to.deep.equal([
        ['LogTailCaptured', null, null],
        ['StepAttemptFinished', 'Cancelled', 'DeadlineExceeded'],
        ['StepSkipped', null, 'DeadlineExceeded'],
        ['RunFinished', 'Failed', 'DeadlineExceeded'],
      ]);
      expect(actionsOf(plan)).to.deep.equal([
        `deletePod ${podOf('g1', 'a')} (DeadlineExceeded)`,
        'event Warning RunDeadlineExceeded',
      ]);
    });
  });

  describe('schedules and concurrencyPolicy', () => {
    const every10 = (policy: string): Record<string, unknown> => ({
      steps: [step('a')],
      schedule: '*/10 * * * *',
      concurrencyPolicy: policy,
    });
    const KEY_1200 = 's-202503011200';
    const KEY_1210 = 's-202503011210';
    /** The 12:00 run started and running; now is just after the 12:10 tick. */
    function atNextTick(policy: string): PipelineWorld {
      const w = new PipelineWorld(pipelineObject(every10(policy)), undefined, T0 + 30 * SECOND);
      const plan = w.reconcile();
      expect(dataOf(plan, 'RunStarted')).to.deep.include({
        runId: runOf(KEY_1200),
        trigger: 'Schedule',
        tickMs: T0,
        tick: iso(T0),
      });
      expect(plan.wakeAt).to.equal(T0 + 10 * MINUTE);
      w.pod(KEY_1200, 'a', { outcome: 'Running', startedAt: T0 + 40 * SECOND });
      w.now = T0 + 10 * MINUTE + 5 * SECOND;
      return w;
    }

    it('Forbid skips the tick and says so', () => {
      const w = atNextTick('Forbid');
      const plan = w.reconcile();
      const TICK = T0 + 10 * MINUTE;
      expect(plan.events.filter((e) => e.type !== 'StepAttemptStarted')).to.deep.equal([
        {
          id: id('ScheduleTickSkipped', TICK),
          type: 'ScheduleTickSkipped',
          data: { tickMs: TICK, tick: iso(TICK), reason: 'ConcurrencyForbid', at: iso(w.now) },
        },
      ]);
      expect(actionsOf(plan)).to.deep.equal(['event Normal TickSkipped']);
      expect(plan.actions[0]).to.deep.include({ note: `Tick ${iso(TICK)}: ConcurrencyForbid` });
      expect(plan.wakeAt).to.equal(T0 + 20 * MINUTE);
      expect(w.reconcile().events).to.deep.equal([]);
    });

    it('Allow starts the next run next to the running one', () => {
      const w = atNextTick('Allow');
      const plan = w.reconcile();
      expect(dataOf(plan, 'RunStarted')).to.include({ runId: runOf(KEY_1210) });
      expect(createdPods(plan)).to.deep.equal([podOf(KEY_1210, 'a')]);
      expect(w.history.runs.map((r) => [r.key, r.phase])).to.deep.equal([
        [KEY_1200, 'Running'],
        [KEY_1210, 'Running'],
      ]);
    });

    it('Replace stops the running run (its logs first), then starts the new one', () => {
      const w = atNextTick('Replace');
      let plan = w.plan();
      expect([dataOf(plan, 'RunStarted'), [...plan.needLogs]]).to.deep.equal([
        undefined,
        [podOf(KEY_1200, 'a')],
      ]);
      w.log(podOf(KEY_1200, 'a'), { plugin: 'partial\n' });
      plan = w.reconcile();
      expect(plan.events.map((e) => [e.type, e.data.runId, e.data.reason ?? null])).to.deep.equal([
        ['StepAttemptStarted', runOf(KEY_1200), null],
        ['LogTailCaptured', runOf(KEY_1200), null],
        ['StepAttemptFinished', runOf(KEY_1200), 'Replaced'],
        ['RunFinished', runOf(KEY_1200), 'Replaced'],
        ['RunStarted', runOf(KEY_1210), null],
        ['StepAttemptScheduled', runOf(KEY_1210), null],
      ]);
      expect(actionsOf(plan).filter((a) => !a.startsWith('createPod'))).to.deep.equal([
        `deletePod ${podOf(KEY_1200, 'a')} (Replaced)`,
        'event Warning RunReplaced',
      ]);
      expect(w.history.runs.map((r) => [r.key, r.phase])).to.deep.equal([
        [KEY_1200, 'Cancelled'],
        [KEY_1210, 'Running'],
      ]);
    });

    it('after downtime starts one run, for the latest missed tick only', () => {
      const w = new PipelineWorld(pipelineObject(every10('Forbid')));
      w.history = historyOf({ type: 'ScheduleTickSkipped', data: { tickMs: T0 - 6 * HOUR } });
      w.now = T0 + 3 * MINUTE;
      const plan = w.reconcile();
      expect(plan.events.filter((e) => e.type === 'RunStarted').map((e) => e.data.tickMs)).to.deep.equal([
        T0,
      ]);
      expect(plan.wakeAt).to.equal(T0 + 10 * MINUTE);
      expect(typesOf(w.reconcile())).to.not.include('RunStarted');
    });

    it('skips a missed tick older than startingDeadlineSeconds, once', () => {
      const w = new PipelineWorld(pipelineObject({ ...every10('Forbid'), startingDeadlineSeconds: 60 }));
      w.now = T0 + 3 * MINUTE;
      let plan = w.reconcile();
      expect(plan.events.map((e) => [e.type, e.data.tickMs, e.data.reason])).to.deep.equal([
        ['ScheduleTickSkipped', T0, 'StartingDeadlineExceeded'],
      ]);
      expect(plan.wakeAt).to.equal(T0 + 10 * MINUTE);
      plan = w.reconcile();
      expect(plan.events).to.deep.equal([]);
    });

    it('runs the schedule in its time zone (Europe/Berlin, across the spring DST change)', () => {
      const spec = { steps: [step('a')], schedule: '0 3 * * *', timeZone: 'Europe/Berlin' };
      const w = new PipelineWorld(pipelineObject(spec), undefined, at('2025-03-29T02:00:10Z'));
      let plan = w.reconcile();
      expect(dataOf(plan, 'RunStarted')).to.include({ runKey: 's-202503290200' });
      expect(plan.wakeAt).to.equal(at('2025-03-29T03:00:10Z')); // the attempt timeout comes first
      w.pod('s-202503290200', 'a', {
        outcome: 'Succeeded',
        exitCode: 0,
        startedAt: w.now,
        finishedAt: w.now + MINUTE,
      });
      w.log(podOf('s-202503290200', 'a'), { plugin: '' });
      w.now += 2 * MINUTE;
      plan = w.reconcile();
      expect(plan.wakeAt).to.equal(at('2025-03-30T01:00:00Z'));
      w.now = at('2025-03-30T01:00:05Z');
      plan = w.reconcile();
      expect(dataOf(plan, 'RunStarted')).to.include({
        runKey: 's-202503300100',
        tickMs: at('2025-03-30T01:00:00Z'),
      });
    });
  });

  describe('manual runs (flexcore.io/run-requested)', () => {
    const done = (): PipelineWorld => {
      const w = new PipelineWorld(pipelineObject({ steps: [step('a')] }));
      w.history = historyOf(
        ev.runStarted('g1', w.pipeline.spec, T0 - HOUR),
        ev.runFinished('g1', 'Succeeded', T0 - HOUR),
      );
      return w;
    };

    it('starts a run for a new value', () => {
      const w = done();
      w.pipeline = pipelineObject(
        { steps: [step('a')] },
        { annotations: annotate.request('2025-03-01T12:00Z') },
      );
      const plan = w.reconcile();
      expect(dataOf(plan, 'RunStarted')).to.deep.include({
        trigger: 'Manual',
        request: '2025-03-01T12:00Z',
        runKey: w.history.runs[1]!.key,
      });
      expect(w.history.runs[1]!.key).to.match(/^m-[0-9a-f]{8}$/);
      expect(w.reconcile().events.filter((e) => e.type === 'RunStarted')).to.deep.equal([]);
    });

    it('waits under Forbid while a run is active, and says why', () => {
      const w = new PipelineWorld(pipelineObject({ steps: [step('a')] }));
      w.reconcile();
      w.pipeline = pipelineObject({ steps: [step('a')] }, { annotations: annotate.request('now') });
      const plan = w.reconcile();
      expect([typesOf(plan), plan.waiting]).to.deep.equal([[], `a manual run waits for run ${RUN}`]);
    });

    // An earlier value used again is a new request; it must not collide with the earlier run.
    it('never reuses the run id (or event ids) of an earlier run when a value comes back (a → b → a)', () => {
      const w = done();
      const finishRun = (value: string): void => {
        w.pipeline = pipelineObject({ steps: [step('a')] }, { annotations: annotate.request(value) });
        const key = String(dataOf(w.reconcile(), 'RunStarted')?.runKey);
        w.pod(key, 'a', { outcome: 'Succeeded', exitCode: 0, startedAt: w.now, finishedAt: w.now + 1 });
        w.log(podOf(key, 'a'), { plugin: '' });
        w.reconcile();
      };
      finishRun('a');
      finishRun('b');
      w.pipeline = pipelineObject({ steps: [step('a')] }, { annotations: annotate.request('a') });
      const earlier = new Set(w.recorded.map((e) => e.id));
      const plan = w.reconcile();
      expect(plan.events.filter((e) => earlier.has(e.id)).map((e) => e.type)).to.deep.equal([]);
      expect(actionsOf(plan)).to.not.include('event Normal RunSucceeded');
    });
  });

  describe('full refresh (flexcore.io/full-refresh)', () => {
    const cases: [string, string[]][] = [
      ['extract', ['extract']],
      ['*', ['*']],
      [' a, b ,', ['a', 'b']],
    ];
    for (const [value, steps] of cases) {
      it(`"${value}" marks the run's full-refresh steps ${JSON.stringify(steps)}`, () => {
        const w = new PipelineWorld(pipelineObject(chain, { annotations: annotate.fullRefresh(value) }));
        expect(dataOf(w.plan(), 'RunStarted')!.fullRefresh).to.deep.equal(steps);
      });
    }

    // labels.ts: "the next run of the named steps ... ignores stored Singer state" — the next one only.
    // Documented in docs/pipelines.md: runs started while the annotation is present; recorded in RunStarted.
    it('applies to every run started while the annotation is present', () => {
      const spec = { steps: [step('a')], schedule: '0 * * * *' };
      const w = new PipelineWorld(
        pipelineObject(spec, { annotations: annotate.fullRefresh('a') }),
        undefined,
        T0 + 30 * SECOND,
      );
      expect(dataOf(w.reconcile(), 'RunStarted')!.fullRefresh).to.deep.equal(['a']);
      w.pod('s-202503011200', 'a', {
        outcome: 'Succeeded',
        exitCode: 0,
        startedAt: w.now,
        finishedAt: w.now + SECOND,
      });
      w.log(podOf('s-202503011200', 'a'), { plugin: '' });
      w.now = T0 + HOUR + 30 * SECOND;
      const plan = w.reconcile();
      expect(dataOf(plan, 'RunStarted')).to.deep.include({ runKey: 's-202503011300', fullRefresh: ['a'] });
    });
  });

  describe('one-shot full refresh of a manual request (flexcore.io/run-full-refresh)', () => {
    const spec = { steps: [step('a'), step('b')], schedule: '0 * * * *' };
    it('applies to the manual run of the request it came with, joined with the standing annotation', () => {
      const w = new PipelineWorld(
        pipelineObject(spec, {
          annotations: {
            ...annotate.request('r1'),
            [ANNOTATIONS.runFullRefresh]: 'b',
            ...annotate.fullRefresh('a'),
          },
        }),
        undefined,
        T0 + 30 * SECOND,
      );
      const started = w
        .reconcile()
        .events.filter((e) => e.type === 'RunStarted')
        .map((e) => [e.data.trigger, e.data.fullRefresh]);
      expect(started).to.deep.equal([['Manual', ['a', 'b']]]);
    });

    it('does not apply to a run that no request started', () => {
      const w = new PipelineWorld(
        pipelineObject(
          { steps: [step('a'), step('b')] },
          {
            annotations: { [ANNOTATIONS.runFullRefresh]: 'b', ...annotate.fullRefresh('a') },
          },
        ),
      );
      expect(dataOf(w.plan(), 'RunStarted')).to.deep.include({ trigger: 'Generation', fullRefresh: ['a'] });
    });
  });

  describe('logs and Singer state', () => {
    const singer = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      steps: [{ name: 'sync', plugin: 'tap-pg', target: { plugin: 'target-jsonl' }, ...extra }],
    });
    const TARGET_LOG = [
      'INFO target starting',
      '{"bookmarks":{"orders":{"id":41}}}',
      '{"type":"STATE","value":{"bookmarks":{"orders":{"id":42}}}}',
      'INFO done',
    ].join('\n');

    function finishedSync(spec: Record<string, unknown>, outcome: 'Succeeded' | 'Failed'): Plan {
      const w = new PipelineWorld(pipelineObject(spec), pluginMap(TAP, TARGET));
      w.reconcile();
      w.now = T0 + MINUTE;
      w.pod('g1', 'sync', {
        outcome,
        exitCode: outcome === 'Succeeded' ? 0 : 1,
        startedAt: T0,
        finishedAt: T0 + 30 * SECOND,
        containers: ['tap', 'target'],
      });
      w.log(podOf('g1', 'sync'), { tap: 'tap log\n', target: TARGET_LOG });
      return w.reconcile();
    }

    it("keeps every container's log tail and the target's last state", () => {
      const plan = finishedSync(singer(), 'Succeeded');
      expect(typesOf(plan).slice(0, 3)).to.deep.equal([
        'LogTailCaptured',
        'LogTailCaptured',
        'SingerStateCaptured',
      ]);
      expect(plan.events.slice(0, 2).map((e) => [e.data.container, e.data.tail])).to.deep.equal([
        ['tap', 'tap log\n'],
        ['target', TARGET_LOG],
      ]);
      expect(plan.events[2]).to.deep.equal({
        id: id('SingerStateCaptured', RUN, 'sync', 1),
        type: 'SingerStateCaptured',
        data: {
          runId: RUN,
          step: 'sync',
          attempt: 1,
          stateId: `${NAMESPACE}/${PIPELINE}/sync`,
          state: { bookmarks: { orders: { id: 42 } } },
          partial: false,
          at: iso(T0 + MINUTE),
        },
      });
    });

    it('keeps the state of a failed attempt as partial, under the step stateId', () => {
      const plan = finishedSync(singer({ stateId: 'shared/orders' }), 'Failed');
      expect(dataOf(plan, 'SingerStateCaptured')).to.include({
        stateId: `${NAMESPACE}/shared/orders`,
        partial: true,
      });
      expect(dataOf(plan, 'StepAttemptFinished')).to.include({ phase: 'Failed' });
    });

    it('captures no state from a step without a target', () => {
      const w = new PipelineWorld(pipelineObject({ steps: [step('a')] }));
      w.reconcile();
      w.pod('g1', 'a', { outcome: 'Succeeded', exitCode: 0, startedAt: T0, finishedAt: T0 + 1 });
      w.log(podOf('g1', 'a'), { plugin: '{"bookmarks":{}}\n' });
      expect(typesOf(w.reconcile())).to.not.include('SingerStateCaptured');
    });

    it(`bounds a log tail to ${MAX_LOG_TAIL_BYTES} bytes, keeping the end`, () => {
      const w = new PipelineWorld(pipelineObject({ steps: [step('a')] }));
      w.reconcile();
      w.pod('g1', 'a', { outcome: 'Failed', exitCode: 1, startedAt: T0, finishedAt: T0 + 1 });
      const log = `${'x'.repeat(MAX_LOG_TAIL_BYTES)}\nfatal: disk full\n`;
      w.log(podOf('g1', 'a'), { plugin: log });
      const data = dataOf(w.reconcile(), 'LogTailCaptured')!;
      expect(data.truncated).to.equal(true);
      expect(data.tail).to.equal(log.slice(-MAX_LOG_TAIL_BYTES));
    });
  });

  describe('deletion', () => {
    it('stops active runs (logs first), records the deletion once and starts nothing', () => {
      const w = new PipelineWorld(pipelineObject(chain));
      w.reconcile();
      w.pod('g1', 'a', { outcome: 'Running', startedAt: T0 });
      w.pipeline = pipelineObject(chain, {
        deleting: true,
        generation: 2,
        annotations: annotate.request('x'),
      });
      w.now = T0 + MINUTE;
      let plan = w.plan();
      expect([typesOf(plan).includes('PipelineDeleted'), [...plan.needLogs]]).to.deep.equal([
        false,
        [podOf('g1', 'a')],
      ]);
      w.log(podOf('g1', 'a'), { plugin: '' });
      plan = w.reconcile();
      expect(plan.events.map((e) => [e.type, e.data.reason ?? null])).to.deep.equal([
        ['LogTailCaptured', null],
        ['StepAttemptStarted', null],
        ['StepAttemptFinished', 'PipelineDeleted'],
        ['StepSkipped', 'PipelineDeleted'],
        ['RunFinished', 'PipelineDeleted'],
        ['PipelineDeleted', null],
      ]);
      expect(actionsOf(plan)).to.deep.equal([
        `deletePod ${podOf('g1', 'a')} (PipelineDeleted)`,
        'event Warning RunPipelineDeleted',
      ]);
      expect([w.history.deleted, plan.wakeAt]).to.deep.equal([true, undefined]);
      expect(w.reconcile().events).to.deep.equal([]);
    });

    it('of a pipeline that never ran records only the deletion', () => {
      const w = new PipelineWorld(pipelineObject(chain, { deleting: true }));
      const plan = w.reconcile();
      expect(plan.events).to.deep.equal([
        { id: id('PipelineDeleted'), type: 'PipelineDeleted', data: { at: iso(T0) } },
      ]);
      expect(plan.actions).to.deep.equal([]);
    });
  });

  describe('history limits', () => {
    it('deletes the Pods (and Secrets) of finished runs beyond the limits, newest kept', () => {
      const spec = { steps: [step('a')], successfulRunsHistoryLimit: 1, failedRunsHistoryLimit: 1 };
      const w = new PipelineWorld(pipelineObject(spec, { generation: 6 }));
      const s = w.pipeline.spec;
      const outcomes: [string, string][] = [
        ['g1', 'Succeeded'],
        ['g2', 'Failed'],
        ['g3', 'Succeeded'],
        ['g4', 'Cancelled'],
        ['g5', 'Succeeded'],
      ];
      w.history = historyOf(
        ...outcomes.flatMap(([key, phase], i) => [
          ev.runStarted(key, s, T0 + i, { trigger: 'Generation', generation: i + 1 }),
          ev.runFinished(key, phase, T0 + i),
        ]),
        ev.runStarted('g6', s, T0, { trigger: 'Generation', generation: 6 }),
        ev.scheduled('g6', 'a', T0),
        ev.started('g6', 'a', T0),
      );
      for (const [key] of outcomes)
        w.pod(key, 'a', { outcome: 'Succeeded', exitCode: 0, deleting: key === 'g1' });
      w.pod('g6', 'a', { outcome: 'Running', startedAt: T0 });
      const plan = w.plan();
      expect(typesOf(plan)).to.deep.equal([]);
      expect(actionsOf(plan)).to.deep.equal([
        `deletePod ${podOf('g3', 'a')} (HistoryLimit)`,
        `deleteSecret ${podOf('g3', 'a')}`,
        `deletePod ${podOf('g2', 'a')} (HistoryLimit)`,
        `deleteSecret ${podOf('g2', 'a')}`,
      ]);
    });
    it('deletes Pods of runs older than those held in memory once the held runs fill the limit', () => {
      const spec = { steps: [step('a')], successfulRunsHistoryLimit: 2, failedRunsHistoryLimit: 2 };
      const w = new PipelineWorld(pipelineObject(spec, { generation: 4 }));
      const s = w.pipeline.spec;
      // Held in memory: g2 and g3 succeeded, g4 failed. g0 and g1 were pruned from memory.
      w.history = historyOf(
        ...(
          [
            ['g2', 'Succeeded'],
            ['g3', 'Succeeded'],
            ['g4', 'Failed'],
          ] as const
        ).flatMap(([key, phase], i) => [
          ev.runStarted(key, s, T0 + i, { trigger: 'Generation', generation: i + 2 }),
          ev.runFinished(key, phase, T0 + i),
        ]),
      );
      w.pod('g0', 'a', { outcome: 'Succeeded', exitCode: 0 }); // two newer succeeded runs held: beyond
      w.pod('g1', 'a', { outcome: 'Failed', exitCode: 1 }); // one newer failed run held: may be kept
      w.pod('g2', 'a', { outcome: 'Succeeded', exitCode: 0 });
      w.pod('g3', 'a', { outcome: 'Succeeded', exitCode: 0 });
      w.pod('g4', 'a', { outcome: 'Failed', exitCode: 1 });
      expect(actionsOf(w.plan())).to.deep.equal([
        `deletePod ${podOf('g0', 'a')} (HistoryLimit)`,
        `deleteSecret ${podOf('g0', 'a')}`,
      ]);
    });
  });

  describe('the config Secret', () => {
    const fromSecret = { steps: [step('a', { configFrom: [{ secretRef: { name: 'db' } }] })] };

    it('has one only when the step takes something from a Secret; it goes when the attempt ends', () => {
      const w = new PipelineWorld(pipelineObject(fromSecret));
      const plan = w.reconcile();
      expect(dataOf(plan, 'StepAttemptScheduled')).to.not.have.property('config');
      w.now = T0 + MINUTE;
      w.pod('g1', 'a', { outcome: 'Succeeded', exitCode: 0, startedAt: T0, finishedAt: T0 + MINUTE });
      w.log(podOf('g1', 'a'), { plugin: '' });
      expect(actionsOf(w.reconcile())).to.deep.equal([
        `deleteSecret ${podOf('g1', 'a')}`,
        'event Normal RunSucceeded',
      ]);
    });

    it('deletes a Secret again at the history limit (a crash may have left it), but not one never made', () => {
      const spec = { steps: [step('a')], successfulRunsHistoryLimit: 1 };
      const w = new PipelineWorld(pipelineObject(spec, { generation: 3 }));
      const s = w.pipeline.spec;
      const inline = ev.scheduled('g1', 'a', T0);
      w.history = historyOf(
        ev.runStarted('g1', s, T0, { trigger: 'Generation', generation: 1 }),
        { ...inline, data: { ...inline.data, config: 'inline' } },
        ev.finished('g1', 'a', T0),
        ev.runFinished('g1', 'Succeeded', T0),
        ev.runStarted('g2', s, T0 + 1, { trigger: 'Generation', generation: 2 }),
        ev.scheduled('g2', 'a', T0 + 1),
        ev.finished('g2', 'a', T0 + 1),
        ev.runFinished('g2', 'Succeeded', T0 + 1),
        ev.runStarted('g3', s, T0 + 2, { trigger: 'Generation', generation: 3 }),
        ev.runFinished('g3', 'Succeeded', T0 + 2),
      );
      for (const key of ['g1', 'g2', 'g3']) w.pod(key, 'a', { outcome: 'Succeeded', exitCode: 0 });
      expect(actionsOf(w.plan())).to.deep.equal([
        `deletePod ${podOf('g2', 'a')} (HistoryLimit)`,
        `deleteSecret ${podOf('g2', 'a')}`,
        `deletePod ${podOf('g1', 'a')} (HistoryLimit)`,
      ]);
    });
  });

  describe('when no run may start (startBlocked)', () => {
    it('starts nothing new but lets the active run finish', () => {
      const w = new PipelineWorld(pipelineObject({ steps: [step('a')] }));
      w.reconcile();
      w.pipeline = pipelineObject({ steps: [step('a')] }, { generation: 2 });
      w.startBlocked = 'step a: FlexPlugin "job" not found';
      w.pod('g1', 'a', { outcome: 'Succeeded', exitCode: 0, startedAt: T0, finishedAt: T0 + 1 });
      w.log(podOf('g1', 'a'), { plugin: '' });
      const plan = w.reconcile();
      expect(typesOf(plan)).to.deep.equal([
        'LogTailCaptured',
        'StepAttemptStarted',
        'StepAttemptFinished',
        'RunFinished',
      ]);
      w.startBlocked = undefined;
      expect(dataOf(w.reconcile(), 'RunStarted')).to.include({ runKey: 'g2' });
    });

    // The CRD admits any five fields and any zone-shaped name; validation blocks such a pipeline.
    for (const [what, fields] of [
      ['an invalid schedule', { schedule: '61 * * * *' }],
      ['an unknown time zone', { schedule: '0 * * * *', timeZone: 'Mars/Olympus' }],
    ] as const) {
      it(`does not throw for ${what}, and still finishes the active run`, () => {
        const w = new PipelineWorld(pipelineObject({ steps: [step('a')] }));
        w.reconcile();
        w.pipeline = { ...w.pipeline, spec: { ...w.pipeline.spec, ...fields } };
        w.startBlocked = `spec.schedule: ${what}`;
        w.pod('g1', 'a', { outcome: 'Succeeded', exitCode: 0, startedAt: T0, finishedAt: T0 + 1 });
        w.log(podOf('g1', 'a'), { plugin: '' });
        let plan: Plan | undefined;
        expect(() => (plan = w.plan())).to.not.throw();
        expect(dataOf(plan!, 'RunFinished')).to.include({ phase: 'Succeeded' });
      });
    }
  });

  it('uses the annotation keys the docs name', () => {
    expect(ANNOTATIONS).to.include({
      runRequested: 'flexcore.io/run-requested',
      cancelRun: 'flexcore.io/cancel-run',
      fullRefresh: 'flexcore.io/full-refresh',
    });
  });
});
