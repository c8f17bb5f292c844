/**
 * Extract, load, transform on the real node: tap-postgres | target-postgres fill a warehouse
 * schema, then dbt builds a model from it (the project from a ConfigMap, the connection from
 * the step's settings). A broken model fails its step with dbt's exit code and error in the
 * stored log tail, and the step after it is Skipped.
 */
import { expect } from 'chai';
import { startEngine, type Engine } from './support/engine.js';
import { catalogPlugin } from '../../hack/demo/catalog.js';
import { pipeline, plugin } from './support/manifests.js';
import {
  applyTapPostgres,
  finishedRun,
  logTail,
  ON_REAL_NODE,
  podReachablePostgres,
  realNodeOf,
  seedOrders,
  type PodReachablePostgres,
} from './support/real.js';

const ROWS = 300;

/** A dbt project with one model over the loaded table; `sql` is the model. */
function dbtProject(name: string, sql: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name },
    data: {
      'dbt_project.yml': 'name: shop\nversion: "1.0"\nprofile: shop\nmodel-paths: [models]\n',
      'orders_by_customer.sql': sql,
    },
  };
}

describe('real node: tap-postgres | target-postgres, then dbt', function () {
  this.timeout(300_000);
  let engine: Engine;
  let source: PodReachablePostgres;
  /** The pipeline spec, with the dbt project from ConfigMap `project`. */
  let elt: (project: string) => Record<string, unknown>;

  before(async () => {
    engine = await startEngine({ prefix: 'real-dbt' });
    await realNodeOf(engine.plane);
    source = await podReachablePostgres();
    await seedOrders(source, 'shop', ROWS);
    await source.server.createDatabase('dw');
    const tap = await applyTapPostgres(engine, source, 'shop');
    const connection = { host: source.podHost, port: source.port, user: 'postgres' };
    const password = (setting: string): Record<string, unknown> => ({
      setting,
      secretKeyRef: { name: 'shop-db', key: 'password' },
    });
    await engine.apply(
      catalogPlugin('target-postgres'),
      catalogPlugin('dbt', { ...ON_REAL_NODE, retries: { limit: 0 } }),
      plugin('report', {
        type: 'utility',
        image: 'localhost/python:3.11-slim-bookworm',
        imagePullPolicy: 'Never',
        command: ['sh', '-c', 'echo report'],
        defaults: { ...ON_REAL_NODE },
      }),
      dbtProject(
        'shop-dbt',
        'select customer, count(*) as orders, sum(amount) as total from raw.orders group by customer\n',
      ),
      dbtProject('shop-dbt-broken', 'select customer, count(*) from raw.no_such_table group by customer\n'),
    );
    elt = (project: string): Record<string, unknown> => ({
      steps: [
        {
          name: 'load',
          ...tap,
          target: {
            plugin: 'target-postgres',
            config: {
              ...connection,
              database: 'dw',
              default_target_schema: 'raw',
              activate_version: false,
            },
            configFrom: [password('password')],
          },
        },
        {
          name: 'transform',
          plugin: 'dbt',
          dependsOn: ['load'],
          retries: { limit: 0 },
          config: { ...connection, dbname: 'dw', schema: 'analytics' },
          configFrom: [password('password')],
          volumes: [
            {
              name: 'project',
              mountPath: '/project',
              configMap: {
                name: project,
                items: [
                  { key: 'dbt_project.yml', path: 'dbt_project.yml' },
                  { key: 'orders_by_customer.sql', path: 'models/orders_by_customer.sql' },
                ],
              },
            },
          ],
        },
        { name: 'report', plugin: 'report', dependsOn: ['transform'] },
      ],
    });
    await engine.apply(pipeline('elt', elt('shop-dbt')));
  });
  after(async () => {
    await engine?.stop();
    await source?.server.stop();
  });

  it('loads every row into the warehouse and builds the dbt model from it', async () => {
    const run = await finishedRun(engine, 'elt');
    if (run.phase !== 'Succeeded')
      for (const c of ['tap', 'target']) console.log(c, await logTail(engine, run.id!, 'load', c));
    expect(run.phase, JSON.stringify(run)).to.equal('Succeeded');
    const [loaded] = await source.query<{ n: string }>('dw', 'SELECT count(*) AS n FROM raw.orders');
    expect(Number(loaded!.n)).to.equal(ROWS);
    const model = await source.query<{ customer: string; orders: string }>(
      'dw',
      'SELECT customer, orders FROM analytics.orders_by_customer ORDER BY customer',
    );
    expect(model).to.have.length(97); // customer-0 .. customer-96
    expect(model.reduce((sum, r) => sum + Number(r.orders), 0)).to.equal(ROWS);
  });

  it('fails a broken model’s step with dbt’s exit code and error, and skips what depends on it', async () => {
    await engine.apply(pipeline('elt-broken', elt('shop-dbt-broken')));
    const run = await finishedRun(engine, 'elt-broken');
    const steps = Object.fromEntries(run.steps!.map((s) => [s.name, s]));
    expect(run.phase, JSON.stringify(run)).to.equal('Failed');
    expect(steps['load']?.phase).to.equal('Succeeded');
    expect([steps['transform']?.phase, steps['transform']?.exitCode]).to.deep.equal(['Failed', 1]);
    expect(steps['report']?.phase).to.equal('Skipped');
    const log = await logTail(engine, run.id!, 'transform', 'plugin');
    expect(log).to.contain('no_such_table');
    expect(log).to.match(/Database Error/);
  });
});
