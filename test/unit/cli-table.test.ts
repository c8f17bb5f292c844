import { expect } from 'chai';
import { cancelLine } from '../../controller/cli/api/cancel.js';
import { lastAttempt } from '../../controller/cli/api/logs.js';
import { runRequestedLine } from '../../controller/cli/api/run.js';
import { runRows } from '../../controller/cli/api/runs.js';
import { formatTable, humanDuration } from '../../controller/cli/api/table.js';

describe('CLI output: tables and durations', () => {
  it('aligns columns three spaces apart, without trailing spaces', () => {
    const text = formatTable(
      ['RUN', 'PHASE', 'NOTE'],
      [
        ['g1-abc', 'Succeeded', ''],
        ['manual-1a2b3c4d', 'Failed', 'x'],
      ],
    );
    expect(text).to.equal(
      [
        'RUN               PHASE       NOTE',
        'g1-abc            Succeeded',
        'manual-1a2b3c4d   Failed      x',
        '',
      ].join('\n'),
    );
  });

  it('prints a header alone for no rows', () => {
    expect(formatTable(['A', 'B'], [])).to.equal('A   B\n');
  });

  const durations: [number, string][] = [
    [-0.5, '0s'],
    [0.4, '0s'],
    [59, '59s'],
    [119, '119s'],
    [120, '2m'],
    [200, '3m20s'],
    [599, '9m59s'],
    [600, '10m'],
    [179 * 60, '179m'],
    [3 * 3600, '3h'],
    [5 * 3600 + 10 * 60, '5h10m'],
    [30 * 3600, '30h'],
    [3 * 86400 + 4 * 3600, '3d4h'],
    [40 * 86400, '40d'],
    [(2 * 365 + 30) * 86400, '2y30d'],
    [9 * 365 * 86400, '9y'],
    [-5, '<invalid>'],
  ];
  for (const [seconds, text] of durations) {
    it(`writes ${seconds} s as ${text}`, () => expect(humanDuration(seconds)).to.equal(text));
  }

  it('turns runs into rows: age, duration (elapsed while running), a namespace column with -A', () => {
    const now = new Date('2025-03-01T12:00:00Z');
    const runs = [
      {
        runId: 'g2-aaaa',
        namespace: 'team-a',
        pipeline: 'orders',
        trigger: 'Manual' as const,
        phase: 'Running' as const,
        startedAt: '2025-03-01T11:55:00Z',
      },
      {
        runId: 'g1-bbbb',
        namespace: 'team-a',
        pipeline: 'orders',
        trigger: 'Generation' as const,
        phase: 'Succeeded' as const,
        startedAt: '2025-03-01T09:00:00Z',
        finishedAt: '2025-03-01T09:00:42Z',
        durationSeconds: 42,
      },
    ];
    const one = runRows(runs, now, false);
    expect(one.headers).to.deep.equal(['RUN', 'PIPELINE', 'TRIGGER', 'PHASE', 'STARTED', 'DURATION']);
    expect(one.rows).to.deep.equal([
      ['g2-aaaa', 'orders', 'Manual', 'Running', '5m ago', '5m'],
      ['g1-bbbb', 'orders', 'Generation', 'Succeeded', '3h ago', '42s'],
    ]);
    const all = runRows(runs, now, true);
    expect(all.headers[0]).to.equal('NAMESPACE');
    expect(all.rows[1]).to.deep.equal([
      'team-a',
      'g1-bbbb',
      'orders',
      'Generation',
      'Succeeded',
      '3h ago',
      '42s',
    ]);
  });

  it('says what run and cancel did', () => {
    const requested = { namespace: 'a', pipeline: 'p', request: 'api-x' };
    expect(runRequestedLine(201, { ...requested, runId: 'manual-1' })).to.equal('run manual-1 started\n');
    expect(runRequestedLine(202, requested)).to.equal(
      'run requested (api-x); the controller has not started it yet\n',
    );
    const cancel = { namespace: 'a', pipeline: 'p', runId: 'r1' };
    expect(cancelLine({ ...cancel, phase: 'Cancelled' })).to.equal('run r1: Cancelled\n');
    expect(cancelLine({ ...cancel, phase: 'Running' })).to.match(/still stopping \(Running\)/);
  });

  it("picks a step's last attempt that ran (0 stands for skipped)", () => {
    const attempt = (n: number): { attempt: number; phase: string; logs: [] } => ({
      attempt: n,
      phase: 'Failed',
      logs: [],
    });
    expect(
      lastAttempt({ name: 's', phase: 'Failed', attempts: [attempt(1), attempt(3), attempt(2)] }),
    ).to.equal(3);
    expect(lastAttempt({ name: 's', phase: 'Skipped', attempts: [attempt(0)] })).to.equal(undefined);
    expect(lastAttempt({ name: 's', phase: 'Waiting', attempts: [] })).to.equal(undefined);
  });
});
