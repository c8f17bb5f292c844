/**
 * `flexcore replay`: rebuilds the read models from the event log into fresh tables and
 * compares them with the live ones. Exit 0 when equal, 1 when they differ (2 usage, 69 when
 * the store cannot be reached or started). With --swap the rebuilt tables replace the live
 * ones; with --keep the rebuilt schema stays for inspection.
 */
import type pg from 'pg';
import { createPool, storeConfigFromEnv } from '../store/connection.js';
import { startEmbeddedStore } from '../store/embedded-postgres.js';
import { StoreError } from '../store/errors.js';
import { migrate } from '../store/migrate.js';
import { replayProjections, type ReplayReport } from '../store/replay.js';
import { EventStore } from '../store/event-store.js';
import { createLogger } from '../log.js';
import { replayTraces } from '../tracing/replay-traces.js';
import { TracingConfigError, tracingConfig, type TracingConfig } from '../tracing/tracing-config.js';

const USAGE = `usage: flexcore replay [--swap] [--keep] [--traces]

Rebuilds runs, step attempts, Singer state and log tails from the event log and compares
them with the live tables. Connects to DATABASE_URL, or to the embedded store when unset.
  --swap     replace the live tables with the rebuilt ones (appends wait meanwhile)
  --keep     keep the rebuilt schema for inspection
  --traces   also export every finished run's trace again, to the OTLP endpoint of the
             OTEL_* variables: the same trace and span ids the controller exported
`;

export function formatReport(report: ReplayReport): string {
  const lines = [
    `replayed ${report.events} events into ${report.schema}`,
    'table           live rows  replayed rows  differences',
    ...report.tables.map(
      (t) =>
        `${t.table.padEnd(15)} ${String(t.liveRows).padStart(9)}  ${String(t.replayedRows).padStart(13)}  ${String(t.differences).padStart(11)}`,
    ),
    report.swapped
      ? 'the rebuilt tables replaced the live ones'
      : report.equal
        ? 'the live read models equal the replayed ones'
        : 'the live read models DIFFER from the events; run with --swap to rebuild them',
  ];
  return `${lines.join('\n')}\n`;
}

async function exportTraces(pool: pg.Pool, config: TracingConfig): Promise<number> {
  const { RunTracer } = await import('../tracing/run-tracer.js');
  const tracer = new RunTracer(config, createLogger({ level: 'warn', format: 'text' }));
  try {
    return await replayTraces(new EventStore(pool), tracer);
  } finally {
    await tracer.shutdown();
  }
}

export async function runReplay(args: string[]): Promise<number> {
  const unknown = args.filter((a) => !['--swap', '--keep', '--traces'].includes(a));
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (unknown.length > 0) {
    process.stderr.write(`flexcore replay: unknown argument ${unknown[0]}\n${USAGE}`);
    return 2;
  }
  let tracing: TracingConfig | undefined;
  try {
    tracing = args.includes('--traces') ? tracingConfig(process.env) : undefined;
  } catch (err) {
    if (!(err instanceof TracingConfigError)) throw err;
    process.stderr.write(`flexcore replay: ${err.message}\n`);
    return 2;
  }
  if (args.includes('--traces') && !tracing) {
    process.stderr.write(
      'flexcore replay: --traces needs OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT)\n',
    );
    return 2;
  }
  let stopEmbedded: (() => Promise<void>) | undefined;
  let pool: pg.Pool | undefined;
  try {
    const config = storeConfigFromEnv(process.env);
    let url = config.url;
    if (url === undefined) {
      const embedded = await startEmbeddedStore();
      process.stderr.write(`using the embedded store in ${embedded.baseDir}\n`);
      stopEmbedded = () => embedded.stop();
      url = embedded.url;
    }
    pool = createPool({ ...config, url });
    await migrate(pool);
    const report = await replayProjections(pool, {
      swap: args.includes('--swap'),
      keep: args.includes('--keep'),
    });
    process.stdout.write(formatReport(report));
    if (tracing) process.stdout.write(`exported ${await exportTraces(pool, tracing)} run traces\n`);
    return report.equal || report.swapped ? 0 : 1;
  } catch (err) {
    if (err instanceof StoreError) {
      process.stderr.write(`flexcore replay: ${err.message}\n`);
      return 69;
    }
    throw err;
  } finally {
    await pool?.end().catch(() => undefined);
    await stopEmbedded?.().catch(() => undefined);
  }
}
