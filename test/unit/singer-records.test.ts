/** Singer record counts from METRIC log lines: singer-sdk's and singer-python's forms. */
import { expect } from 'chai';
import { LineSplitter } from '../../controller/apply/line-splitter.js';
import {
  MAX_STREAMS,
  RecordCounter,
  countRecords,
  recordCountOf,
} from '../../controller/pipeline/singer-records.js';

const sdk = (stream: string, value: number): string =>
  `2026-12-01 02:00:00,000 | INFO     | singer_sdk.metrics   | METRIC: ${JSON.stringify({
    type: 'counter',
    metric: 'record_count',
    value,
    tags: { stream, context: {}, pid: 17 },
  })}`;

describe('Singer record counts', () => {
  it('sums each stream’s record_count counters (each line counts since the previous one)', () => {
    const log = [
      'INFO Beginning full_table sync of stream public-orders',
      sdk('public-orders', 12000),
      sdk('public-customers', 3),
      sdk('public-orders', 8000),
      `INFO METRIC: {"type": "timer", "metric": "sync_duration", "value": 4.2, "tags": {"stream": "public-orders"}}`,
      `INFO METRIC: {"type": "counter", "metric": "http_request_count", "value": 7, "tags": {"endpoint": "x"}}`,
      '',
    ].join('\n');
    expect(countRecords(log)).to.deep.equal({
      streams: { 'public-orders': 20000, 'public-customers': 3 },
      truncated: false,
    });
  });

  it('reads singer-python’s endpoint tag, and names a counter without a stream', () => {
    expect(
      recordCountOf(
        'INFO METRIC: {"type": "counter", "metric": "record_count", "value": 5, "tags": {"endpoint": "users"}}',
      ),
    ).to.deep.equal({ stream: 'users', value: 5 });
    expect(recordCountOf('METRIC: {"type": "counter", "metric": "record_count", "value": 5}')).to.deep.equal({
      stream: '(unnamed)',
      value: 5,
    });
  });

  it('ignores what is not a well-formed count: no METRIC, bad JSON, negative or fractional values', () => {
    for (const line of [
      'a plain line',
      'METRIC: {not json',
      'METRIC: {"type": "counter", "metric": "record_count", "value": -1, "tags": {"stream": "s"}}',
      'METRIC: {"type": "counter", "metric": "record_count", "value": 1.5, "tags": {"stream": "s"}}',
      'METRIC: {"type": "counter", "metric": "record_count", "value": "3", "tags": {"stream": "s"}}',
      'METRIC: [1, 2]',
    ]) {
      expect(recordCountOf(line), line).to.equal(undefined);
    }
    expect(countRecords('nothing here\n')).to.equal(undefined);
  });

  it('keeps stream names storable: no control characters or NUL, no half surrogate pair, at most 253', () => {
    expect(recordCountOf(sdk('a\u0000b\nc', 1))?.stream).to.equal('abc');
    const cut = recordCountOf(sdk(`${'x'.repeat(252)}😀`, 1))!.stream;
    expect(cut).to.equal(`${'x'.repeat(252)}\ufffd`);
    expect(recordCountOf(sdk('\u0001', 1))?.stream).to.equal('(unnamed)');
  });

  it('stops a sum before it passes 2^53, and says so', () => {
    const counter = new RecordCounter();
    counter.add(sdk('s', Number.MAX_SAFE_INTEGER - 1));
    counter.add(sdk('s', 5));
    expect(counter.counts()).to.deep.equal({ streams: { s: Number.MAX_SAFE_INTEGER - 1 }, truncated: true });
    const cut = new RecordCounter();
    cut.add(sdk('s', 1));
    cut.cut();
    expect(cut.counts()?.truncated, 'a log read only in part').to.equal(true);
  });

  it(`counts at most ${MAX_STREAMS} streams and says so`, () => {
    const counter = new RecordCounter();
    for (let i = 0; i <= MAX_STREAMS; i++) counter.add(sdk(`s${i}`, 1));
    counter.add(sdk('s0', 1));
    const counts = counter.counts()!;
    expect(Object.keys(counts.streams)).to.have.length(MAX_STREAMS);
    expect(counts.streams.s0).to.equal(2);
    expect(counts.truncated).to.equal(true);
  });

  it('splits a byte stream into lines across chunk borders, cutting only over-long lines', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l), 8);
    for (const chunk of ['ab', 'c\nde', 'f\n\n0123456789ab', 'cd\nlast', ' é'])
      splitter.push(Buffer.from(chunk));
    splitter.end();
    expect(lines).to.deep.equal(['abc', 'def', '', '01234567', 'last é']);
  });
});
