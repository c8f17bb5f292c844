import { expect } from 'chai';
import { nextState, parseStateFile, stateSource, stateTable } from '../../controller/cli/api/state.js';
import type { SingerStateEntryBody } from '../../controller/cli/api/endpoints.js';

describe('flexcore state (pure parts)', () => {
  const base = { step: 'orders', stateId: 'data/sync/orders' };
  const state = { bookmarks: { orders: { id: 7 } } };
  const partial = { bookmarks: { orders: { id: 9 } } };
  const captured: SingerStateEntryBody = {
    ...base,
    state,
    stateRunId: 'g1-aaaa',
    stateAt: '2026-11-30T10:00:00.000Z',
    resumeFrom: 'state',
  };

  it('takes the state the next run starts from: partial when newer, else complete, else nothing', () => {
    expect(nextState(captured)).to.deep.equal(state);
    expect(nextState({ ...captured, partialState: partial, resumeFrom: 'partialState' })).to.deep.equal(
      partial,
    );
    expect(nextState(base)).to.equal(undefined);
  });

  it('says where the state came from: a run, a failed run, a person, or nowhere', () => {
    expect(stateSource(captured)).to.equal('run g1-aaaa');
    expect(stateSource({ ...captured, partialRunId: 'g2-bbbb', resumeFrom: 'partialState' })).to.equal(
      'partial, run g2-bbbb (failed)',
    );
    expect(stateSource({ ...base, state, changedBy: 'alice', resumeFrom: 'state' })).to.equal('set by alice');
    expect(stateSource(base)).to.equal('-');
  });

  it('prints one aligned line per Singer step', () => {
    expect(stateTable([captured, { step: 'other', stateId: 'data/sync/other' }])).to.equal(
      'STEP     STATE ID           NEXT RUN STARTS FROM   SINCE\n' +
        'orders   data/sync/orders   run g1-aaaa            2026-11-30T10:00:00.000Z\n' +
        'other    data/sync/other    -                      -\n',
    );
  });

  it('reads a state file: a JSON object, or one line saying what is wrong (exit 2)', () => {
    expect(parseStateFile('{"bookmarks":{}}', 'f.json')).to.deep.equal({ bookmarks: {} });
    for (const [text, message] of [
      ['[1]', 'f.json: a Singer state is a JSON object'],
      ['null', 'f.json: a Singer state is a JSON object'],
      ['{"bookmarks":', 'f.json: not JSON'],
    ] as const) {
      expect(() => parseStateFile(text, 'f.json'))
        .to.throw(message)
        .with.property('exitCode', 2);
    }
  });
});
