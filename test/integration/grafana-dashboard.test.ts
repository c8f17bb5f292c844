/**
 * FlexCore's Grafana dashboard, charts/flexcore/files/grafana-dashboard.json: the fields a
 * current Grafana needs, unique panel ids, panels that do not overlap on the 24-column grid,
 * every query through the `datasource` variable, every PromQL expression accepted by the real
 * promtool (written as recording rules, template variables replaced), every metric read one the
 * controller registers, and the chart's ConfigMap carrying the file as it is.
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { chartRenderer } from './support/chart-render.js';
import { promtool, registeredMetrics, run, unknownMetrics } from '../rules/promql.js';

const path = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const DASHBOARD = path('charts/flexcore/files/grafana-dashboard.json');

interface GridPos {
  h: number;
  w: number;
  x: number;
  y: number;
}
interface Target {
  refId: string;
  expr: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: GridPos;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
  datasource?: { type?: string; uid?: string };
}
interface Dashboard {
  uid: string;
  title: string;
  tags: string[];
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
  time: { from: string; to: string };
}

/** Grafana's built-in variables, and ours, as promtool should see them. */
const SUBSTITUTES: Record<string, string> = {
  __rate_interval: '5m',
  __interval: '1m',
  __range: '1h',
  job: 'flexcore',
  namespace: '.*',
  pipeline: '.*',
};

/** The expression with every `$var` / `${var}` replaced; throws on a variable it does not know. */
function substitute(expr: string): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, braced?: string, bare?: string) => {
    const name = (braced ?? bare)!;
    const value = SUBSTITUTES[name];
    if (value === undefined) throw new Error(`unknown variable $${name} in ${expr}`);
    return value;
  });
}

const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const overlap = (a: GridPos, b: GridPos): boolean =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const queryOf = (v: Variable): string => (typeof v.query === 'string' ? v.query : v.query.query);

describe('Grafana dashboard (charts/flexcore/files/grafana-dashboard.json)', function () {
  this.timeout(600_000); // a first build of promtool or helm; seconds once cached
  let text: string;
  let dashboard: Dashboard;
  let panels: Panel[];
  let tmp: string;

  before(async () => {
    text = await readFile(DASHBOARD, 'utf8');
    dashboard = JSON.parse(text) as Dashboard;
    panels = allPanels(dashboard.panels);
    tmp = await mkdtemp(join(tmpdir(), 'flexcore-dashboard-'));
  });
  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  /** Every PromQL expression: the panels' and, for label_values(), the variables' selectors. */
  const expressions = (): { where: string; expr: string }[] => [
    ...panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ where: `panel ${p.id} ${t.refId}`, expr: t.expr })),
    ),
    ...dashboard.templating.list
      .filter((v) => v.type === 'query')
      .map((v) => ({
        where: `variable ${v.name}`,
        expr: /^label_values\((.+),\s*\w+\)$/.exec(queryOf(v))![1]!,
      })),
  ];

  it('has what Grafana needs to import it', () => {
    expect(dashboard.uid).to.match(/^[a-z0-9-]{1,40}$/);
    expect(dashboard.title).to.equal('FlexCore');
    expect(dashboard.tags).to.include('flexcore');
    expect(dashboard.schemaVersion).to.be.within(36, 41);
    expect(dashboard.time).to.deep.equal({ from: 'now-24h', to: 'now' });
    expect(panels.length).to.be.greaterThan(20);
    const vars = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v]));
    expect(vars.datasource).to.include({ type: 'datasource', query: 'prometheus' });
    for (const name of ['job', 'namespace', 'pipeline']) {
      expect(vars[name]?.type, name).to.equal('query');
      expect(queryOf(vars[name]!), name).to.match(/^label_values\(/);
      expect(vars[name]!.datasource, name).to.deep.equal({ type: 'prometheus', uid: '${datasource}' });
    }
    // A variable is defined before another uses it.
    expect(dashboard.templating.list.map((v) => v.name)).to.deep.equal([
      'datasource',
      'job',
      'namespace',
      'pipeline',
    ]);
  });

  it('has unique panel ids, and panels inside the grid that do not overlap', () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      expect([x, y, w, h].every(Number.isInteger), p.title).to.equal(true);
      expect(x >= 0 && w > 0 && h > 0 && y >= 0 && x + w <= 24, p.title).to.equal(true);
    }
    for (const [i, a] of panels.entries())
      for (const b of panels.slice(i + 1))
        expect(overlap(a.gridPos, b.gridPos), `"${a.title}" and "${b.title}" overlap`).to.equal(false);
  });

  it('queries the ${datasource} variable in every panel and target', () => {
    const ds = { type: 'prometheus', uid: '${datasource}' };
    for (const p of panels.filter((p) => p.type !== 'row')) {
      expect(p.datasource, p.title).to.deep.equal(ds);
      expect(p.targets, p.title).to.be.an('array').that.is.not.empty;
      for (const t of p.targets!) {
        expect(t.datasource, `${p.title} ${t.refId}`).to.deep.equal(ds);
        expect(t.expr, `${p.title} ${t.refId}`).to.be.a('string').that.is.not.empty;
      }
    }
  });

  it('has PromQL that promtool parses, and promtool would refuse a broken one', async () => {
    const bin = await promtool();
    const check = async (exprs: string[]): Promise<{ code: number | null; out: string }> => {
      const rules = {
        groups: [
          { name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:expr_${i}`, expr })) },
        ],
      };
      await writeFile(join(tmp, 'dashboard-rules.yaml'), stringify(rules));
      return run(bin, ['check', 'rules', join(tmp, 'dashboard-rules.yaml')]);
    };
    const exprs = expressions().map((e) => substitute(e.expr));
    const ok = await check(exprs);
    expect(ok.code, ok.out).to.equal(0);
    expect(ok.out).to.contain(`SUCCESS: ${exprs.length} rules found`);
    const broken = await check([...exprs, 'sum by (plugin (rate(flexcore_step_retries_total[5m]))']);
    expect(broken.code).to.not.equal(0);
    expect(broken.out).to.contain('dashboard:expr_');
  });

  it('reads only metrics the controller registers', async () => {
    const exprs = expressions().map((e) => e.expr);
    expect(unknownMetrics(exprs, await registeredMetrics(), new Set(['up']))).to.deep.equal([]);
  });

  it('shows what on-call needs: runs, failures, durations, freshness, and the engine', () => {
    const all = expressions()
      .map((e) => e.expr)
      .join('\n');
    for (const metric of [
      'flexcore_runs_started_total',
      'flexcore_runs_finished_total',
      'flexcore_run_duration_seconds_bucket',
      'flexcore_step_attempts_finished_total',
      'flexcore_step_attempt_duration_seconds_bucket',
      'flexcore_step_retries_total',
      'flexcore_schedule_ticks_skipped_total',
      'flexcore_pipeline_last_success_timestamp_seconds',
      'flexcore_pipeline_last_run_timestamp_seconds',
      'flexcore_pipeline_next_schedule_timestamp_seconds',
      'leader_election_master_status',
      'workqueue_depth',
      'controller_runtime_reconcile_errors_total',
      'flexcore_event_store_append_duration_seconds_bucket',
      'flexcore_event_store_fencing_rejections_total',
      'flexcore_event_store_up',
      'flexcore_redis_up',
      'flexcore_api_requests_total',
    ])
      expect(all, metric).to.contain(metric);
    expect(all).to.contain('histogram_quantile(0.5,').and.contain('histogram_quantile(0.95,');
    const table = panels.find((p) => p.type === 'table' && /last success/i.test(p.title)) as
      (Panel & { transformations: { id: string }[] }) | undefined;
    expect(table?.transformations.map((t) => t.id)).to.include.members(['merge', 'organize']);
  });

  describe("the chart's ConfigMap", () => {
    let renderKind: Awaited<ReturnType<typeof chartRenderer>>;
    before(async () => {
      renderKind = await chartRenderer(tmp);
    });
    const render = (values: Record<string, unknown>): Promise<Record<string, unknown>[]> =>
      renderKind(values, 'ConfigMap');

    it('is not rendered by default', async () => {
      expect(await render({})).to.deep.equal([]);
    });

    it('carries the dashboard as it is, labelled for the Grafana sidecar', async () => {
      const [cm, ...more] = await render({ grafanaDashboard: { enabled: true } });
      expect(more).to.deep.equal([]);
      const metadata = cm!.metadata as { namespace: string; labels: Record<string, string> };
      expect(metadata.namespace).to.equal('flexcore-system');
      expect(metadata.labels).to.include({ grafana_dashboard: '1', 'app.kubernetes.io/name': 'flexcore' });
      const data = cm!.data as Record<string, string>;
      expect(Object.keys(data)).to.deep.equal(['flexcore.json']);
      expect(JSON.parse(data['flexcore.json']!)).to.deep.equal(dashboard);
    });

    it('takes the labels, annotations and namespace of your Grafana', async () => {
      const [cm] = await render({
        grafanaDashboard: {
          enabled: true,
          // Helm merges maps with the defaults: null drops the default label.
          labels: { dashboards: 'grafana', grafana_dashboard: null },
          annotations: { grafana_folder: 'FlexCore' },
          namespace: 'monitoring',
        },
      });
      const metadata = cm!.metadata as {
        namespace: string;
        labels: Record<string, string>;
        annotations: Record<string, string>;
      };
      expect(metadata.namespace).to.equal('monitoring');
      expect(metadata.labels).to.include({ dashboards: 'grafana' });
      expect(metadata.labels).to.not.have.property('grafana_dashboard');
      expect(metadata.annotations).to.deep.equal({ grafana_folder: 'FlexCore' });
    });
  });
});
