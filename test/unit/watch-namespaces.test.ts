import { expect } from 'chai';
import { electionConfig } from '../../controller/leadership/election-config.js';
import {
  WatchNamespaceError,
  firstWatchNamespace,
  parseWatchNamespaces,
} from '../../controller/watch-namespaces.js';

describe('WATCH_NAMESPACE', () => {
  it('reads one namespace, a comma-separated list, or none (all)', () => {
    const cases: [string | undefined, string[]][] = [
      [undefined, []],
      ['', []],
      [' , ,', []],
      ['team-a', ['team-a']],
      ['team-a,team-b', ['team-a', 'team-b']],
      [' team-a , team-b ', ['team-a', 'team-b']],
      ['team-a,,team-b,', ['team-a', 'team-b']],
      ['b,a,b,a', ['b', 'a']],
      [`${'a'.repeat(63)},0`, ['a'.repeat(63), '0']],
    ];
    for (const [raw, want] of cases)
      expect(parseWatchNamespaces(raw), JSON.stringify(raw)).to.deep.equal(want);
  });

  it('refuses an entry that is not a namespace name, naming it', () => {
    for (const bad of ['Team-A', 'team_a', '-a', 'a-', 'a.b', 'a b', 'a'.repeat(64), 'ok,bad/ns']) {
      const parse = (): unknown => parseWatchNamespaces(bad);
      expect(parse, bad).to.throw(WatchNamespaceError);
      const entry = bad.split(',').at(-1)!;
      expect(parse, bad).to.throw(`"${entry}" is not a namespace name`);
    }
    const err = (() => {
      try {
        parseWatchNamespaces('a,B');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.name).to.equal('WatchNamespaceError');
  });

  it('gives the first namespace to what needs one (status API default, Lease namespace)', () => {
    expect(firstWatchNamespace({ WATCH_NAMESPACE: 'b, a' })).to.equal('b');
    expect(firstWatchNamespace({ WATCH_NAMESPACE: '' })).to.equal(undefined);
    expect(firstWatchNamespace({})).to.equal(undefined);
    const noFile = (): string => {
      throw new Error('ENOENT');
    };
    expect(electionConfig({ WATCH_NAMESPACE: 'team-b,team-a' }, noFile).namespace).to.equal('team-b');
    expect(electionConfig({ WATCH_NAMESPACE: ' , ' }, noFile).namespace).to.equal('default');
    expect(electionConfig({ WATCH_NAMESPACE: 'a,b', POD_NAMESPACE: 'flexcore' }, noFile).namespace).to.equal(
      'flexcore',
    );
  });
});
