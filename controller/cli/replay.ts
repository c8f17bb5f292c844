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

const USAGE = `usage: flexcore replay [--swap] [--keep]

Rebuilds runs, step attempts, Singer state and log tails from the event log and compares
them with the live tables. Connects to DATABASE_URL, or to the embedded store when unset.
  --swap   replace the live tables with the rebuilt ones (appends wait meanwhile)
  --keep   keep the rebuilt schema for inspection
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

export async function runReplay(args: string[]): Promise<number> {
  const unknown = args.filter((a) => !['--swap', '--keep'].includes(a));
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (unknown.length > 0) {
    process.stderr.write(`flexcore replay: unknown argument ${unknown[0]}\n${USAGE}`);
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
