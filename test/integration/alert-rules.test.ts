/**
 * FlexCore's alerts, charts/flexcore/files/prometheus-rules.yaml, with the real promtool:
 * `check rules` (every lint), each unit-test group of test/rules/prometheus-rules.test.yaml
 * (every alert firing and not firing, and a wrong threshold does fail them), the shape every
 * alert keeps (for, severity, annotations naming what is affected, a runbook anchor that exists
 * in docs/alerts.md), every metric read being one the controller registers, and the chart's
 * PrometheusRule rendering exactly the file's groups.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { chartRenderer } from './support/chart-render.js';
import { metricNamesOf, promtool, registeredMetrics, run, unknownMetrics } from '../rules/promql.js';

const path = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const RULES = path('charts/flexcore/files/prometheus-rules.yaml');
const RULE_TESTS = path('test/rules/prometheus-rules.test.yaml');
const THRESHOLDS = path('test/rules/stale-thresholds.yaml');
const ALERTS_DOC = path('docs/alerts.md');
const RUNBOOK = 'https://github.com/flexcore/flexcore/blob/main/docs/alerts.md#';
const PLAIN_JOB = 'job=~".*flexcore.*"';
/** Recorded in your own rules file to give a pipeline its own stale threshold (docs/alerts.md). */
const OVERRIDE = 'flexcore_pipeline:stale_after_seconds';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}
interface RuleTests {
  rule_files: string[];
  tests: {
    name: string;
    alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[];
  }[];
}

/** The labels each alert's summary or description must name. */
const NAMED: Record<string, string[]> = {
  FlexCorePipelineStale: ['namespace', 'pipeline'],
  FlexCoreRunStuck: ['namespace', 'pipeline'],
  FlexCoreStepFailureRatioHigh: ['namespace', 'plugin'],
  FlexCoreControllerDown: ['job', 'namespace'],
  FlexCoreNoLeader: ['name', 'job', 'namespace'],
  FlexCoreEventStoreUnavailable: ['pod', 'instance'],
  FlexCoreFencingRejections: ['pod', 'instance'],
  FlexCoreWorkQueueGrowing: ['name', 'pod', 'instance'],
  FlexCoreRedisUnavailable: ['pod', 'instance'],
};

/** GitHub's anchor of a Markdown heading. */
const anchor = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

const rulesOf = (file: RuleFile): Rule[] => file.groups.flatMap((g) => g.rules);
const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Read when mocha loads the file: one test per promtool group.
const ruleTests = parse(readFileSync(RULE_TESTS, 'utf8')) as RuleTests;

describe('alert rules (charts/flexcore/files/prometheus-rules.yaml)', function () {
  this.timeout(600_000); // a first build of promtool; well under a second per run once cached
  let bin: string;
  let file: RuleFile;
  let tmp: string;

  before(async () => {
    bin = await promtool();
    file = parse(await readFile(RULES, 'utf8')) as RuleFile;
    tmp = await mkdtemp(join(tmpdir(), 'flexcore-rules-'));
  });
  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('passes promtool check rules with every lint', async () => {
    const r = await run(bin, ['check', 'rules', '--lint=all', '--lint-fatal', RULES]);
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.contain('SUCCESS: 11 rules found');
  });

  it('shows in docs/alerts.md the thresholds file the unit tests load, which promtool accepts', async () => {
    const example = await readFile(THRESHOLDS, 'utf8');
    expect(await readFile(ALERTS_DOC, 'utf8')).to.contain(`\`\`\`yaml\n${example}\`\`\``);
    expect(ruleTests.rule_files).to.include('stale-thresholds.yaml');
    const r = await run(bin, ['check', 'rules', '--lint=all', '--lint-fatal', THRESHOLDS]);
    expect(r.code, r.out).to.equal(0);
  });

  it('has the alerts docs/alerts.md describes, each with for, a severity, annotations and a runbook anchor', async () => {
    const alerts = rulesOf(file).filter((r) => r.alert);
    expect([...new Set(alerts.map((r) => r.alert))].sort()).to.deep.equal(Object.keys(NAMED).sort());
    const doc = await readFile(ALERTS_DOC, 'utf8');
    const anchors = new Set([...doc.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1]!)));
    for (const rule of alerts) {
      const name = rule.alert!;
      expect(rule.for, name).to.match(/^\d+[smh]$/);
      expect(rule.labels?.severity, name).to.be.oneOf(['warning', 'critical']);
      const { summary, description, runbook_url: url } = rule.annotations ?? {};
      expect(summary, name).to.be.a('string').and.not.empty;
      expect(description, name).to.be.a('string').and.not.empty;
      for (const label of NAMED[name]!)
        expect(`${summary} ${description}`, name).to.contain(`$labels.${label}`);
      expect(url, name).to.equal(`${RUNBOOK}${name.toLowerCase()}`);
      expect(anchors, `docs/alerts.md has no heading for ${name}`).to.include(name.toLowerCase());
    }
  });

  it('reads only metrics the controller registers (or the rules record)', async () => {
    const registered = await registeredMetrics();
    const recorded = new Set(rulesOf(file).flatMap((r) => (r.record ? [r.record] : [])));
    const exprs = rulesOf(file).map((r) => r.expr);
    expect(unknownMetrics(exprs, registered, new Set([...recorded, OVERRIDE, 'up']))).to.deep.equal([]);
    // Every selector carries the job matcher the chart replaces (recorded series need none).
    for (const expr of exprs)
      for (const name of metricNamesOf(expr).filter((n) => !n.includes(':')))
        expect(expr, name).to.match(new RegExp(`\\b${name}\\{${escapeRegExp(PLAIN_JOB)}`));
  });

  it('the metric check does refuse a name the controller does not register', async () => {
    const registered = await registeredMetrics();
    expect(registered.names).to.include('flexcore_pipeline_last_success_timestamp_seconds');
    expect(
      unknownMetrics(
        [
          'time() - flexcore_pipeline_last_succes_timestamp_seconds{job="x"}',
          'histogram_quantile(0.9, rate(flexcore_run_duration_seconds_bucket[5m]))',
          'rate(flexcore_runs_started_total_bucket[5m])',
        ],
        registered,
      ),
    ).to.deep.equal([
      'flexcore_pipeline_last_succes_timestamp_seconds in: time() - flexcore_pipeline_last_succes_timestamp_seconds{job="x"}',
      'flexcore_runs_started_total_bucket in: rate(flexcore_runs_started_total_bucket[5m])',
    ]);
  });

  describe('promtool unit tests (test/rules/prometheus-rules.test.yaml)', () => {
    it('cover every alert, firing and not firing', () => {
      const cases = ruleTests.tests.flatMap((t) => t.alert_rule_test ?? []);
      for (const name of Object.keys(NAMED)) {
        const mine = cases.filter((c) => c.alertname === name);
        expect(
          mine.some((c) => c.exp_alerts.length > 0),
          `${name} firing`,
        ).to.equal(true);
        expect(
          mine.some((c) => c.exp_alerts.length === 0),
          `${name} not firing`,
        ).to.equal(true);
      }
    });

    for (const group of ruleTests.tests) {
      it(group.name, async () => {
        const r = await run(bin, ['test', 'rules', '--run', `^${escapeRegExp(group.name)}$`, RULE_TESTS]);
        expect(r.code, r.out).to.equal(0);
        expect(r.out).to.contain('SUCCESS');
      });
    }

    it('fail when a threshold is wrong', async () => {
      const rules = await readFile(RULES, 'utf8');
      const broken = rules.replace(
        /(flexcore_pipeline_run_deadline_timestamp_seconds[^\n]*\n\s*)> 300/,
        '$1> 240',
      );
      expect(broken).to.not.equal(rules);
      await writeFile(join(tmp, 'rules.yaml'), broken);
      await writeFile(
        join(tmp, 'rules.test.yaml'),
        stringify({ ...ruleTests, rule_files: ['rules.yaml', THRESHOLDS] }),
      );
      const r = await run(bin, [
        'test',
        'rules',
        '--run',
        'deadline|never succeeded',
        join(tmp, 'rules.test.yaml'),
      ]);
      expect(r.code).to.not.equal(0);
      expect(r.out).to.contain('alertname: FlexCoreRunStuck');
      expect(r.out).to.not.contain('alertname: FlexCorePipelineStale');
    });
  });

  describe("the chart's PrometheusRule", () => {
    let renderKind: Awaited<ReturnType<typeof chartRenderer>>;
    before(async () => {
      renderKind = await chartRenderer(tmp);
    });
    const render = (values: Record<string, unknown>): Promise<Record<string, unknown>[]> =>
      renderKind(values, 'PrometheusRule');
    const groupsWith = (matcher: string): RuleFile['groups'] =>
      (parse(readFileSync(RULES, 'utf8').replaceAll(PLAIN_JOB, matcher)) as RuleFile).groups;

    it('is not rendered by default', async () => {
      expect(await render({})).to.deep.equal([]);
    });

    it("holds exactly the plain file's groups when given the file's job matcher", async () => {
      const [rule, ...more] = await render({ prometheusRule: { enabled: true, jobMatcher: PLAIN_JOB } });
      expect(more).to.deep.equal([]);
      expect(rule!.apiVersion).to.equal('monitoring.coreos.com/v1');
      expect((rule!.spec as RuleFile).groups).to.deep.equal(file.groups);
    });

    it("selects the chart's own Service as the job by default, and nothing else differs", async () => {
      const [rule] = await render({ prometheusRule: { enabled: true } });
      expect((rule!.metadata as { namespace: string }).namespace).to.equal('flexcore-system');
      const groups = (rule!.spec as RuleFile).groups;
      expect(groups).to.deep.equal(groupsWith('job="flexcore"'));
      expect(JSON.stringify(groups)).to.not.contain('.*flexcore.*');
    });

    it('renders rules promtool accepts with a matcher of your own', async () => {
      const matcher = 'namespace="ops", job="flexcore-prod"';
      const [rule] = await render({
        prometheusRule: { enabled: true, jobMatcher: matcher, namespace: 'monitoring' },
      });
      expect((rule!.metadata as { namespace: string }).namespace).to.equal('monitoring');
      const groups = (rule!.spec as RuleFile).groups;
      expect(groups).to.deep.equal(groupsWith(matcher));
      await writeFile(join(tmp, 'rendered.yaml'), stringify(rule!.spec));
      const r = await run(bin, ['check', 'rules', '--lint=all', '--lint-fatal', join(tmp, 'rendered.yaml')]);
      expect(r.code, r.out).to.equal(0);
    });
  });
});
