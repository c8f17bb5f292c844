/**
 * The engine watching two namespaces (WATCH_NAMESPACE=a,b) as the Helm chart's
 * `watchNamespaces` runs it: a ServiceAccount with a Role in each namespace and no cluster-wide
 * permission. Pipelines in both run; one in a third namespace is never touched.
 */
import { expect } from 'chai';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { FlexPipelineStatus } from '../../api/v1alpha1/index.js';
import { NamespacedInformers } from '../../controller/kube/namespaced-informers.js';
import { Manager } from '../../controller/manager.js';
import type { ControlPlane } from '../../hack/plane/control-plane.js';
import { createRestrictedNamespace } from '../../hack/plane/setup.js';
import { eventually } from './support/engine.js';
import { fake, pipeline, plugin } from './support/manifests.js';
import { sharedPlane, uniqueName } from './support/plane.js';
import { freshStore, type TestStore } from './support/store.js';

type WithStatus = { status?: FlexPipelineStatus };

/** What the controller needs in a namespace it watches: charts/flexcore's `flexcore.rbac.watchedRules`. */
const RULES = [
  {
    apiGroups: ['flexcore.io'],
    resources: ['flexpipelines'],
    verbs: ['list', 'watch', 'create', 'patch', 'delete'],
  },
  { apiGroups: ['flexcore.io'], resources: ['flexplugins'], verbs: ['list', 'watch'] },
  {
    apiGroups: ['flexcore.io'],
    resources: ['flexpipelines/status', 'flexplugins/status'],
    verbs: ['patch'],
  },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create', 'delete'] },
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
  {
    apiGroups: ['networking.k8s.io'],
    resources: ['networkpolicies'],
    verbs: ['list', 'create', 'patch', 'delete'],
  },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
];

/** A ServiceAccount in `home` with a Role in each of `namespaces`, and a kubeconfig with its token. */
async function namespacedIdentity(
  plane: ControlPlane,
  home: string,
  namespaces: string[],
): Promise<KubeConfig> {
  const docs: object[] = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'flexcore', namespace: home } },
  ];
  for (const namespace of namespaces) {
    const metadata = { name: 'flexcore', namespace };
    docs.push(
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata, rules: RULES },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata,
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'flexcore' },
        subjects: [{ kind: 'ServiceAccount', name: 'flexcore', namespace: home }],
      },
    );
  }
  await plane.kubectl(['apply', '-f', '-'], docs.map((d) => stringify(d)).join('---\n'));
  const token = (await plane.kubectl(['create', 'token', 'flexcore', '-n', home, '--duration', '1h'])).trim();
  const cluster = plane.kubeConfig().getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'flexcore', token }],
    contexts: [{ name: 'flexcore', cluster: cluster.name, user: 'flexcore' }],
    currentContext: 'flexcore',
  });
  return kc;
}

describe('engine: watching several namespaces', function () {
  this.timeout(180_000);
  let plane: ControlPlane;
  let db: TestStore;
  let manager: Manager | undefined;
  let kc: KubeConfig;
  const [a, b, c] = [uniqueName('ns-a'), uniqueName('ns-b'), uniqueName('ns-c')];

  before(async () => {
    plane = await sharedPlane();
    for (const ns of [a, b, c]) await createRestrictedNamespace(plane, ns);
    kc = await namespacedIdentity(plane, a, [a, b]);
    db = await freshStore(10);
  });
  after(async () => {
    await manager?.stop();
    await db?.close();
  });

  const apply = (ns: string, ...objects: unknown[]): Promise<string> =>
    plane.kubectl(['apply', '-n', ns, '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
  const status = async (ns: string, name: string): Promise<FlexPipelineStatus | undefined> =>
    (JSON.parse(await plane.kubectl(['get', '-n', ns, 'flexpipeline', name, '-o', 'json'])) as WithStatus)
      .status;

  it('cannot list cluster-wide with Roles in a and b only', async () => {
    const api = kc.makeApiClient(CustomObjectsApi);
    const list = (namespace?: string): Promise<number> =>
      (namespace
        ? api.listNamespacedCustomObject({
            group: 'flexcore.io',
            version: 'v1alpha1',
            namespace,
            plural: 'flexpipelines',
          })
        : api.listClusterCustomObject({ group: 'flexcore.io', version: 'v1alpha1', plural: 'flexpipelines' })
      ).then(
        () => 200,
        (e: unknown) => (e as { code?: number }).code ?? 0,
      );
    // Right after the CRDs are installed their storage may answer 429 for a moment.
    const settled = (namespace?: string): Promise<number> =>
      eventually(async () => {
        const code = await list(namespace);
        return code !== 429 && code;
      });
    expect(await settled()).to.equal(403);
    expect(await settled(c)).to.equal(403);
    expect(await settled(b)).to.equal(200);
  });

  it('runs pipelines in a and b, and leaves the one in c alone', async () => {
    for (const ns of [a, b, c])
      await apply(
        ns,
        plugin('work'),
        pipeline('job', { steps: [{ name: 'only', plugin: 'work', podMetadata: fake(0, '1s') }] }),
      );
    manager = await Manager.start({ kubeConfig: kc, pool: db.pool, namespaces: [a, b, a], workers: 4 });
    expect(manager.pipelines).to.be.instanceOf(NamespacedInformers);
    expect(manager.readiness().checks.informers).to.equal(true);
    for (const ns of [a, b])
      await eventually(async () => (await status(ns, 'job'))?.phase === 'Succeeded', 60_000, `job in ${ns}`);
    expect(manager.pipelines.list().map((p) => p.metadata.namespace)).to.have.members([a, b]);
    expect(manager.pipelines.get(`${c}/job`)).to.equal(undefined);
    // A reconcile of c's pipeline would have written its status long before a and b finished:
    // it is still the CRD's default.
    expect(await status(c, 'job')).to.deep.equal({ observedGeneration: -1 });
    const podsInC = await plane.kubectl(['get', 'pods', '-n', c, '-o', 'name']);
    expect(podsInC.trim()).to.equal('');
    const metrics = await manager.registry.metrics();
    for (const resource of ['flexpipelines.flexcore.io', 'flexplugins.flexcore.io', 'pods'])
      expect(metrics, resource).to.include(`flexcore_informer_synced{resource="${resource}"} 1`);
  });
});
