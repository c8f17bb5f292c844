import { expect } from 'chai';
import { Backoff, backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from '../../controller/kube/backoff.js';

describe('informer backoff', () => {
  const noJitter: BackoffPolicy = { ...DEFAULT_BACKOFF, jitter: 0 };

  const table: [attempt: number, delay: number][] = [
    [0, 800],
    [1, 1600],
    [2, 3200],
    [3, 6400],
    [4, 12_800],
    [5, 25_600],
    [6, 30_000],
    [20, 30_000],
    [2000, 30_000],
  ];
  for (const [attempt, delay] of table) {
    it(`waits ${delay} ms before retry ${attempt} without jitter`, () => {
      expect(backoffDelay(noJitter, attempt)).to.equal(delay);
    });
  }

  it('takes at most `jitter` of the delay off, never adds to it', () => {
    expect(backoffDelay(DEFAULT_BACKOFF, 0, () => 0)).to.equal(800);
    expect(backoffDelay(DEFAULT_BACKOFF, 0, () => 0.5)).to.equal(720);
    expect(backoffDelay(DEFAULT_BACKOFF, 0, () => 0.999999)).to.equal(640);
    expect(backoffDelay(DEFAULT_BACKOFF, 10, () => 0.5)).to.equal(27_000);
  });

  it('spreads delays at the cap, so clients that failed together do not retry together', () => {
    const delays = new Set([0.1, 0.4, 0.7].map((r) => backoffDelay(DEFAULT_BACKOFF, 30, () => r)));
    expect(delays.size).to.equal(3);
    for (const d of delays) expect(d).to.be.within(24_000, 30_000);
  });

  it('treats a negative attempt as the first', () => {
    expect(backoffDelay(noJitter, -3)).to.equal(800);
  });

  it('counts failures until reset', () => {
    const b = new Backoff(noJitter);
    expect([b.next(), b.next(), b.next()]).to.deep.equal([800, 1600, 3200]);
    expect(b.failures).to.equal(3);
    b.reset();
    expect(b.failures).to.equal(0);
    expect(b.next()).to.equal(800);
  });

  it('uses the policy it was given', () => {
    const b = new Backoff({ initialMs: 10, maxMs: 35, factor: 3, jitter: 0 });
    expect([b.next(), b.next(), b.next()]).to.deep.equal([10, 30, 35]);
  });
});
