/**
 * A real Prometheus scrapes a running controller and evaluates the shipped rules file: after a
 * pipeline fails and another succeeds, PromQL returns the counters, histograms and freshness
 * gauges, and FlexCorePipelineStale goes pending for the scheduled pipeline that never succeeded
 * (with a one-second threshold recorded for it; promtool's tests cover the logic, this the wiring).
 */
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttpServer, type HttpServer } from '../../controller/server/http-server.js';
import { REPO_ROOT } from './support/async.js';
import { eventually, startEngine, type Engine } from './support/engine.js';
import { fake, pipeline, plugin } from './support/manifests.js';
import { startPrometheus, type Prometheus, type Sample } from './support/prometheus.js';

describe('a real Prometheus scraping the controller, with the shipped rules', function () {
  this.timeout(180_000);
  let engine: Engine;
  let server: HttpServer;
  let prometheus: Prometheus;
  let dir: string;
  let ns: string;
  before(async () => {
    engine = await startEngine({ prefix: 'prom' });
    ns = engine.namespace;
    server = await startHttpServer({
      readiness: engine.manager,
      registry: engine.manager.registry,
      port: 0,
      host: '127.0.0.1',
    });
    dir = await mkdtemp(join(tmpdir(), 'fc-prom-rules-'));
    const threshold = join(dir, 'thresholds.yaml');
    await writeFile(
      threshold,
      JSON.stringify({
        groups: [
          {
            name: 'test-thresholds',
            rules: [
              {
                record: 'flexcore_pipeline:stale_after_seconds',
                expr: 'vector(1)',
                labels: { namespace: ns, pipeline: 'broken' },
              },
            ],
          },
        ],
      }),
    );
    prometheus = await startPrometheus(
      [`127.0.0.1:${server.port}`],
      [join(REPO_ROOT, 'charts/flexcore/files/prometheus-rules.yaml'), threshold],
    );
    await engine.apply(
      plugin('work'),
      pipeline('good', { steps: [{ name: 's', plugin: 'work', podMetadata: fake() }] }),
      // Scheduled once a year: its only run is the manual one below, and it fails.
      pipeline('broken', {
        schedule: '0 0 1 1 *',
        steps: [{ name: 's', plugin: 'work', podMetadata: fake(3) }],
      }),
    );
    await engine.kubectl(['annotate', 'flexpipeline', 'broken', 'flexcore.io/run-requested=once']);
  });
  after(async () => {
    await prometheus?.stop();
    await server?.close();
    await engine?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const values = (samples: Sample[], label: string): Record<string, number> =>
    Object.fromEntries(samples.map((s) => [s.metric[label] ?? '', s.value]));

  it('answers PromQL on runs, attempts, durations and freshness', async () => {
    const finished = await eventually(async () => {
      const v = values(
        await prometheus.query(
          `sum by (result) (flexcore_runs_finished_total{job="flexcore",namespace="${ns}"})`,
        ),
        'result',
      );
      return v.Succeeded === 1 && v.Failed === 1 && v;
    }, 60_000);
    expect(finished).to.deep.equal({ Succeeded: 1, Failed: 1 });
    const attempts = await prometheus.query(
      `flexcore_step_attempts_finished_total{namespace="${ns}",plugin="work"}`,
    );
    expect(attempts.map((s) => [s.metric.result, s.metric.reason, s.value]).sort()).to.deep.equal([
      ['Failed', 'ExitCode3', 1],
      ['Succeeded', 'None', 1],
    ]);
    const [count] = await prometheus.query(
      `sum(flexcore_step_attempt_duration_seconds_count{namespace="${ns}"})`,
    );
    expect(count?.value).to.equal(2);
    const [p95] = await prometheus.query(
      `histogram_quantile(0.95, sum by (le) (flexcore_step_attempt_duration_seconds_bucket{namespace="${ns}"}))`,
    );
    expect(p95?.value, 'a quantile from the buckets').to.be.within(0, 60);

    // The gauges are set right after a run's last status write: a scrape may fall between.
    const success = await eventually(async () => {
      const v = values(
        await prometheus.query(`flexcore_pipeline_last_success_timestamp_seconds{namespace="${ns}"}`),
        'pipeline',
      );
      return v.good !== undefined && v;
    }, 30_000);
    expect(Object.keys(success), 'only the pipeline that succeeded').to.deep.equal(['good']);
    expect(success.good! * 1000).to.be.closeTo(Date.now(), 120_000);
    const lastRun = values(
      await prometheus.query(`flexcore_pipeline_last_run_timestamp_seconds{namespace="${ns}"}`),
      'pipeline',
    );
    expect(Object.keys(lastRun).sort()).to.deep.equal(['broken', 'good']);
    const next = values(
      await prometheus.query(`flexcore_pipeline_next_schedule_timestamp_seconds{namespace="${ns}"}`),
      'pipeline',
    );
    expect(Object.keys(next)).to.deep.equal(['broken']);
    expect(new Date(next.broken! * 1000).toISOString()).to.match(/-01-01T00:00:00\.000Z$/);
  });

  it('puts FlexCorePipelineStale on the scheduled pipeline that has not succeeded, and no other', async () => {
    const stale = await eventually(async () => {
      const alerts = (await prometheus.alerts()).filter(
        (a) => a.labels.alertname === 'FlexCorePipelineStale' && a.labels.namespace === ns,
      );
      return alerts.length > 0 && alerts;
    }, 60_000);
    expect(stale.map((a) => [a.labels.pipeline, a.labels.severity, a.state])).to.deep.equal([
      ['broken', 'warning', 'pending'], // pending: the rule waits 10 minutes before firing
    ]);
    const [store] = await prometheus.query('flexcore_event_store_up{job="flexcore"}');
    expect(store?.value, 'the event store answers').to.equal(1);
    expect(
      (await prometheus.alerts()).filter((a) => a.labels.alertname === 'FlexCoreEventStoreUnavailable'),
    ).to.deep.equal([]);
  });
});
