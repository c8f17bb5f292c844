import { expect } from 'chai';
import {
  ExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  TokenBucketRateLimiter,
  defaultControllerRateLimiter,
  type RateLimiter,
} from '../../controller/kube/rate-limiter.js';
import { FakeClock } from './support/fake-clock.js';

function delays(limiter: RateLimiter, key: string, times: number): number[] {
  return Array.from({ length: times }, () => limiter.when(key));
}

describe('exponential failure rate limiter', () => {
  const cases: { name: string; options: { baseMs?: number; maxMs?: number }; want: number[] }[] = [
    { name: 'defaults double from 5 ms', options: {}, want: [5, 10, 20, 40, 80, 160, 320, 640] },
    { name: 'caps at maxMs', options: { baseMs: 5, maxMs: 30 }, want: [5, 10, 20, 30, 30, 30] },
    { name: 'takes another base', options: { baseMs: 100, maxMs: 1000 }, want: [100, 200, 400, 800, 1000] },
  ];
  for (const { name, options, want } of cases) {
    it(name, () => {
      expect(delays(new ExponentialFailureRateLimiter(options), 'ns/a', want.length)).to.deep.equal(want);
    });
  }

  it('caps at 1000 s by default, however many failures', () => {
    const limiter = new ExponentialFailureRateLimiter();
    const all = delays(limiter, 'ns/a', 2000);
    expect(all[17]).to.equal(5 * 2 ** 17);
    expect(new Set(all.slice(18))).to.deep.equal(new Set([1_000_000]));
  });

  it('counts requeues per key and forget resets only that key', () => {
    const limiter = new ExponentialFailureRateLimiter();
    delays(limiter, 'ns/a', 3);
    delays(limiter, 'ns/b', 2);
    expect([limiter.numRequeues('ns/a'), limiter.numRequeues('ns/b')]).to.deep.equal([3, 2]);
    limiter.forget('ns/a');
    expect(limiter.numRequeues('ns/a')).to.equal(0);
    expect(limiter.when('ns/a')).to.equal(5);
    expect(limiter.when('ns/b')).to.equal(20);
  });
});

describe('token bucket rate limiter', () => {
  it('lets a burst through, then spaces reservations at qps', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucketRateLimiter(clock, { qps: 10, burst: 3 });
    expect(delays(bucket, 'k', 6)).to.deep.equal([0, 0, 0, 100, 200, 300]);
  });

  it('refills with time from the injected clock, up to the burst', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucketRateLimiter(clock, { qps: 10, burst: 3 });
    delays(bucket, 'k', 5); // tokens now -2
    clock.advance(100);
    expect(bucket.when('k')).to.equal(200);
    clock.advance(60_000);
    expect(delays(bucket, 'k', 4)).to.deep.equal([0, 0, 0, 100]);
  });

  it('defaults to qps 10 and burst 100, shared by all keys', () => {
    const bucket = new TokenBucketRateLimiter(new FakeClock());
    const burst = Array.from({ length: 100 }, (_, i) => bucket.when(`ns/k${i}`));
    expect(burst.every((d) => d === 0)).to.equal(true);
    expect(bucket.when('ns/other')).to.equal(100);
    expect(bucket.numRequeues('ns/k0')).to.equal(0);
  });
});

describe('max-of and the default controller rate limiter', () => {
  it('takes the longest delay and the largest requeue count', () => {
    const clock = new FakeClock();
    const limiter = new MaxOfRateLimiter(
      new ExponentialFailureRateLimiter({ baseMs: 5 }),
      new TokenBucketRateLimiter(clock, { qps: 1, burst: 2 }),
    );
    // Backoff 5, 10, 20; bucket 0, 0, 1000.
    expect(delays(limiter, 'ns/a', 3)).to.deep.equal([5, 10, 1000]);
    expect(limiter.numRequeues('ns/a')).to.equal(3);
    limiter.forget('ns/a');
    expect(limiter.numRequeues('ns/a')).to.equal(0);
  });

  it('follows per-key backoff while the bucket has tokens', () => {
    const limiter = defaultControllerRateLimiter(new FakeClock());
    expect(delays(limiter, 'ns/a', 4)).to.deep.equal([5, 10, 20, 40]);
    limiter.forget('ns/a');
    expect(limiter.when('ns/a')).to.equal(5);
  });

  it('is limited by the bucket under a flood of distinct keys', () => {
    const limiter = defaultControllerRateLimiter(new FakeClock(), { bucket: { qps: 2, burst: 1 } });
    expect(['a', 'b', 'c'].map((k) => limiter.when(k))).to.deep.equal([5, 500, 1000]);
  });
});
