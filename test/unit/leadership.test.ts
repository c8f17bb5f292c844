import { expect } from 'chai';
import { Buckets, fnv1a64 } from '../../controller/leadership/buckets.js';
import { electionConfig, flagsAsEnv } from '../../controller/leadership/election-config.js';
import {
  expiresAt,
  mayTake,
  microTime,
  nextRecord,
  recordOf,
  releasedRecord,
  type LeaseRecord,
} from '../../controller/leadership/lease-record.js';
import { memberLeaseName } from '../../controller/leadership/membership.js';
import { shareOf, surplus } from '../../controller/leadership/shares.js';
import { parseDuration } from '../../controller/duration.js';
import { checkTimings, DEFAULT_TIMINGS } from '../../controller/leadership/timings.js';

const noFile = (): string => {
  throw new Error('ENOENT');
};

describe('leadership', () => {
  describe('fnv1a64 and buckets', () => {
    it('matches the published FNV-1a 64 test vectors', () => {
      expect(fnv1a64('')).to.equal(0xcbf29ce484222325n);
      expect(fnv1a64('a')).to.equal(0xaf63dc4c8601ec8cn);
      expect(fnv1a64('foobar')).to.equal(0x85944171f73967e8n);
    });

    it('maps a key to the same bucket every time and spreads keys over all buckets', () => {
      const b = new Buckets(4);
      expect(b.of('ns/orders')).to.equal(b.of('ns/orders'));
      const counts = [0, 0, 0, 0];
      for (let i = 0; i < 400; i++) counts[b.of(`team-a/pipeline-${i}`)]!++;
      for (const c of counts) expect(c).to.be.within(60, 140);
      expect(b.names).to.deep.equal([
        'flexcore-engine-0-of-4',
        'flexcore-engine-1-of-4',
        'flexcore-engine-2-of-4',
        'flexcore-engine-3-of-4',
      ]);
      expect(b.scopeOf('x/y')).to.equal(b.names[b.of('x/y')]);
    });

    it('refuses a bucket count below 1 or not an integer', () => {
      expect(() => new Buckets(0)).to.throw(/buckets must be an integer from 1 to 256/);
      expect(() => new Buckets(1.5)).to.throw(/buckets must be/);
      expect(() => new Buckets(257)).to.throw(/buckets must be/);
    });
  });

  describe('timings', () => {
    it('accepts client-go defaults and refuses timings out of order', () => {
      expect(checkTimings(DEFAULT_TIMINGS)).to.equal(DEFAULT_TIMINGS);
      const bad: [Partial<typeof DEFAULT_TIMINGS>, RegExp][] = [
        [{ leaseDurationMs: 10_000 }, /lease duration .* greater than the renew deadline/],
        [{ retryPeriodMs: 9_000 }, /renew deadline .* greater than 1.2 × the retry period/],
        [{ retryPeriodMs: 0 }, /retryPeriodMs must be a positive duration/],
        [{ leaseDurationMs: 15_500 }, /whole seconds/],
      ];
      for (const [change, message] of bad)
        expect(() => checkTimings({ ...DEFAULT_TIMINGS, ...change })).to.throw(message);
    });

    it('parses Go-style durations and plain seconds', () => {
      expect(parseDuration('15s', 'x')).to.equal(15_000);
      expect(parseDuration('500ms', 'x')).to.equal(500);
      expect(parseDuration('1m30s', 'x')).to.equal(90_000);
      expect(parseDuration('2', 'x')).to.equal(2000);
      expect(() => parseDuration('15 seconds', 'LEADER_ELECTION_RETRY_PERIOD')).to.throw(
        /LEADER_ELECTION_RETRY_PERIOD: "15 seconds" is not a duration/,
      );
      expect(() => parseDuration('-1s', 'x')).to.throw(/not a duration/);
    });
  });

  describe('lease records (client-go rules)', () => {
    const held: LeaseRecord = {
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: microTime(1000),
      renewTime: microTime(5000),
      leaseTransitions: 3,
    };

    it('lets a standby take a Lease only when free, its own, or not seen to change for a lease duration', () => {
      const seen = { record: held, seenAt: 10_000 };
      expect(mayTake(seen, 'b', 24_999, 15_000)).to.equal(false);
      expect(mayTake(seen, 'b', 25_000, 15_000)).to.equal(true);
      expect(mayTake(seen, 'a', 10_001, 15_000)).to.equal(true);
      expect(
        mayTake({ record: { ...held, holderIdentity: '' }, seenAt: 10_000 }, 'b', 10_001, 15_000),
      ).to.equal(true);
      expect(expiresAt(seen, 'b', 15_000)).to.equal(25_000);
      expect(expiresAt(seen, 'a', 15_000)).to.equal(undefined);
    });

    it('judges expiry from when the record was seen, never from the renewTime written in it', () => {
      // renewTime says 5 s, but this replica first saw the record at 100 s: valid until 115 s.
      expect(mayTake({ record: held, seenAt: 100_000 }, 'b', 110_000, 15_000)).to.equal(false);
    });

    it('keeps acquireTime and the count on renewal, starts a new term on take-over', () => {
      const renewed = nextRecord(held, 'a', true, 20_000, 15_000);
      expect(renewed).to.include({ holderIdentity: 'a', acquireTime: held.acquireTime, leaseTransitions: 3 });
      expect(renewed.renewTime).to.equal('1970-01-01T00:00:20.000000Z');
      const taken = nextRecord(held, 'b', false, 30_000, 15_000);
      expect(taken).to.include({ holderIdentity: 'b', leaseTransitions: 4, leaseDurationSeconds: 15 });
      expect(taken.acquireTime).to.equal(taken.renewTime);
      expect(nextRecord(undefined, 'b', false, 30_000, 15_000).leaseTransitions).to.equal(0);
      // The same identity after a restart (not leading in this process) is a new term too.
      expect(nextRecord(held, 'a', false, 30_000, 15_000).leaseTransitions).to.equal(4);
    });

    it('releases with no holder and keeps the count', () => {
      expect(releasedRecord(held, 40_000)).to.include({
        holderIdentity: '',
        leaseTransitions: 3,
        leaseDurationSeconds: 1,
      });
    });

    it('reads a Lease object with missing fields as a free record', () => {
      expect(recordOf({ metadata: { name: 'x' } })).to.deep.equal({
        holderIdentity: '',
        leaseDurationSeconds: 0,
        acquireTime: undefined,
        renewTime: undefined,
        leaseTransitions: 0,
      });
    });
  });

  describe('fair shares', () => {
    const holdings = (o: Record<string, number>): Map<string, number> => new Map(Object.entries(o));

    it('gives ceil(B/R) to B mod R members and floor(B/R) to the rest', () => {
      const members = ['a', 'b', 'c'];
      const shares = members.map((m) => shareOf(m, members, holdings({}), 4));
      expect(shares).to.deep.equal([2, 1, 1]);
      expect(['a', 'b'].map((m) => shareOf(m, ['a', 'b'], holdings({}), 4))).to.deep.equal([2, 2]);
    });

    it('gives the larger shares to the members that hold most now, so a balanced set stays put', () => {
      // B = 1: a standby joining a leader takes nothing from it, whatever the names.
      expect(shareOf('z', ['a', 'z'], holdings({ z: 1 }), 1)).to.equal(1);
      expect(shareOf('a', ['a', 'z'], holdings({ z: 1 }), 1)).to.equal(0);
      // 3 replicas, one holding all 4: it keeps 2, the others get 1 each.
      const h = holdings({ c: 4 });
      expect(['a', 'b', 'c'].map((m) => shareOf(m, ['a', 'b', 'c'], h, 4))).to.deep.equal([1, 1, 2]);
    });

    it('counts this replica even when the member list does not have it yet', () => {
      expect(shareOf('new', ['old'], holdings({ old: 4 }), 4)).to.equal(2);
      expect(shareOf('only', [], holdings({}), 4)).to.equal(4);
    });

    it('releases the surplus over the share, highest bucket first', () => {
      expect(surplus([0, 1, 2, 3], 2)).to.deep.equal([3, 2]);
      expect(surplus([1], 2)).to.deep.equal([]);
    });
  });

  describe('election config', () => {
    const env = { WATCH_NAMESPACE: 'team-a' };

    it('defaults to client-go timings, one bucket, election on, the watch namespace', () => {
      const c = electionConfig({ ...env, POD_NAME: 'flexcore-0' }, noFile);
      expect(c).to.include({ leaderElect: true, namespace: 'team-a', identity: 'flexcore-0' });
      expect(c.timings).to.deep.equal(DEFAULT_TIMINGS);
      expect(c.buckets.count).to.equal(1);
      expect(electionConfig({}, () => 'flexcore-system\n').namespace).to.equal('flexcore-system');
      expect(electionConfig({}, noFile).identity).to.match(/-[0-9a-f]{6}$/);
    });

    it('lets flags win over the environment', () => {
      const flags = flagsAsEnv([
        '--leader-elect=false',
        '--buckets',
        '4',
        '--leader-election-retry-period=1s',
      ]);
      const c = electionConfig({ ...env, FLEXCORE_BUCKETS: '2', ...flags }, noFile);
      expect(c.leaderElect).to.equal(false);
      expect(c.buckets.count).to.equal(4);
      expect(c.timings.retryPeriodMs).to.equal(1000);
      expect(flagsAsEnv(['--leader-elect'])).to.deep.equal({ LEADER_ELECT: 'true' });
    });

    it('names the bad value in one clear error', () => {
      const cases: [NodeJS.ProcessEnv | string[], RegExp][] = [
        [{ FLEXCORE_BUCKETS: '0' }, /buckets must be an integer from 1 to 256, got 0/],
        [{ FLEXCORE_BUCKETS: 'four' }, /FLEXCORE_BUCKETS must be an integer from 1 to 256, got "four"/],
        [
          { LEADER_ELECTION_RENEW_DEADLINE: '20s' },
          /lease duration \(15000 ms\) must be greater than the renew deadline/,
        ],
        [{ LEADER_ELECTION_RETRY_PERIOD: 'soon' }, /LEADER_ELECTION_RETRY_PERIOD: "soon" is not a duration/],
        [{ LEADER_ELECT: 'maybe' }, /LEADER_ELECT \(--leader-elect\) must be true or false/],
        [{ LEADER_ELECTION_NAMESPACE: 'Team_A' }, /"Team_A" is not a valid namespace name/],
        [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL must start with redis:\/\/ or rediss:\/\//],
        [['--buckets'], /--buckets needs a value/],
        [['--leader-elect-now'], /unknown flag --leader-elect-now/],
        [['stray'], /unexpected argument "stray"/],
      ];
      for (const [input, message] of cases) {
        const run = (): unknown =>
          Array.isArray(input)
            ? electionConfig(flagsAsEnv(input), noFile)
            : electionConfig({ ...env, ...input }, noFile);
        expect(run, String(message)).to.throw(message);
      }
    });
  });

  describe('member lease names', () => {
    it('are valid Lease names, distinct for identities that slug alike', () => {
      const a = memberLeaseName('Controller_1');
      const b = memberLeaseName('controller-1');
      expect(a).to.match(/^flexcore-member-controller-1-[0-9a-f]{8}$/);
      expect(a).to.not.equal(b);
      expect(memberLeaseName('x'.repeat(300)).length).to.be.at.most(63);
    });
  });
});
