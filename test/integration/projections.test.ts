import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { boundLogTail, MAX_LOG_TAIL_BYTES } from '../../controller/store/event-types.js';
import { deterministicEventId, type Fencing } from '../../controller/store/event-store.js';
import type { NewEvent } from '../../controller/store/recorded-event.js';
import { ReadModels } from '../../controller/store/read-models.js';
import { replayProjections } from '../../controller/store/replay.js';
import { freshStore, type TestStore } from './support/store.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const FENCE: Fencing = { fence: 'leader', token: 1 };
const iso = (ms: number): string => new Date(Date.UTC(2026, 10, 1) + ms).toISOString();

/** A person setting (`state`) or clearing (no `state`) a state id's bookmark through the API. */
function stateChange(stateId: string, by: string, atMs: number, state?: Record<string, unknown>): NewEvent {
  return {
    id: deterministicEventId('state', stateId, by, atMs),
    type: state ? 'SingerStateSet' : 'SingerStateCleared',
    data: { stateId, requestedBy: by, at: iso(atMs), ...(state && { state }) },
  };
}

/** The events of one run of a pipeline: a DAG where `b` retries, and either succeeds or fails and `c` is skipped. */
function runEvents(pipeline: string, run: number, outcome: 'Succeeded' | 'Failed'): NewEvent[] {
  const runId = `${pipeline}-r${run}`;
  const catalogKey = sha256(`key of ${pipeline}`);
  const t0 = run * 60_000;
  const e = (
    type: string,
    data: { step?: string; attempt?: number; container?: string; [k: string]: unknown },
  ): NewEvent => ({
    id: deterministicEventId(runId, type, data.step ?? '', data.attempt ?? '', data.container ?? ''),
    type,
    data: { runId, ...data },
  });
  const attempt = (step: string, n: number, at: number, phase: string, exitCode: number): NewEvent[] => [
    e('StepAttemptScheduled', { step, attempt: n, pod: `${runId}-${step}-${n}`, at: iso(t0 + at) }),
    e('StepAttemptStarted', { step, attempt: n, at: iso(t0 + at + 500) }),
    e('StepAttemptFinished', {
      step,
      attempt: n,
      phase,
      exitCode,
      at: iso(t0 + at + 4_500),
      ...(exitCode ? { reason: 'Error' } : {}),
    }),
    e('LogTailCaptured', {
      step,
      attempt: n,
      container: 'main',
      tail: `log of ${step}#${n}\n`.repeat(3),
      truncated: false,
      at: iso(t0 + at + 4_600),
    }),
  ];
  const events = [
    e('RunStarted', {
      pipeline: { namespace: 'data', name: pipeline },
      trigger: run === 0 ? 'Generation' : 'Schedule',
      generation: 1,
      at: iso(t0),
    }),
    // Step a's tap discovers its catalog first (the attempt's first Pod), then syncs.
    e('CatalogDiscoveryScheduled', {
      step: 'a',
      attempt: 1,
      pod: `${runId}-a-1-discover`,
      catalogKey,
      at: iso(t0),
    }),
    e('CatalogDiscovered', {
      step: 'a',
      attempt: 1,
      catalogKey,
      digest: sha256(`catalog of ${pipeline} #${run}`),
      bytes: 1000 + run,
      streams: 3,
      plugin: 'tap-postgres',
      image: 'example.com/tap-postgres:1',
      at: iso(t0 - 500),
    }),
    ...attempt('a', 1, 0, 'Succeeded', 0),
    e('SingerStateCaptured', {
      step: 'a',
      attempt: 1,
      stateId: `data/${pipeline}/a`,
      state: { bookmarks: { orders: run * 100 } },
      partial: false,
      at: iso(t0 + 4_700),
    }),
    ...attempt('b', 1, 5_000, 'Failed', 3),
  ];
  if (outcome === 'Succeeded') {
    events.push(...attempt('b', 2, 15_000, 'Succeeded', 0), ...attempt('c', 1, 20_000, 'Succeeded', 0));
  } else {
    events.push(
      ...attempt('b', 2, 15_000, 'Failed', 3),
      e('SingerStateCaptured', {
        step: 'b',
        attempt: 2,
        stateId: `data/${pipeline}/a`,
        state: { bookmarks: { orders: run * 100 + 42 } },
        partial: true,
        at: iso(t0 + 19_700),
      }),
      e('StepSkipped', { step: 'c', reason: 'UpstreamFailed', at: iso(t0 + 19_800) }),
    );
  }
  events.push(
    e('RunFinished', {
      phase: outcome,
      ...(outcome === 'Failed' ? { reason: 'StepFailed' } : {}),
      at: iso(t0 + 30_000),
    }),
  );
  return events;
}

describe('read models and replay', function () {
  this.timeout(60_000);
  let t: TestStore;
  beforeEach(async () => {
    t = await freshStore();
  });
  afterEach(async () => {
    await t.close();
  });

  /** Appends runs of several pipelines concurrently, each event on its own or in small batches, some retried. */
  async function realisticHistory(): Promise<void> {
    const pipelines = ['orders', 'customers', 'invoices', 'events'];
    await Promise.all(
      pipelines.map(async (p, pi) => {
        for (let run = 0; run < 5; run++) {
          const events = runEvents(p, run, (run + pi) % 3 === 2 ? 'Failed' : 'Succeeded');
          for (let i = 0; i < events.length;) {
            const size = 1 + ((i + run) % 3);
            const batch = events.slice(i, i + size);
            await t.store.append(`pipeline-data-${p}`, 'any', batch, FENCE);
            if (i % 4 === 0) await t.store.append(`pipeline-data-${p}`, 'any', batch, FENCE); // a retried append
            i += size;
          }
        }
      }),
    );
    // People set and clear bookmarks between and after the runs.
    await t.store.append(
      'singer-state-data/customers/a',
      'any',
      [stateChange('data/customers/a', 'alice', 90_000, { b: 1 })],
      FENCE,
    );
    await t.store.append(
      'singer-state-data/invoices/a',
      'any',
      [stateChange('data/invoices/a', 'bob', 400_000)],
      FENCE,
    );
  }

  it('projects runs, step attempts, Singer state and log tails in the append transaction', async () => {
    await t.store.append('pipeline-data-orders', 'any', runEvents('orders', 1, 'Failed'), FENCE);
    const run = await t.pool.query('SELECT * FROM flexcore_read.runs');
    expect(run.rows).to.have.length(1);
    expect(run.rows[0]).to.include({
      run_id: 'orders-r1',
      pipeline_name: 'orders',
      trigger: 'Schedule',
      phase: 'Failed',
      reason: 'StepFailed',
    });
    const steps = await t.pool.query<{
      step: string;
      attempt: number;
      phase: string;
      exit_code: number | null;
      duration_ms: string | null;
    }>(
      'SELECT step, attempt, phase, exit_code, duration_ms FROM flexcore_read.step_attempts ORDER BY step, attempt',
    );
    expect(steps.rows.map((r) => [r.step, r.attempt, r.phase, r.exit_code, r.duration_ms])).to.deep.equal([
      ['a', 1, 'Succeeded', 0, '4000'],
      ['b', 1, 'Failed', 3, '4000'],
      ['b', 2, 'Failed', 3, '4000'],
      ['c', 0, 'Skipped', null, null],
    ]);
    const state = await t.pool.query(
      'SELECT state, partial_state, state_run_id, partial_run_id FROM flexcore_read.singer_state',
    );
    expect(state.rows[0]).to.deep.equal({
      state: { bookmarks: { orders: 100 } },
      partial_state: { bookmarks: { orders: 142 } },
      state_run_id: 'orders-r1',
      partial_run_id: 'orders-r1',
    });
    const logs = await t.pool.query('SELECT count(*)::int AS n FROM flexcore_read.log_tails');
    expect(logs.rows[0]).to.deep.equal({ n: 3 });
  });

  it('projects state a person set or cleared: the next run starts from it, until a run captures newer state', async () => {
    const stateId = 'data/orders/a';
    const row = async (): Promise<Record<string, unknown>> =>
      (
        await t.pool.query(
          'SELECT state, state_run_id, partial_state, changed_by FROM flexcore_read.singer_state WHERE state_id = $1',
          [stateId],
        )
      ).rows[0] as Record<string, unknown>;
    const readModels = new ReadModels(t.pool);
    await t.store.append('pipeline-data-orders', 'any', runEvents('orders', 1, 'Failed'), FENCE);
    const set = { bookmarks: { orders: 7 } };
    await t.store.append(
      `singer-state-${stateId}`,
      'any',
      [stateChange(stateId, 'alice', 100_000, set)],
      FENCE,
    );
    expect(await row()).to.deep.equal({
      state: set,
      state_run_id: null,
      partial_state: null,
      changed_by: 'alice',
    });
    expect(await readModels.singerState(stateId)).to.deep.equal(set);
    // A later failed attempt's partial state is newer: the next run resumes from it; who set the state stays.
    const partial: NewEvent = {
      id: deterministicEventId('partial', stateId),
      type: 'SingerStateCaptured',
      data: {
        runId: 'orders-r1',
        step: 'a',
        attempt: 2,
        stateId,
        state: { bookmarks: { orders: 9 } },
        partial: true,
        at: iso(110_000),
      },
    };
    await t.store.append('pipeline-data-orders', 'any', [partial], FENCE);
    expect(await row()).to.deep.include({
      state: set,
      partial_state: { bookmarks: { orders: 9 } },
      changed_by: 'alice',
    });
    expect(await readModels.singerState(stateId)).to.deep.equal({ bookmarks: { orders: 9 } });
    // A succeeded run's complete state is no person's.
    await t.store.append('pipeline-data-orders', 'any', runEvents('orders', 3, 'Succeeded'), FENCE);
    expect(await row()).to.deep.include({ state: { bookmarks: { orders: 300 } }, changed_by: null });
    await t.store.append(`singer-state-${stateId}`, 'any', [stateChange(stateId, 'bob', 300_000)], FENCE);
    expect(await row()).to.deep.equal({
      state: null,
      state_run_id: null,
      partial_state: null,
      changed_by: 'bob',
    });
    expect(await readModels.singerState(stateId)).to.equal(undefined);
    const refused = await t.store
      .append(
        'x',
        'any',
        [{ id: deterministicEventId('bad-state'), type: 'SingerStateSet', data: { stateId } }],
        FENCE,
      )
      .then(
        () => '',
        (e: Error) => e.message,
      );
    expect(refused).to.match(/SingerStateSet event data is invalid/);
  });

  it('rolls the append back when a projected event carries bad data', async () => {
    const bad: NewEvent = { id: deterministicEventId('bad'), type: 'RunStarted', data: { runId: 'x' } };
    let message = '';
    await t.store.append('p', 'any', [bad], FENCE).catch((e: Error) => (message = e.message));
    expect(message).to.match(/RunStarted event data is invalid at pipeline/);
    expect(await t.store.streamVersion('p')).to.equal(-1);
  });

  it('keeps log tails bounded', async () => {
    const { tail, truncated } = boundLogTail('é'.repeat(MAX_LOG_TAIL_BYTES));
    expect(truncated).to.equal(true);
    expect(Buffer.byteLength(tail)).to.be.at.most(MAX_LOG_TAIL_BYTES);
    expect(tail.endsWith('é')).to.equal(true);
    const tooLong: NewEvent = {
      id: deterministicEventId('long'),
      type: 'LogTailCaptured',
      data: {
        runId: 'r',
        step: 's',
        attempt: 1,
        container: 'main',
        tail: 'x'.repeat(MAX_LOG_TAIL_BYTES + 1),
        truncated: false,
      },
    };
    const refused = await t.store.append('p', 'any', [tooLong], FENCE).then(
      () => false,
      () => true,
    );
    expect(refused).to.equal(true);
  });

  it('replay rebuilds projections equal to the live ones, row for row', async () => {
    await realisticHistory();
    const live = await t.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM flexcore_read.step_attempts',
    );
    expect(live.rows[0]!.n).to.be.greaterThan(60);
    const report = await replayProjections(t.pool, { keep: true });
    expect(report.events).to.be.greaterThan(300);
    for (const table of report.tables) {
      expect(table.differences, table.table).to.equal(0);
      expect(table.replayedRows, table.table).to.equal(table.liveRows);
      expect(table.liveRows, table.table).to.be.greaterThan(0);
    }
    expect(report.equal).to.equal(true);
    // Row for row, in a stable order, as a second opinion on the SQL comparison.
    for (const [table, key] of [
      ['runs', 'run_id'],
      ['step_attempts', 'run_id, step, attempt'],
      ['singer_state', 'state_id'],
      ['log_tails', 'run_id, step, attempt, container'],
    ] as const) {
      const a = await t.pool.query(`SELECT * FROM flexcore_read.${table} ORDER BY ${key}`);
      const b = await t.pool.query(`SELECT * FROM "${report.schema}".${table} ORDER BY ${key}`);
      expect(b.rows, table).to.deep.equal(a.rows);
    }
  });

  it('replay reports a live projection that drifted from the events', async () => {
    await realisticHistory();
    await t.pool.query(
      `UPDATE flexcore_read.runs SET phase = 'Succeeded' WHERE phase = 'Failed' AND run_id LIKE 'orders-%'`,
    );
    const report = await replayProjections(t.pool);
    expect(report.equal).to.equal(false);
    const runs = report.tables.find((x) => x.table === 'runs')!;
    expect(runs.differences).to.be.greaterThan(0);
    const healed = await replayProjections(t.pool, { swap: true });
    expect(healed.swapped).to.equal(true);
    expect((await replayProjections(t.pool)).equal).to.equal(true);
  });
});
