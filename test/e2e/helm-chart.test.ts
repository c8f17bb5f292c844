/**
 * The chart installed for real: `helm install` into a plane of its own (the apiserver's audit
 * log on) whose real node runs the controller's image as the chart's Deployment. Two replicas
 * elect leaders, PostgreSQL and Redis URLs come from Secrets, sample pipelines run to
 * Succeeded, `helm test` passes, the leader's Pod is killed, `helm upgrade` changes a CRD and
 * rolls the Deployment mid-run, `helm uninstall` keeps CRDs and pipelines. Then the audit log
 * shows what the controller's ServiceAccount did: it must have used every grant and been
 * refused nothing, cluster-wide and in the namespaced mode.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { chown, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { ControlPlane } from '../../hack/plane/control-plane.js';
import { NODE_NETWORK, REAL_NODE_PLACEMENT } from '../../hack/plane/node/real-node.js';
import { createRestrictedNamespace } from '../../hack/plane/setup.js';
import { gitopsTools } from '../../hack/plane/tools.js';
import { podReachablePostgres, type PodReachablePostgres } from '../../hack/demo/source-db.js';
import { startRedis, type RedisServer } from '../../hack/services/redis.js';
import { auditRecords, compareRbac, grantKey, grantsOf } from './support/rbac-audit.js';
import { Helm } from './support/helm.js';
import { until } from '../../hack/gitops/lifecycle.js';

const CHART = fileURLToPath(new URL('../../charts/flexcore', import.meta.url));
const CLI = fileURLToPath(new URL('../../controller/cli/flexcore.mjs', import.meta.url));
const RELEASE_NS = 'flexcore-system';
const WORK_NS = 'etl';
const TEAM_RELEASE_NS = 'flexcore-team';
const TEAM_NS = 'team';
const TEAM_NS_2 = 'team-b';
const EVAL_RELEASE_NS = 'flexcore-eval';
const EVAL_NS = 'trial';

/** Only service accounts' requests are logged: the controller's are the ones compared. */
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    userGroups: ["system:serviceaccounts"]
  - level: None
`;

interface PipelineJson {
  metadata: { name: string; generation?: number; finalizers?: string[] };
  status?: {
    currentRun?: { id?: string; phase?: string };
    lastRun?: { id?: string; phase?: string; steps?: { name: string; phase?: string; attempt?: number }[] };
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('the Helm chart on the real plane', function () {
  this.timeout(20 * 60_000);
  let plane: ControlPlane;
  let helm: Helm;
  let source: PodReachablePostgres;
  let redis: RedisServer;
  let valuesDir: string;

  const kubectl = (args: string[], input?: string): Promise<string> => plane.kubectl(args, input);
  const getJson = async <T>(args: string[]): Promise<T> =>
    JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
  const apply = (ns: string, objects: unknown[]): Promise<string> =>
    kubectl(
      ['-n', ns, 'apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
    );

  /** Values every install here shares: the locally built image, on the real node. */
  const baseValues = (extra: Record<string, unknown>): Record<string, unknown> => ({
    image: { repository: 'localhost/flexcore/controller', tag: 'dev', pullPolicy: 'Never' },
    nodeSelector: REAL_NODE_PLACEMENT.nodeSelector,
    tolerations: REAL_NODE_PLACEMENT.tolerations,
    database: { existingSecret: 'flexcore-database' },
    redis: { existingSecret: 'flexcore-redis' },
    resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    ...extra,
  });
  const valuesFile = async (name: string, values: Record<string, unknown>): Promise<string> => {
    const path = join(valuesDir, `${name}.yaml`);
    await writeFile(path, stringify(values));
    return path;
  };

  /** `helm install` or `helm upgrade` of release flexcore in `ns`, waiting until it is ready. */
  const release = (verb: 'install' | 'upgrade', ns: string, values: string, chart = CHART): Promise<string> =>
    helm.run([verb, 'flexcore', chart, '-n', ns, '-f', values, '--wait', '--timeout', '5m']);
  /** The Secrets a release reads its URLs from, in its namespace, pointing at servers Pods reach. */
  async function secretsIn(ns: string, database: string): Promise<void> {
    const db = new URL(await source.server.createDatabase(database));
    db.hostname = source.podHost;
    const r = new URL(redis.url);
    r.hostname = NODE_NETWORK.nodeIp;
    await apply(ns, [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'flexcore-database' },
        stringData: { url: db.toString() },
      },
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'flexcore-redis' },
        stringData: { url: r.toString() },
      },
    ]);
  }

  const plugin = (name: string, script: string, spec: Record<string, unknown> = {}): unknown => ({
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPlugin',
    metadata: { name },
    spec: {
      type: 'utility',
      image: 'localhost/python:3.11-slim-bookworm',
      imagePullPolicy: 'Never',
      command: ['sh', '-c', script],
      settings: [{ name: 'greeting' }, { name: 'token', secret: true }],
      defaults: { ...REAL_NODE_PLACEMENT, tolerations: [...REAL_NODE_PLACEMENT.tolerations] },
      ...spec,
    },
  });
  /** A Singer tap that emits one record of its catalog's stream, and a target that keeps the state. */
  const singerPair = (): unknown[] => [
    plugin(
      'tap-one',
      `python3 -c 'import json
for m in [{"type": "SCHEMA", "stream": "orders", "schema": {"properties": {"id": {"type": "integer"}}}, "key_properties": ["id"]},
          {"type": "RECORD", "stream": "orders", "record": {"id": 1}},
          {"type": "STATE", "value": {"bookmarks": {"orders": {"id": 1}}}}]:
    print(json.dumps(m))'`,
      { type: 'tap', capabilities: ['catalog', 'state'], settings: [] },
    ),
    plugin(
      'target-count',
      `python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m["type"] == "STATE": print(json.dumps(m["value"]))'`,
      { type: 'target', settings: [] },
    ),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'orders-catalog' },
      data: {
        'catalog.json': JSON.stringify({
          streams: [
            {
              tap_stream_id: 'orders',
              stream: 'orders',
              schema: { properties: { id: { type: 'integer' } } },
              metadata: [{ breadcrumb: [], metadata: { selected: true } }],
            },
          ],
        }),
      },
    },
    pipeline('singer', [
      {
        name: 'el',
        plugin: 'tap-one',
        target: { plugin: 'target-count' },
        catalog: { configMapRef: { name: 'orders-catalog' } },
      },
    ]),
  ];
  /** The hello pipeline's first steps: a secret setting, then a dependent step. */
  const helloSteps = [
    {
      name: 'first',
      plugin: 'hello',
      config: { greeting: 'hi' },
      configFrom: [{ setting: 'token', secretKeyRef: { name: 'hello-token', key: 'token' } }],
    },
    { name: 'second', plugin: 'hello', dependsOn: ['first'] },
  ];
  /** Egress for the hello steps, so each has a NetworkPolicy of its own. */
  const egress = { sandbox: { egress: [{ cidr: '10.0.0.0/8', ports: [{ port: 5432 }] }] } };
  const pipeline = (name: string, steps: unknown[], annotations?: Record<string, string>): unknown => ({
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPipeline',
    metadata: { name, ...(annotations && { annotations }) },
    spec: { steps },
  });

  const pipelineJson = (ns: string, name: string): Promise<PipelineJson> =>
    getJson<PipelineJson>(['-n', ns, 'get', 'flexpipeline', name]);
  /** The pipeline's last run once finished, when it is not `previous`. */
  type LastRun = NonNullable<NonNullable<PipelineJson['status']>['lastRun']>;
  const finished = (ns: string, name: string, previous?: string, timeoutMs = 180_000): Promise<LastRun> =>
    until(
      `a run of ${ns}/${name} to finish`,
      async () => {
        const p = await pipelineJson(ns, name);
        const last = p.status?.lastRun;
        return !p.status?.currentRun && last?.phase && last.id !== previous ? last : undefined;
      },
      timeoutMs,
    );
  /** The id of the pipeline's run once it is Running. */
  const runningRun = (ns: string, name: string): Promise<string> =>
    until(
      `a run of ${ns}/${name} to be Running`,
      async () => {
        const p = await pipelineJson(ns, name);
        return p.status?.currentRun?.phase === 'Running' ? p.status.currentRun.id : undefined;
      },
      120_000,
    );
  const requestRun = (ns: string, name: string): Promise<string> =>
    kubectl([
      '-n',
      ns,
      'annotate',
      '--overwrite',
      'flexpipeline',
      name,
      `flexcore.io/run-requested=${Date.now()}`,
    ]);

  const controllerPods = async (
    ns: string,
  ): Promise<{ name: string; node?: string; phase?: string; ready: boolean }[]> => {
    const list = await getJson<{
      items: {
        metadata: { name: string; deletionTimestamp?: string };
        spec: { nodeName?: string };
        status: { phase?: string; conditions?: { type: string; status: string }[] };
      }[];
    }>(['-n', ns, 'get', 'pods', '-l', 'app.kubernetes.io/component=controller']);
    return list.items
      .filter((p) => !p.metadata.deletionTimestamp)
      .map((p) => ({
        name: p.metadata.name,
        node: p.spec.nodeName,
        phase: p.status.phase,
        ready: (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
      }));
  };
  /** Pod names holding the release's Leases. */
  const leaders = async (ns: string): Promise<string[]> => {
    const leases = await getJson<{ items: { spec: { holderIdentity?: string } }[] }>([
      '-n',
      ns,
      'get',
      'leases',
    ]);
    return [...new Set(leases.items.map((l) => l.spec.holderIdentity ?? '').filter(Boolean))];
  };

  /** A token for `sa` in `ns`, and the API's URL (the Service's ClusterIP, reached through kube-proxy). */
  async function apiCaller(
    releaseNs: string,
    ns: string,
    sa: string,
  ): Promise<{ url: string; token: string }> {
    const svc = await getJson<{ spec: { clusterIP: string; ports: { port: number }[] } }>([
      '-n',
      releaseNs,
      'get',
      'service',
      'flexcore',
    ]);
    const token = (await kubectl(['-n', ns, 'create', 'token', sa, '--duration=1h'])).trim();
    return { url: `http://${svc.spec.clusterIP}:${svc.spec.ports[0]!.port}`, token };
  }
  /** The flexcore CLI as a user with `token`. */
  const cli = async (args: string[], caller: { url: string; token: string }): Promise<string> => {
    return new Promise((resolve, reject) =>
      execFile(
        process.execPath,
        [CLI, ...args, '--server', caller.url, '--token', caller.token],
        { env: { PATH: process.env.PATH, HOME: valuesDir } },
        (err, stdout, stderr) =>
          err ? reject(new Error(`flexcore ${args.join(' ')}: ${stderr}${stdout}`)) : resolve(stdout),
      ),
    );
  };
  /** A user allowed to run, cancel and execute pipelines in `ns` through the API. */
  const operator = (ns: string): unknown[] => [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'operator' } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'pipeline-operator' },
      rules: [
        {
          apiGroups: ['flexcore.io'],
          resources: ['flexpipelines', 'flexplugins', 'flexpipelines/log', 'flexpipelines/events'],
          verbs: ['get', 'list', 'watch', 'create', 'patch'],
        },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'pipeline-operator' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pipeline-operator' },
      subjects: [{ kind: 'ServiceAccount', name: 'operator', namespace: ns }],
    },
  ];

  /**
   * What a user does with a working install, in `ns`: a pipeline with a DAG, a secret setting and
   * a failing retry; a manual run, a cancel and an ad hoc execute through the status API; a step
   * removed (its NetworkPolicy goes); a catalog ConfigMap read; a pipeline deleted.
   */
  async function userScenarios(releaseNs: string, ns: string): Promise<void> {
    await apply(ns, [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'hello-token' },
        stringData: { token: 's3cret-value' },
      },
      // "third" has no configFrom: its config comes inline, from the Pod's annotation (downward API).
      plugin(
        'hello',
        'echo "hello $FLEXCORE_STEP" && test -s "$FLEXCORE_CONFIG_FILE" && ' +
          '{ [ "$FLEXCORE_STEP" != third ] || grep -q \'"greeting": *"hey"\' "$FLEXCORE_CONFIG_FILE"; }',
        egress,
      ),
      plugin('sleeper', 'sleep 600'),
      pipeline('hello', [
        ...helloSteps,
        { name: 'third', plugin: 'hello', dependsOn: ['first'], config: { greeting: 'hey' } },
      ]),
      pipeline('long', [{ name: 'wait', plugin: 'sleeper' }]),
      ...operator(ns),
      ...singerPair(),
    ]);
    const first = await finished(ns, 'hello');
    expect(first.phase, JSON.stringify(first)).to.equal('Succeeded');
    const singer = await finished(ns, 'singer');
    expect(singer.phase, JSON.stringify(singer)).to.equal('Succeeded');
    const names = await kubectl(['-n', ns, 'get', 'networkpolicies', '-o', 'name']);
    expect(names, 'one NetworkPolicy per step with egress').to.match(/third/);

    const caller = await apiCaller(releaseNs, ns, 'operator');
    await cli(['run', 'hello', '-n', ns], caller);
    const second = await finished(ns, 'hello', first.id);
    expect(second.phase).to.equal('Succeeded');
    expect(await cli(['runs', 'hello', '-n', ns], caller)).to.contain(second.id!);

    const longRun = await runningRun(ns, 'long');
    await cli(['cancel', longRun, '-n', ns], caller);
    expect((await finished(ns, 'long')).phase).to.equal('Cancelled');

    // An ad hoc run: a one-step pipeline the reconcile deletes after its TTL.
    const res = await fetch(`${caller.url}/api/v1/namespaces/${ns}/plugins/hello/execute`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${caller.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ config: { greeting: 'once' }, ttlSecondsAfterFinished: 1 }),
    });
    expect(res.status, await res.clone().text()).to.be.oneOf([201, 202]);
    const adHoc = ((await res.json()) as { pipeline?: string }).pipeline;
    expect(adHoc, 'execute names its pipeline').to.be.a('string');
    await until(
      `the ad hoc pipeline ${adHoc} to be deleted after its run`,
      async () =>
        (await kubectl(['-n', ns, 'get', 'flexpipelines', '-o', 'name'])).includes(`/${adHoc!}`)
          ? undefined
          : true,
      180_000,
    );

    // A step removed: its NetworkPolicy is deleted at the next run.
    await apply(ns, [pipeline('hello', helloSteps)]);
    expect((await finished(ns, 'hello', second.id)).phase).to.equal('Succeeded');
    await until(
      'the removed step’s NetworkPolicy to go',
      async () =>
        (await kubectl(['-n', ns, 'get', 'networkpolicies', '-o', 'name'])).includes('third')
          ? undefined
          : true,
      60_000,
    );

    // A Pod of someone else's already has the name the step's Pod would get: the step fails
    // saying so, and the squatter is left alone.
    await apply(ns, [
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'squat-g1-say-1' },
        spec: {
          nodeSelector: { 'example.com/no-such-node': 'true' }, // stays Pending: it only holds the name
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'c',
              image: 'localhost/python:3.11-slim-bookworm',
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
      pipeline('squat', [{ name: 'say', plugin: 'hello' }]),
    ]);
    await until(
      'the squat pipeline to report the taken Pod name',
      async () =>
        JSON.stringify((await pipelineJson(ns, 'squat')).status ?? {}).includes('PodNameTaken')
          ? true
          : undefined,
      120_000,
    );
    expect(await kubectl(['-n', ns, 'get', 'pod', 'squat-g1-say-1', '-o', 'name'])).to.contain(
      'squat-g1-say-1',
    );
    await kubectl(['-n', ns, 'delete', 'flexpipeline', 'squat', '--wait=true', '--timeout=120s']);

    await kubectl(['-n', ns, 'delete', 'flexpipeline', 'long', '--wait=true', '--timeout=120s']);
  }

  before(async function () {
    this.timeout(40 * 60_000);
    const tools = await gitopsTools();
    plane = await ControlPlane.start({
      realNode: true,
      nodeLockWaitMs: 40 * 60_000,
      auditPolicy: AUDIT_POLICY,
    });
    helm = await Helm.create(tools.helm, plane.kubeconfigPath);
    valuesDir = await mkdtemp(join(tmpdir(), 'flexcore-values-'));
    await plane.realNode!.ensureImages(['controller', 'controller-evaluation', 'python']);
    source = await podReachablePostgres();
    redis = await startRedis({ env: { PATH: process.env.PATH }, remote: { address: NODE_NETWORK.nodeIp } });
    for (const ns of [RELEASE_NS, WORK_NS, TEAM_RELEASE_NS, TEAM_NS, TEAM_NS_2, EVAL_RELEASE_NS, EVAL_NS])
      await createRestrictedNamespace(plane, ns);
    await secretsIn(RELEASE_NS, 'flexcore');
    await secretsIn(TEAM_RELEASE_NS, 'flexcore_team');
  });

  after(async () => {
    await redis?.stop();
    await source?.server.stop();
    await plane?.stop();
    if (valuesDir) await rm(valuesDir, { recursive: true, force: true });
  });

  it('refuses a bad values file at install, naming the field', async () => {
    const typo = await valuesFile('typo', { ...baseValues({}), replicas: 2 });
    const wrongType = await valuesFile('wrong-type', { ...baseValues({}), replicaCount: 'two' });
    const typoOut = await helm.failure(['install', 'bad', CHART, '-n', RELEASE_NS, '-f', typo]);
    expect(typoOut).to.match(/additional properties 'replicas' not allowed|replicas/);
    const typeOut = await helm.failure(['install', 'bad', CHART, '-n', RELEASE_NS, '-f', wrongType]);
    expect(typeOut).to.contain('replicaCount');
    expect(typeOut).to.match(/integer/);
    expect(await helm.run(['list', '-A', '-q'])).to.not.contain('bad');
  });

  it('installs: two replicas on the real node under Pod Security "restricted", one leading; helm test passes', async () => {
    const values = await valuesFile('install', baseValues({}));
    await release('install', RELEASE_NS, values, CHART);
    const pods = await controllerPods(RELEASE_NS);
    expect(pods).to.have.length(2);
    for (const p of pods)
      expect([p.node, p.phase, p.ready]).to.deep.equal(['flexcore-node-0', 'Running', true]);
    const held = await until(
      'a Lease holder',
      async () => ((await leaders(RELEASE_NS)).length ? leaders(RELEASE_NS) : undefined),
      60_000,
    );
    expect(pods.map((p) => p.name)).to.include.members(held);
    const out = await helm.run(['test', 'flexcore', '-n', RELEASE_NS, '--timeout', '3m']);
    expect(out).to.match(/TEST SUITE:\s+flexcore-test-readyz\n[^\n]*\n[^\n]*\nPhase:\s+Succeeded/);
    expect(out).to.match(/TEST SUITE:\s+flexcore-test-runs\n[^\n]*\n[^\n]*\nPhase:\s+Succeeded/);
    // The test Pods stay until the next `helm test`, for their logs: the runs Pod listed runs as its own account.
    const runsLog = await kubectl(['-n', RELEASE_NS, 'logs', 'flexcore-test-runs']);
    expect(runsLog).to.contain(`No runs found in namespace ${RELEASE_NS}`);
  });

  it('runs sample pipelines, API commands and clean-ups through the installed controller', async () => {
    await userScenarios(RELEASE_NS, WORK_NS);
  });

  it('hands over when the leader’s Pod is killed, and a run started before finishes', async () => {
    await apply(WORK_NS, [
      plugin('short', 'sleep 8'),
      pipeline('handover', [{ name: 'wait', plugin: 'short' }]),
    ]);
    const running = await runningRun(WORK_NS, 'handover');
    const [leader] = await leaders(RELEASE_NS);
    await kubectl(['-n', RELEASE_NS, 'delete', 'pod', leader!, '--grace-period=0', '--force']);
    const next = await until(
      'another replica to lead',
      async () => {
        const now = await leaders(RELEASE_NS);
        return now.length > 0 && !now.includes(leader!) ? now : undefined;
      },
      90_000,
    );
    expect(next).to.not.include(leader);
    const run = await finished(WORK_NS, 'handover');
    expect([run.id, run.phase]).to.deep.equal([running, 'Succeeded']);
    await until(
      'the Deployment to replace the Pod',
      async () => {
        const pods = await controllerPods(RELEASE_NS);
        return pods.length === 2 && pods.every((p) => p.ready) ? pods : undefined;
      },
      120_000,
    );
  });

  it('upgrades: a CRD gains a field, the Deployment rolls, and a run in flight is not lost', async () => {
    // The next chart version: its FlexPipeline CRD has one more (optional) spec field.
    const next = join(valuesDir, 'chart-next');
    await cp(CHART, next, { recursive: true });
    const crdPath = join(next, 'templates/crd-flexpipelines.yaml');
    const crd = await readFile(crdPath, 'utf8');
    const marker = '              properties:\n                steps:';
    expect(crd).to.contain(marker);
    await writeFile(
      crdPath,
      crd.replace(
        marker,
        '              properties:\n                upgradeProbe:\n                  description: Added by the next chart version.\n                  type: string\n                steps:',
      ),
    );
    await writeFile(
      join(next, 'Chart.yaml'),
      (await readFile(join(next, 'Chart.yaml'), 'utf8')).replace('version: 0.1.0', 'version: 0.1.1'),
    );

    await apply(WORK_NS, [
      plugin('medium', 'sleep 20'),
      pipeline('upgrade', [{ name: 'wait', plugin: 'medium' }]),
    ]);
    const running = await runningRun(WORK_NS, 'upgrade');
    const before = (await controllerPods(RELEASE_NS)).map((p) => p.name);
    const values = await valuesFile('upgrade', baseValues({ podAnnotations: { 'example.com/rolled': '1' } }));
    await release('upgrade', RELEASE_NS, values, next);
    expect(await kubectl(['explain', 'flexpipelines.spec.upgradeProbe'])).to.contain(
      'Added by the next chart version',
    );
    const after = (await controllerPods(RELEASE_NS)).map((p) => p.name);
    expect(
      after.filter((n) => before.includes(n)),
      'every Pod replaced',
    ).to.deep.equal([]);
    const run = await finished(WORK_NS, 'upgrade');
    expect([run.id, run.phase]).to.deep.equal([running, 'Succeeded']);
    expect(run.steps?.[0]?.attempt, 'one attempt: the Pod was not restarted').to.equal(1);
  });

  it('proves RBAC: the ServiceAccount used every grant and was refused nothing (every namespace)', async () => {
    await sleep(2000); // the audit log is written as requests complete; leave the last ones time
    const rendered = await helm.run(['get', 'manifest', 'flexcore', '-n', RELEASE_NS]);
    const objects = parseAllDocuments(rendered)
      .map((d) => d.toJS() as Record<string, unknown>)
      .filter(Boolean);
    const grants = grantsOf(objects, { namespace: RELEASE_NS, name: 'flexcore' });
    const log = await readFile(plane.auditLogPath!, 'utf8');
    const records = auditRecords(log, `system:serviceaccount:${RELEASE_NS}:flexcore`);
    expect(records.length).to.be.greaterThan(50);
    const result = compareRbac(grants, records);
    expect(result.denied.map(grantKey), 'denied').to.deep.equal([]);
    expect(result.uncovered.map(grantKey), 'used without a grant').to.deep.equal([]);
    expect(result.unused.map(grantKey), 'granted, never used').to.deep.equal([]);
  });

  it('uninstalls, leaving the CRDs and the pipelines', async () => {
    await helm.run(['uninstall', 'flexcore', '-n', RELEASE_NS, '--wait', '--timeout', '3m']);
    await until(
      'the controller Pods to go',
      async () => ((await controllerPods(RELEASE_NS)).length === 0 ? true : undefined),
      120_000,
    );
    const crds = await kubectl(['get', 'crds', '-o', 'name']);
    expect(crds).to.contain('flexpipelines.flexcore.io').and.to.contain('flexplugins.flexcore.io');
    const left = await kubectl(['-n', WORK_NS, 'get', 'flexpipelines', '-o', 'name']);
    expect(left)
      .to.contain('flexpipeline.flexcore.io/hello')
      .and.to.contain('flexpipeline.flexcore.io/upgrade');
  });

  it('in the namespaced mode, watches two namespaces with Roles there, and RBAC is exact too', async () => {
    const values = await valuesFile(
      'team',
      baseValues({ watchNamespaces: [TEAM_NS, TEAM_NS_2], crds: { install: false }, replicaCount: 2 }),
    );
    await release('install', TEAM_RELEASE_NS, values, CHART);
    for (const ns of [TEAM_NS, TEAM_NS_2]) {
      const roles = await kubectl(['-n', ns, 'get', 'roles', '-o', 'name']);
      expect(roles, ns).to.contain('role.rbac.authorization.k8s.io/flexcore-controller');
    }
    const clusterRoles = await kubectl(['get', 'clusterroles', '-o', 'name']);
    expect(clusterRoles).to.contain(`clusterrole.rbac.authorization.k8s.io/${TEAM_RELEASE_NS}-flexcore-auth`);
    expect(clusterRoles).to.not.contain(`${TEAM_RELEASE_NS}-flexcore-controller`);
    await helm.run(['test', 'flexcore', '-n', TEAM_RELEASE_NS, '--timeout', '3m']);
    await userScenarios(TEAM_RELEASE_NS, TEAM_NS);
    await userScenarios(TEAM_RELEASE_NS, TEAM_NS_2);
    // Pipelines elsewhere are not this controller's: WORK_NS's stay untouched.
    const untouched = await pipelineJson(WORK_NS, 'hello');
    await requestRun(WORK_NS, 'hello');
    await sleep(5000);
    expect((await pipelineJson(WORK_NS, 'hello')).status?.lastRun?.id).to.equal(
      untouched.status?.lastRun?.id,
    );

    // Replicas replaced one by one, as in an upgrade: leaders hand their Leases over and release
    // them, and the old replicas' watches end, as the cluster-wide handover and upgrade did.
    await kubectl(['-n', TEAM_RELEASE_NS, 'rollout', 'restart', 'deployment/flexcore']);
    await kubectl(['-n', TEAM_RELEASE_NS, 'rollout', 'status', 'deployment/flexcore', '--timeout=180s']);
    await sleep(2000);
    const rendered = await helm.run(['get', 'manifest', 'flexcore', '-n', TEAM_RELEASE_NS]);
    const objects = parseAllDocuments(rendered)
      .map((d) => d.toJS() as Record<string, unknown>)
      .filter(Boolean);
    const grants = grantsOf(objects, { namespace: TEAM_RELEASE_NS, name: 'flexcore' });
    const log = await readFile(plane.auditLogPath!, 'utf8');
    const result = compareRbac(
      grants,
      auditRecords(log, `system:serviceaccount:${TEAM_RELEASE_NS}:flexcore`),
    );
    expect(result.denied.map(grantKey), 'denied').to.deep.equal([]);
    expect(result.uncovered.map(grantKey), 'used without a grant').to.deep.equal([]);
    expect(result.unused.map(grantKey), 'granted, never used').to.deep.equal([]);
  });
  it('evaluation mode: one replica keeps its event log in the embedded PostgreSQL on a claim, across restarts', async () => {
    // A bare cluster's storage: a hostPath volume pre-bound to the chart's claim.
    const dir = join(valuesDir, 'evaluation-state');
    await mkdir(dir, { recursive: true });
    await chown(dir, 65532, 65532);
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: 'flexcore-eval-state' },
        spec: {
          capacity: { storage: '2Gi' },
          accessModes: ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          storageClassName: 'e2e-hostpath',
          hostPath: { path: dir, type: 'Directory' },
          claimRef: { namespace: EVAL_RELEASE_NS, name: 'flexcore-state' },
        },
      }),
    );
    const values = await valuesFile('evaluation', {
      ...baseValues({}),
      image: { repository: 'localhost/flexcore/controller', tag: 'dev-evaluation', pullPolicy: 'Never' },
      database: { existingSecret: '' },
      redis: { existingSecret: '' },
      evaluation: { enabled: true, storage: { storageClassName: 'e2e-hostpath' } },
      watchNamespaces: [EVAL_NS],
      crds: { install: false },
    });
    await release('install', EVAL_RELEASE_NS, values, CHART);
    const pods = await controllerPods(EVAL_RELEASE_NS);
    expect(pods.map((p) => p.ready)).to.deep.equal([true]);
    await helm.run(['test', 'flexcore', '-n', EVAL_RELEASE_NS, '--timeout', '3m']);

    await apply(EVAL_NS, [
      plugin('hello', 'echo hello'),
      pipeline('hello', [{ name: 'say', plugin: 'hello' }]),
    ]);
    const first = await finished(EVAL_NS, 'hello');
    expect(first.phase).to.equal('Succeeded');
    // The cluster is on the claim, written by UID 65532.
    const pgVersion = await readFile(join(dir, 'postgres', 'data', 'PG_VERSION'), 'utf8');
    expect(pgVersion.trim()).to.match(/^\d+$/);

    // A new Pod (Recreate: the old one stops first) finds the history on the claim.
    await kubectl(['-n', EVAL_RELEASE_NS, 'delete', 'pod', pods[0]!.name, '--wait=true']);
    await until(
      'the replacement controller to be ready',
      async () => {
        const now = await controllerPods(EVAL_RELEASE_NS);
        return now.length === 1 && now[0]!.ready && now[0]!.name !== pods[0]!.name ? now : undefined;
      },
      180_000,
    );
    await requestRun(EVAL_NS, 'hello');
    const second = await finished(EVAL_NS, 'hello', first.id);
    expect(second.phase).to.equal('Succeeded');
    await apply(EVAL_NS, operator(EVAL_NS));
    const caller = await apiCaller(EVAL_RELEASE_NS, EVAL_NS, 'operator');
    const runs = await cli(['runs', 'hello', '-n', EVAL_NS], caller);
    expect(runs).to.contain(first.id!).and.to.contain(second.id!);
  });
});
