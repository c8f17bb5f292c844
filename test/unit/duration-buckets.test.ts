import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  DURATION_BUCKETS,
  DURATION_BUCKET_BOUNDS,
  durationQuantile,
} from '../../controller/store/duration-buckets.js';

describe('run summary duration buckets', () => {
  it('has the bounds of flexcore.duration_bucket in migration 006', () => {
    const sql = readFileSync(
      new URL('../../controller/store/migrations/006_run_summary.sql', import.meta.url),
      'utf8',
    );
    const list = /width_bucket\(seconds, ARRAY\[([\d, ]+)\]/.exec(sql)?.[1];
    expect(list?.split(',').map((s) => Number(s.trim()))).to.deep.equal([...DURATION_BUCKET_BOUNDS]);
    expect(sql).to.include(`generate_series(1, ${DURATION_BUCKETS})`);
  });

  const counts = (entries: Record<number, number>): number[] =>
    Array.from({ length: DURATION_BUCKETS }, (_, i) => entries[i] ?? 0);

  const cases: [string, number[], number, number | undefined][] = [
    ['no runs', counts({}), 0.5, undefined],
    ['all in [0,1)', counts({ 0: 10 }), 0.5, 0.5],
    ['all in [10,30)', counts({ 4: 4 }), 0.5, 20],
    ['p99 in the top of [60,120)', counts({ 0: 99, 6: 1 }), 0.999, 60 + 60 * 0.9],
    ['above the last bound', counts({ 16: 3 }), 0.5, 86400],
    ['half fast, half slow: median at the edge', counts({ 0: 5, 5: 5 }), 0.5, 1],
  ];
  for (const [name, c, q, expected] of cases) {
    it(`q${q} of ${name} is ${expected}`, () => {
      const v = durationQuantile(c, q);
      if (expected === undefined) expect(v).to.equal(undefined);
      else expect(v).to.be.closeTo(expected, 1e-9);
    });
  }
});
