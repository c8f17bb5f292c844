import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopSharedPlane } from './support/plane.js';
import { sharedPostgres } from './support/store.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe("the README's main job (hack/up.ts --once)", function () {
  this.timeout(300_000);

  // The main job starts a real node of its own: one per machine, so the shared plane's goes
  // first (the next suite that needs the shared plane starts it again).
  before(async () => stopSharedPlane());

  it('brings up the plane with the real node and the controller, runs the samples and the real demo, prints the rows and the kubeconfig', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'hack/up.ts', '--once'], {
      cwd: root,
      // A database of its own, so the run does not depend on (or touch) the embedded default store.
      env: { ...process.env, DATABASE_URL: await (await sharedPostgres()).createDatabase() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, out).to.equal(0);
    expect(out).to.include('flexplugin.flexcore.io/tap-postgres created');
    expect(out).to.include('flexpipeline.flexcore.io/orders-refresh created');
    expect(out).to.match(
      /flexpipeline\.flexcore\.io\/orders-nightly\s+Succeeded\s+1\/1\s+30 2 \* \* \*\s+false/,
    );
    expect(out).to.match(
      /flexplugin\.flexcore\.io\/dbt\s+transformer\s+localhost\/flexcore\/dbt-postgres:1\.9\.1/,
    );
    expect(out).to.match(/export KUBECONFIG=\/\S+\/admin\.kubeconfig/);
    expect(out).to.match(/orders-refresh: Succeeded 4\/4 g1-/);
    expect(out).to.match(/orders-nightly: Succeeded 1\/1 m-/);
    expect(out).to.match(/pod\/orders-refresh-g1-load-1\s+0\/2\s+Completed/);
    expect(out).to.match(/controller serving http:\/\/127\.0\.0\.1:\d+\/healthz/);
    expect(out).to.match(/GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/namespaces\/\S+\/runs/);
    expect(out).to.match(/g1-\S+\s+orders-refresh\s+Generation\s+Succeeded\s+\S+ ago\s+\d+s/);
    expect(out).to.include('stopping the controller, the event store and the control plane');
    // The demo on the real node: real plugins, real rows.
    expect(out).to.match(/demo-orders-files: 1000 rows arrived in \/\S+\/public-orders\.jsonl/);
    expect(out).to.include('demo-orders-warehouse: 1000 rows arrived in dw.raw.orders');
    expect(out).to.include(
      'demo-orders-warehouse: dbt built analytics.orders_by_customer: 97 rows over 1000 orders; top customers:',
    );
    expect(out).to.match(/customer-\d+: \d+ orders, revenue [\d.]+/);
    // Round 2: a few source rows change, and the INCREMENTAL run moves only those (and the
    // bookmark row, read again: Singer's at-least-once).
    expect(out).to.include(
      'demo: inserted orders 1001, 1002, 1003 and updated orders 17, 42 in shop.public.orders',
    );
    expect(out).to.include(
      "demo-orders-warehouse: run 2 moved 6 rows (orders 17, 42, 1000, 1001, 1002, 1003), not 1003: only what changed since run 1's bookmark on updated_at (order 1000 is the bookmark row",
    );
    expect(out).to.include('demo-orders-warehouse: dw.raw.orders now holds 1003 rows');
    expect(out).to.include(
      'demo-orders-warehouse: dbt built analytics.orders_by_customer: 97 rows over 1003 orders; top customers:',
    );
    expect(out).to.match(
      /pod\/demo-orders-warehouse-g1-transform-1\s+0\/1\s+Completed\s+\d+\s+\S+\s+[\d.]+\s+flexcore-node-0/,
    );
  });
});
