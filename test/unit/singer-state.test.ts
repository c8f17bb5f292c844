import { expect } from 'chai';
import { lastSingerState } from '../../controller/pipeline/singer-state.js';

describe('lastSingerState (the last STATE a Singer target printed)', () => {
  const cases: [string, string, Record<string, unknown> | undefined][] = [
    [
      'a bare state object, as targets print it',
      '{"bookmarks":{"orders":{"id":7}}}\n',
      { bookmarks: { orders: { id: 7 } } },
    ],
    ['a STATE message: its value', '{"type":"STATE","value":{"bookmarks":{"a":1}}}', { bookmarks: { a: 1 } }],
    [
      'the last of several states',
      '{"bookmarks":{"a":1}}\n{"bookmarks":{"a":2}}\n{"bookmarks":{"a":3}}\n',
      { bookmarks: { a: 3 } },
    ],
    [
      'the last state, with log lines after it',
      'INFO starting\n{"bookmarks":{"a":2}}\nINFO 12 records loaded\nWARNING slow\n',
      { bookmarks: { a: 2 } },
    ],
    [
      'a state line with surrounding spaces and CRLF',
      '  {"bookmarks":{"a":1}}  \r\n',
      { bookmarks: { a: 1 } },
    ],
    ['an empty object (a reset state)', '{"bookmarks":{"a":1}}\n{}\n', {}],
    ['nothing in an empty log', '', undefined],
    ['nothing in plain log lines', 'INFO starting\nERROR connection refused\n', undefined],
    ['nothing in a broken JSON line', '{"bookmarks": {"a": 1}\n', undefined],
    ['nothing in a JSON array or scalar', '[{"a":1}]\n42\n"text"\nnull\n', undefined],
    [
      'no RECORD or SCHEMA message as state',
      '{"type":"SCHEMA","stream":"s","schema":{}}\n{"type":"RECORD","stream":"s","record":{"id":1}}\n',
      undefined,
    ],
    [
      'no STATE message whose value is not an object',
      '{"type":"STATE","value":[1,2]}\n{"type":"STATE"}\n',
      undefined,
    ],
    [
      'the state before a later broken line',
      '{"type":"STATE","value":{"v":1}}\n{"type":"STATE","value":{"v":2}\n',
      { v: 1 },
    ],
  ];
  for (const [what, log, expected] of cases) {
    it(`finds ${what}`, () => expect(lastSingerState(log)).to.deep.equal(expected));
  }

  it('reads a long log', () => {
    const lines = Array.from(
      { length: 5000 },
      (_, i) => `{"type":"RECORD","stream":"s","record":{"id":${i}}}`,
    );
    const log = ['{"bookmarks":{"s":0}}', ...lines, '{"bookmarks":{"s":4999}}', ...lines.slice(0, 10)].join(
      '\n',
    );
    expect(lastSingerState(log)).to.deep.equal({ bookmarks: { s: 4999 } });
  });
});
