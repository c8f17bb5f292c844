import { expect } from 'chai';
import type { Step } from '../../api/v1alpha1/flexpipeline.js';
import { lastSingerState } from '../../controller/pipeline/singer-state.js';
import { stateIdOf } from '../../controller/pipeline/state-id.js';
import { resumeFrom } from '../../controller/store/resume-state.js';

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

describe('resumeFrom (which stored state the next run starts from)', () => {
  const t = (iso: string): Date => new Date(iso);
  const s = { bookmarks: { a: 1 } };
  const p = { bookmarks: { a: 2 } };
  const cases: [string, Parameters<typeof resumeFrom>[0], ReturnType<typeof resumeFrom>][] = [
    ['nothing stored', undefined, undefined],
    ['a cleared row', { state: null, stateAt: t('2026-01-01T00:00:00Z'), partialState: null }, undefined],
    ['complete state only', { state: s, stateAt: t('2026-01-01T00:00:00Z') }, 'state'],
    [
      'partial state newer than the complete one',
      { state: s, stateAt: t('2026-01-01T00:00:00Z'), partialState: p, partialAt: t('2026-01-02T00:00:00Z') },
      'partialState',
    ],
    [
      'complete state newer than the partial one',
      { state: s, stateAt: t('2026-01-03T00:00:00Z'), partialState: p, partialAt: t('2026-01-02T00:00:00Z') },
      'state',
    ],
    [
      'partial state with no complete state',
      { partialState: p, partialAt: t('2026-01-02T00:00:00Z') },
      'partialState',
    ],
  ];
  for (const [name, row, want] of cases) it(name, () => expect(resumeFrom(row)).to.equal(want));
});

describe('stateIdOf (where a step keeps its state)', () => {
  const p = { metadata: { namespace: 'data', name: 'orders' } };
  const step = (extra: Record<string, unknown> = {}): Step => ({ name: 'sync', plugin: 'tap', ...extra });
  it('defaults to <namespace>/<pipeline>/<step>', () =>
    expect(stateIdOf(p, step())).to.equal('data/orders/sync'));
  it("scopes a step's own id to its namespace, so no namespace can name another's state", () => {
    expect(stateIdOf(p, step({ stateId: 'shared/orders' }))).to.equal('data/shared/orders');
    expect(stateIdOf(p, step({ stateId: 'other-ns/orders/sync' }))).to.equal('data/other-ns/orders/sync');
  });
  it("shares the default id of another pipeline's step when named so", () =>
    expect(
      stateIdOf({ metadata: { namespace: 'data', name: 'backfill' } }, step({ stateId: 'orders/sync' })),
    ).to.equal(stateIdOf(p, step())));
});
