import { expect } from 'chai';
import type { Logger, LogFields } from '../../controller/log.js';
import { eventually, startEngine, type Engine } from './support/engine.js';
import { fake, pipeline, plugin } from './support/manifests.js';

const SECRET = 'S3cr3t-value-that-must-never-leak-42';

/** A logger that keeps every line, to search them for the secret. */
function recordingLogger(lines: string[]): Logger {
  const log =
    (level: string) =>
    (message: string, fields?: LogFields): void => {
      lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
    };
  const logger: Logger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: () => logger,
  };
  return logger;
}

describe('engine: Secret values stay secret', function () {
  this.timeout(120_000);
  const lines: string[] = [];
  let engine: Engine;
  before(async () => {
    engine = await startEngine({ prefix: 'secret', logger: recordingLogger(lines) });
  });
  after(async () => engine?.stop());

  it('mounts the value for the Pod but shows it in no status, event, log line or Kubernetes Event', async () => {
    await engine.apply(
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: SECRET } },
      plugin('loader', {
        settings: [
          { name: 'host', required: true },
          { name: 'password', secret: true, required: true },
        ],
      }),
      pipeline('guarded', {
        steps: [
          {
            name: 'load',
            plugin: 'loader',
            config: { host: 'db.example' },
            configFrom: [{ setting: 'password', secretKeyRef: { name: 'db', key: 'password' } }],
            podMetadata: fake(0, '2s'),
          },
          // Fails, so a failure path (reason, exit code, Warning Event) is covered too.
          {
            name: 'check',
            plugin: 'loader',
            dependsOn: ['load'],
            config: { host: 'db.example' },
            configFrom: [{ secretRef: { name: 'db' } }],
            podMetadata: fake(9),
          },
        ],
      }),
    );
    // While it runs, the attempt's config Secret carries the value for the plugin.
    const mounted = await eventually(async () => {
      const s = JSON.parse(await engine.kubectl(['get', 'secret', 'guarded-g1-load-1', '-o', 'json'])) as {
        data: Record<string, string>;
      };
      return s.data;
    });
    const config = JSON.parse(Buffer.from(mounted['config.json']!, 'base64').toString()) as Record<
      string,
      unknown
    >;
    expect(config).to.deep.equal({ host: 'db.example', password: SECRET });
    await eventually(async () => {
      const p = JSON.parse(await engine.kubectl(['get', 'flexpipeline', 'guarded', '-o', 'json'])) as {
        status?: { phase?: string };
      };
      return p.status?.phase === 'Failed';
    });
    const places: Record<string, string> = {
      status: await engine.kubectl(['get', 'flexpipeline', 'guarded', '-o', 'json']),
      pods: await engine.kubectl(['get', 'pods', '-o', 'json']),
      kubernetesEvents: await engine.kubectl(['get', 'events.events.k8s.io', '-o', 'json']),
      eventStore: JSON.stringify(
        (await engine.db.pool.query('SELECT type, data, metadata FROM flexcore.events')).rows,
      ),
      readModels: JSON.stringify(
        (
          await engine.db.pool.query(
            `SELECT * FROM flexcore_read.runs r FULL JOIN flexcore_read.step_attempts USING (run_id)`,
          )
        ).rows,
      ),
      controllerLog: lines.join('\n'),
    };
    expect(places.kubernetesEvents).to.include('RunFailed'); // the Events exist, so the search means something
    expect(lines.length).to.be.greaterThan(0);
    for (const [where, text] of Object.entries(places)) expect(text.includes(SECRET), where).to.equal(false);
    // Finished attempts' config Secrets are deleted.
    await eventually(
      async () => !(await engine.kubectl(['get', 'secrets', '-o', 'name'])).includes('guarded-g1-load-1'),
    );
  });
});
