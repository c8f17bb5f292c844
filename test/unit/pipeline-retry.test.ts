import { expect } from 'chai';
import { RetryPolicy, type Step } from '../../api/v1alpha1/index.js';
import type { AttemptState, StepState } from '../../controller/pipeline/history.js';
import {
  DEFAULT_BACKOFF,
  JITTER,
  hasAttemptsLeft,
  isRetryable,
  retryDelayMs,
  unitFromSeed,
} from '../../controller/pipeline/retry.js';
import { isCancelSkip, standing } from '../../controller/pipeline/step-outcome.js';
import { T0, UTILITY, pluginObject } from './support/pipeline-fixtures.js';

const policy = (p: Record<string, unknown>): RetryPolicy => RetryPolicy.parse(p);

describe('retries', () => {
  describe('isRetryable', () => {
    const cases: [string, RetryPolicy | undefined, number | undefined, boolean][] = [
      ['no policy: every failure', undefined, 1, true],
      ['no exit codes listed: every failure', policy({ limit: 2 }), 137, true],
      ['no exit codes listed: a Pod lost without an exit code', policy({ limit: 2 }), undefined, true],
      ['an empty list: every failure', policy({ limit: 2, retryableExitCodes: [] }), 9, true],
      ['a listed exit code', policy({ limit: 2, retryableExitCodes: [75, 111] }), 111, true],
      ['an exit code not listed', policy({ limit: 2, retryableExitCodes: [75] }), 1, false],
      [
        'no exit code when codes are listed',
        policy({ limit: 2, retryableExitCodes: [75] }),
        undefined,
        false,
      ],
    ];
    for (const [what, p, code, expected] of cases) {
      it(`${expected ? 'retries' : 'does not retry'} ${what}`, () =>
        expect(isRetryable(p, code)).to.equal(expected));
    }
  });

  describe('hasAttemptsLeft (limit = retries after the first attempt)', () => {
    const cases: [RetryPolicy | undefined, number, boolean][] = [
      [undefined, 1, false],
      [policy({}), 1, false],
      [policy({ limit: 2 }), 1, true],
      [policy({ limit: 2 }), 2, true],
      [policy({ limit: 2 }), 3, false],
      [policy({ limit: 10 }), 11, false],
    ];
    for (const [p, attempt, expected] of cases) {
      it(`limit ${p?.limit ?? 'unset'}, attempt ${attempt} failed: ${expected ? 'retry' : 'give up'}`, () =>
        expect(hasAttemptsLeft(p, attempt)).to.equal(expected));
    }
  });

  describe('unitFromSeed', () => {
    it('is deterministic and in [0, 1)', () => {
      const values = Array.from({ length: 500 }, (_, i) => unitFromSeed(`run/step/${i}`));
      expect(values.every((v) => v >= 0 && v < 1)).to.equal(true);
      expect(unitFromSeed('run/step/7')).to.equal(values[7]);
    });
    it('spreads seeds over the interval', () => {
      const values = Array.from({ length: 500 }, (_, i) => unitFromSeed(`run/step/${i}`));
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      expect(mean).to.be.within(0.4, 0.6);
      expect(new Set(values).size).to.equal(500);
    });
  });

  describe('retryDelayMs', () => {
    const SEED = 'g1-3f9c1e2a/extract/1';
    const jittered = (seconds: number, seed = SEED): number =>
      Math.round(seconds * 1000 * (1 + JITTER * unitFromSeed(seed)));

    it('uses the default backoff: 10 s doubling up to 600 s', () => {
      expect(DEFAULT_BACKOFF).to.deep.equal({ initialSeconds: 10, maxSeconds: 600, factor: 2 });
      const bases = [10, 20, 40, 80, 160, 320, 600, 600];
      expect(bases.map((_, i) => retryDelayMs(undefined, i + 1, SEED))).to.deep.equal(
        bases.map((b) => jittered(b)),
      );
    });

    it('follows the policy backoff', () => {
      const p = policy({ limit: 5, backoff: { initialSeconds: 5, factor: 3, maxSeconds: 100 } });
      const bases = [5, 15, 45, 100, 100];
      expect(bases.map((_, i) => retryDelayMs(p, i + 1, SEED))).to.deep.equal(bases.map((b) => jittered(b)));
    });

    it('adds between 0 and 20% jitter', () => {
      for (let i = 0; i < 200; i++) {
        const d = retryDelayMs(undefined, 1, `seed-${i}`);
        expect(d).to.be.within(10_000, 12_000);
      }
    });

    it('is the same for the same seed and differs between steps', () => {
      expect(retryDelayMs(undefined, 2, SEED)).to.equal(retryDelayMs(undefined, 2, SEED));
      expect(retryDelayMs(undefined, 2, 'g1-3f9c1e2a/load/1')).to.not.equal(retryDelayMs(undefined, 2, SEED));
    });

    it('does not overflow for a large factor and many attempts', () => {
      const p = policy({ limit: 10, backoff: { initialSeconds: 60, factor: 10, maxSeconds: 3600 } });
      expect(retryDelayMs(p, 11, SEED)).to.equal(jittered(3600));
    });
  });
});

describe('step standing', () => {
  const RUN = 'g1-3f9c1e2a';
  const failedAt = T0 + 60_000;
  const attempt = (n: number, fields: Partial<AttemptState>): AttemptState => ({
    attempt: n,
    pod: `orders-g1-a-${n}`,
    scheduledAt: T0,
    phase: 'Failed',
    finishedAt: failedAt,
    ...fields,
  });
  const stateOf = (...attempts: AttemptState[]): StepState => ({ attempts });
  const stepA = (extra: Partial<Step> = {}): Step => ({ name: 'a', plugin: 'job', ...extra });
  const retries2 = policy({ limit: 2 });

  it('is notStarted without attempts', () => {
    expect(standing(RUN, stepA(), undefined, UTILITY)).to.deep.equal({ kind: 'notStarted' });
    expect(standing(RUN, stepA(), stateOf(), UTILITY)).to.deep.equal({ kind: 'notStarted' });
  });

  for (const phase of ['Scheduled', 'Running'] as const) {
    it(`is active while the last attempt is ${phase}`, () => {
      const a = attempt(1, { phase, finishedAt: undefined });
      expect(standing(RUN, stepA(), stateOf(a), UTILITY)).to.deep.equal({ kind: 'active', attempt: a });
    });
  }

  const done: [string, Partial<AttemptState>, string, string | undefined][] = [
    ['succeeded', { phase: 'Succeeded', exitCode: 0 }, 'Succeeded', undefined],
    ['timed out (never retried)', { phase: 'TimedOut', reason: 'Timeout' }, 'TimedOut', 'Timeout'],
    ['was cancelled', { phase: 'Cancelled', reason: 'Replaced' }, 'Cancelled', 'Replaced'],
  ];
  for (const [what, fields, outcome, reason] of done) {
    it(`is done when its attempt ${what}`, () => {
      expect(standing(RUN, stepA({ retries: retries2 }), stateOf(attempt(1, fields)), UTILITY)).to.deep.equal(
        {
          kind: 'done',
          outcome,
          reason,
        },
      );
    });
  }

  it('is retrying after a failed attempt with retries left, at finish + delay', () => {
    const last = attempt(1, { exitCode: 1, reason: 'ExitCode1' });
    expect(standing(RUN, stepA({ retries: retries2 }), stateOf(last), UTILITY)).to.deep.equal({
      kind: 'retrying',
      after: last,
      at: failedAt + retryDelayMs(retries2, 1, `${RUN}/a/1`),
    });
  });

  it('counts the delay from when the attempt was scheduled when its finish time is unknown', () => {
    const last = attempt(2, { finishedAt: undefined, scheduledAt: T0 + 5 });
    const s = standing(RUN, stepA({ retries: retries2 }), stateOf(attempt(1, {}), last), UTILITY);
    expect(s).to.deep.include({ kind: 'retrying', at: T0 + 5 + retryDelayMs(retries2, 2, `${RUN}/a/2`) });
  });

  it('is failed when the retries are used up', () => {
    const s = standing(
      RUN,
      stepA({ retries: retries2 }),
      stateOf(attempt(1, {}), attempt(2, {}), attempt(3, { reason: 'ExitCode2' })),
      UTILITY,
    );
    expect(s).to.deep.equal({ kind: 'done', outcome: 'Failed', reason: 'ExitCode2' });
  });

  it('is failed at once for an exit code that is not retryable', () => {
    const p = policy({ limit: 3, retryableExitCodes: [75] });
    const s = standing(
      RUN,
      stepA({ retries: p }),
      stateOf(attempt(1, { exitCode: 1, reason: 'ExitCode1' })),
      UTILITY,
    );
    expect(s).to.deep.equal({ kind: 'done', outcome: 'Failed', reason: 'ExitCode1' });
  });

  it("uses the plugin's default retries unless the step sets its own", () => {
    const plugin = pluginObject('job', { type: 'utility', image: 'x', defaults: { retries: { limit: 1 } } });
    const failed = stateOf(attempt(1, {}));
    expect(standing(RUN, stepA(), failed, plugin).kind).to.equal('retrying');
    expect(standing(RUN, stepA({ retries: policy({ limit: 0 }) }), failed, plugin).kind).to.equal('done');
    expect(standing(RUN, stepA(), failed, undefined).kind).to.equal('done');
  });

  const skips: [string, string][] = [
    ['UpstreamFailed', 'Skipped'],
    ['Cancelled', 'Cancelled'],
    ['Replaced', 'Cancelled'],
    ['PipelineDeleted', 'Cancelled'],
    ['DeadlineExceeded', 'Cancelled'],
  ];
  for (const [reason, outcome] of skips) {
    it(`a step skipped for ${reason} is done as ${outcome}`, () => {
      const state: StepState = { attempts: [attempt(1, {})], skipped: { reason, at: T0 } };
      expect(standing(RUN, stepA({ retries: retries2 }), state, UTILITY)).to.deep.equal({
        kind: 'done',
        outcome,
        reason,
      });
      expect(isCancelSkip(reason)).to.equal(outcome === 'Cancelled');
    });
  }
});
