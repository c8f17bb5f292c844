/**
 * Benchmark: event-store append throughput against a raw INSERT loop on the same server in
 * the same run. Scenarios: 1 stream and 16 concurrent streams, single events and batches of
 * 10, and single projected events (RunStarted: the append also writes a read-model row, as the
 * engine's run transitions do). Prints events/s (median of the repetitions), FlexCore/raw ratio
 * and p99 append latency.
 *
 *   node --import tsx test/bench/event-store.ts [secondsPerRun=3] [repetitions=3]
 *
 * Uses DATABASE_URL when set, else an embedded PostgreSQL (fsync off, as in tests).
 */
import pg from 'pg';
import { deterministicEventId, EventStore } from '../../controller/store/event-store.js';
import { migrate } from '../../controller/store/migrate.js';
import type { NewEvent } from '../../controller/store/recorded-event.js';
import { startPostgres } from '../../hack/services/postgres.js';
import { median, percentile } from './stats.js';

const seconds = Number(process.argv[2] ?? 3);
const repetitions = Number(process.argv[3] ?? 3);
const FENCE = { fence: 'bench', token: 1 };

interface Sample {
  events: number;
  latencies: number[];
}

/** Runs `workers` loops of `op` for `seconds`; each op writes `batch` events. */
async function measure(
  workers: number,
  batch: number,
  op: (worker: number, seq: number) => Promise<void>,
): Promise<Sample> {
  const end = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  let events = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let seq = 0; performance.now() < end; seq++) {
        const t0 = performance.now();
        await op(w, seq);
        latencies.push(performance.now() - t0);
        events += batch;
      }
    }),
  );
  return { events: events / seconds, latencies };
}

const server = await startPostgres();
const url = await server.createDatabase('bench');
const pool = new pg.Pool({ connectionString: url, max: 16 });
pool.on('error', () => undefined);
try {
  await migrate(pool);
  await pool.query('CREATE TABLE raw_events (stream text, data jsonb)');
  const store = new EventStore(pool);
  let run = 0;
  const payload = { runId: 'run-1', step: 'extract', attempt: 1, note: 'x'.repeat(200) };
  console.log(
    `PostgreSQL: ${(await pool.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version}; ${seconds} s per run, ${repetitions} repetitions`,
  );
  console.log(
    'scenario                         | FlexCore ev/s | raw ev/s | ratio | p99 append ms | p99 raw ms',
  );
  const scenarios = [1, 16].flatMap((streams) =>
    [
      { batch: 1, projected: false },
      { batch: 10, projected: false },
      { batch: 1, projected: true },
    ].map((s) => ({ ...s, streams })),
  );
  {
    for (const { streams, batch, projected } of scenarios) {
      const flex: Sample[] = [];
      const raw: Sample[] = [];
      for (let r = 0; r < repetitions; r++) {
        run++;
        const tag = `${run}`;
        flex.push(
          await measure(streams, batch, async (w, seq) => {
            const events: NewEvent[] = Array.from({ length: batch }, (_, i) => {
              const id = deterministicEventId(tag, w, seq, i);
              if (!projected) return { id, type: 'Noted', data: payload };
              const pipeline = { namespace: 'bench', name: `p-${w}` };
              return { id, type: 'RunStarted', data: { runId: id, pipeline, trigger: 'Manual' } };
            });
            await store.append(`bench-${tag}-${w}`, 'any', events, FENCE);
          }),
        );
        raw.push(
          await measure(streams, batch, async (w) => {
            const values = Array.from({ length: batch }, (_, i) => `($1, $${i + 2})`).join(', ');
            await pool.query(`INSERT INTO raw_events (stream, data) VALUES ${values}`, [
              `raw-${w}`,
              ...Array.from({ length: batch }, () => JSON.stringify(payload)),
            ]);
          }),
        );
      }
      const f = median(flex.map((s) => s.events));
      const rw = median(raw.map((s) => s.events));
      const p99 = median(flex.map((s) => percentile(s.latencies, 99)));
      const p99raw = median(raw.map((s) => percentile(s.latencies, 99)));
      const what = projected ? 'projected events' : batch === 1 ? 'single events' : 'batches of 10';
      const name = `${streams === 1 ? '1 stream' : '16 streams'}, ${what}`;
      console.log(
        `${name.padEnd(32)} | ${f.toFixed(0).padStart(13)} | ${rw.toFixed(0).padStart(8)} | ${(f / rw).toFixed(2).padStart(5)} | ${p99.toFixed(2).padStart(13)} | ${p99raw.toFixed(2).padStart(10)}`,
      );
    }
  }
} finally {
  await pool.end();
  await server.stop();
}
