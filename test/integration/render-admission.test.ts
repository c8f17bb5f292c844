import { expect } from 'chai';
import { CoreV1Api, CustomObjectsApi, NetworkingV1Api, type V1Pod } from '@kubernetes/client-node';
import type { FlexPipeline, FlexPlugin, Step } from '../../api/v1alpha1/index.js';
import { createRestrictedNamespace } from '../../hack/plane/setup.js';
import type { ControlPlane } from '../../hack/plane/control-plane.js';
import type { AttemptInput } from '../../controller/pipeline/render/attempt-input.js';
import { renderAttemptConfig } from '../../controller/pipeline/render/config.js';
import { INLINE_CONFIG_ANNOTATION } from '../../controller/pipeline/render/config-carrier.js';
import { renderNetworkPolicies } from '../../controller/pipeline/render/network-policy.js';
import { renderPod } from '../../controller/pipeline/render/pod.js';
import { rejection } from './support/async.js';
import { sharedPlane, uniqueName } from './support/plane.js';

const GROUP = { group: 'flexcore.io', version: 'v1alpha1' };

/** Cluster objects a placed step names: the apiserver refuses a Pod naming ones that do not exist. */
const PLACEMENT = { priorityClass: 'flexcore-test-batch', runtimeClass: 'flexcore-test-gvisor' };

const PLUGINS: Record<string, Record<string, unknown>> = {
  'tap-db': {
    type: 'tap',
    image: 'example.com/tap-db:1',
    command: ['tap-db'],
    settings: [
      { name: 'host', required: true },
      { name: 'port', kind: 'integer', default: 5432 },
      { name: 'password', secret: true, required: true },
    ],
    sandbox: { egress: [{ cidr: '10.0.0.0/8', ports: [{ port: 5432 }] }] },
  },
  'target-files': {
    type: 'target',
    image: 'example.com/target-files:1',
    command: ['target-files'],
    sandbox: { writablePaths: ['/data', '/var/cache/target'], runAsUser: 1000 },
  },
  script: { type: 'utility', image: 'example.com/script:1', command: ['run'], args: ['--all'] },
  'heavy-job': {
    type: 'transformer',
    image: 'example.com/heavy:1',
    imagePullPolicy: 'IfNotPresent',
    defaults: { resources: { requests: { cpu: '500m' } }, timeoutSeconds: 120 },
    sandbox: { writablePaths: ['/work'], egress: [{ cidr: '192.0.2.0/24' }], allowDNS: false },
  },
  'placed-job': {
    type: 'utility',
    image: 'registry.example.com/placed:1',
    command: ['run'],
    defaults: {
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [
        { key: 'dedicated', operator: 'Equal', value: 'etl', effect: 'NoExecute', tolerationSeconds: 60 },
      ],
      imagePullSecrets: [{ name: 'registry' }],
      priorityClassName: PLACEMENT.priorityClass,
      runtimeClassName: PLACEMENT.runtimeClass,
      serviceAccountName: 'job-runner',
      automountServiceAccountToken: true,
    },
  },
};

const STEPS = [
  {
    name: 'plain',
    plugin: 'script',
    podMetadata: { annotations: { 'kwok.flexcore.io/exit-code': '3' }, labels: { team: 'data' } },
  },
  {
    name: 'pair',
    plugin: 'tap-db',
    config: { host: 'db.internal' },
    configFrom: [{ setting: 'password', secretKeyRef: { name: 'db', key: 'password' } }],
    target: { plugin: 'target-files' },
    podMetadata: { annotations: { 'kwok.flexcore.io/duration': '1s' } },
  },
  { name: 'writable', plugin: 'target-files' },
  {
    name: 'placed',
    plugin: 'placed-job',
    imagePullPolicy: 'Never',
    affinity: {
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 10,
            preference: { matchExpressions: [{ key: 'type', operator: 'In', values: ['kwok'] }] },
          },
        ],
      },
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          {
            labelSelector: { matchLabels: { 'flexcore.io/step': 'placed' } },
            topologyKey: 'kubernetes.io/hostname',
          },
        ],
      },
    },
  },
  {
    name: 'resources',
    plugin: 'heavy-job',
    resources: { requests: { memory: '3Gi' }, limits: { cpu: '4', 'ephemeral-storage': '10Gi' } },
  },
];

/**
 * Polls until `probe` gives a value. A failed probe counts as "not yet" (a busy apiserver may
 * drop a connection); the last error is reported if the deadline passes.
 */
async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const value = await probe().catch((err: unknown) => {
      lastError = err;
      return undefined;
    });
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`, { cause: lastError });
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

describe('rendered Pods, Secrets and NetworkPolicies on a real apiserver (Pod Security restricted)', function () {
  this.timeout(120_000);
  let plane: ControlPlane;
  let core: CoreV1Api;
  let net: NetworkingV1Api;
  let custom: CustomObjectsApi;
  let ns: string;
  let pipeline: FlexPipeline;
  const plugins = new Map<string, FlexPlugin>();
  const secrets = new Map<string, Record<string, string>>();

  function input(stepName: string): AttemptInput {
    const step = pipeline.spec.steps.find((s) => s.name === stepName) as Step;
    const name = `${pipeline.metadata.name}-g1-${stepName}-1`;
    return {
      pipeline,
      step,
      plugin: plugins.get(step.plugin) as FlexPlugin,
      ...(step.target ? { targetPlugin: plugins.get(step.target.plugin) } : {}),
      runId: 'g1-test',
      runKey: 'g1',
      attempt: 1,
      podName: name,
      secretName: name,
      secrets,
    };
  }

  before(async () => {
    plane = await sharedPlane();
    const kc = plane.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    net = kc.makeApiClient(NetworkingV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
    ns = uniqueName('render');
    await createRestrictedNamespace(plane, ns);
    await plane.kubectl(
      ['apply', '-f', '-'],
      [
        `apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: { name: ${PLACEMENT.priorityClass} }\nvalue: 100`,
        `apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: { name: ${PLACEMENT.runtimeClass} }\nhandler: runsc`,
        `apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: job-runner, namespace: ${ns} }`,
      ].join('\n---\n'),
    );
    // Objects as the apiserver returns them, with the CRD defaults applied: what the controller reads.
    for (const [name, spec] of Object.entries(PLUGINS)) {
      const body = { apiVersion: 'flexcore.io/v1alpha1', kind: 'FlexPlugin', metadata: { name }, spec };
      const created = (await custom.createNamespacedCustomObject({
        ...GROUP,
        namespace: ns,
        plural: 'flexplugins',
        body,
      })) as FlexPlugin;
      plugins.set(name, created);
    }
    const dbSecret = await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'db' }, stringData: { password: 'only-for-this-test' } },
    });
    secrets.set(
      'db',
      Object.fromEntries(
        Object.entries(dbSecret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
      ),
    );
    pipeline = (await custom.createNamespacedCustomObject({
      ...GROUP,
      namespace: ns,
      plural: 'flexpipelines',
      body: {
        apiVersion: 'flexcore.io/v1alpha1',
        kind: 'FlexPipeline',
        metadata: { name: 'orders' },
        spec: { steps: STEPS },
      },
    })) as FlexPipeline;
  });

  for (const step of STEPS.map((s) => s.name)) {
    it(`admits the config Secret and the Pod of the "${step}" step`, async () => {
      const config = renderAttemptConfig(input(step));
      if (!('secret' in config)) throw new Error(JSON.stringify(config));
      const secret = await core.createNamespacedSecret({ namespace: ns, body: config.secret });
      expect(secret.immutable).to.equal(true);
      expect(secret.metadata?.ownerReferences?.[0]?.uid).to.equal(pipeline.metadata.uid);
      const pod = await core.createNamespacedPod({ namespace: ns, body: renderPod(input(step)) });
      expect(pod.metadata?.uid).to.be.a('string');
      expect(pod.spec?.containers.length).to.equal(step === 'pair' ? 2 : 1);
    });
  }

  it('admits a Pod whose config goes inline (a downward-API volume), with the file in its annotation', async () => {
    const inline = { ...input('plain'), podName: 'orders-g1-inline-1', inlineConfig: true };
    const config = renderAttemptConfig(inline);
    if (!('inline' in config)) throw new Error(JSON.stringify(config));
    const pod = await core.createNamespacedPod({ namespace: ns, body: renderPod(inline) });
    expect(pod.metadata?.annotations?.[INLINE_CONFIG_ANNOTATION]).to.equal(config.inline);
    expect(pod.spec?.volumes?.find((v) => v.name === 'config')?.downwardAPI?.items?.[0]?.path).to.equal(
      'config.json',
    );
  });

  it('sets the requested resources, raising the limit where a request exceeds it', async () => {
    const pod = await core.readNamespacedPod({ name: 'orders-g1-resources-1', namespace: ns });
    expect(pod.spec?.containers[0]?.resources).to.deep.equal({
      requests: { cpu: '500m', memory: '3Gi', 'ephemeral-storage': '256Mi' },
      limits: { cpu: '4', memory: '3Gi', 'ephemeral-storage': '10Gi' },
    });
    expect(pod.spec?.activeDeadlineSeconds).to.equal(120);
    expect(pod.spec?.containers[0]?.imagePullPolicy).to.equal('IfNotPresent');
  });

  it('keeps the placement through admission, still restricted, with the token only where opted in', async () => {
    const placed = await core.readNamespacedPod({ name: 'orders-g1-placed-1', namespace: ns });
    expect(placed.spec).to.deep.include({
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      priorityClassName: PLACEMENT.priorityClass,
      priority: 100,
      runtimeClassName: PLACEMENT.runtimeClass,
      serviceAccountName: 'job-runner',
      automountServiceAccountToken: true,
      imagePullSecrets: [{ name: 'registry' }],
    });
    expect(placed.spec?.tolerations).to.deep.include({
      key: 'dedicated',
      operator: 'Equal',
      value: 'etl',
      effect: 'NoExecute',
      tolerationSeconds: 60,
    });
    expect(
      placed.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0]
        ?.topologyKey,
    ).to.equal('kubernetes.io/hostname');
    expect(placed.spec?.containers[0]?.imagePullPolicy).to.equal('Never');
    // The ServiceAccount admission plugin mounted the token: only this step asked for it.
    const tokenMounted = (pod: V1Pod): boolean =>
      (pod.spec?.volumes ?? []).some((v) => v.projected?.sources?.some((src) => src.serviceAccountToken));
    expect(tokenMounted(placed), 'token on the opted-in step').to.equal(true);
    const plain = await core.readNamespacedPod({ name: 'orders-g1-plain-1', namespace: ns });
    expect(tokenMounted(plain), 'no token elsewhere').to.equal(false);
    expect(plain.spec?.serviceAccountName).to.equal('default');
  });

  it('runs the Pods on the fake node; annotations from podMetadata reach kwok', async () => {
    const finished = (name: string) => async (): Promise<V1Pod | undefined> => {
      const pod = await core.readNamespacedPod({ name, namespace: ns });
      return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' ? pod : undefined;
    };
    const plain = await waitFor('the plain Pod to finish', finished('orders-g1-plain-1'));
    expect(plain.status?.phase).to.equal('Failed');
    expect(plain.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).to.equal(3);
    expect(plain.metadata?.labels?.team).to.equal('data');
    const pair = await waitFor('the pair Pod to finish', finished('orders-g1-pair-1'));
    expect(pair.status?.phase).to.equal('Succeeded');
    expect(pair.status?.containerStatuses?.map((c) => c.name).sort()).to.deep.equal(['tap', 'target']);
  });

  it('keeps the config Secret immutable', async () => {
    const name = 'orders-g1-pair-1';
    const secret = await core.readNamespacedSecret({ name, namespace: ns });
    const err = await rejection(
      core.replaceNamespacedSecret({
        name,
        namespace: ns,
        body: { ...secret, data: { ...secret.data, 'config.json': Buffer.from('{}').toString('base64') } },
      }),
    );
    expect((err as Error & { code?: number }).code).to.equal(422);
    expect(String((err as Error & { body?: unknown }).body)).to.include('immutable');
    const config = JSON.parse(
      Buffer.from(secret.data?.['config.json'] ?? '', 'base64').toString('utf8'),
    ) as unknown;
    expect(config).to.deep.equal({ port: 5432, host: 'db.internal', password: 'only-for-this-test' });
  });

  it('admits the NetworkPolicies', async () => {
    for (const body of renderNetworkPolicies(pipeline, plugins)) {
      await net.createNamespacedNetworkPolicy({ namespace: ns, body });
    }
    const list = await net.listNamespacedNetworkPolicy({ namespace: ns });
    const byName = Object.fromEntries(list.items.map((p) => [p.metadata?.name ?? '', p.spec]));
    expect(Object.keys(byName).sort()).to.deep.equal([
      'orders.deny-all',
      'orders.pair.egress',
      'orders.resources.egress',
    ]);
    expect(byName['orders.deny-all']?.policyTypes).to.deep.equal(['Ingress', 'Egress']);
    expect(byName['orders.deny-all']?.egress ?? []).to.deep.equal([]);
    expect(byName['orders.resources.egress']?.egress).to.deep.equal([
      { to: [{ ipBlock: { cidr: '192.0.2.0/24' } }] },
    ]);
    expect(byName['orders.pair.egress']?.egress?.at(-1)?.ports?.map((p) => p.port)).to.deep.equal([53, 53]);
  });

  // Slow on a fresh plane: the garbage collector picks up a new CRD on its 30 s discovery resync.
  it('leaves everything to the garbage collector once the pipeline is deleted', async () => {
    await custom.deleteNamespacedCustomObject({
      ...GROUP,
      namespace: ns,
      plural: 'flexpipelines',
      name: 'orders',
    });
    await waitFor(
      'the owned objects to be collected',
      async () => {
        const [pods, owned, policies] = await Promise.all([
          core.listNamespacedPod({ namespace: ns }),
          core.listNamespacedSecret({
            namespace: ns,
            labelSelector: 'app.kubernetes.io/managed-by=flexcore',
          }),
          net.listNamespacedNetworkPolicy({ namespace: ns }),
        ]);
        return pods.items.length + owned.items.length + policies.items.length === 0 ? true : undefined;
      },
      100_000,
      1000,
    );
    // The user's own Secret is not the pipeline's.
    expect((await core.readNamespacedSecret({ name: 'db', namespace: ns })).metadata?.name).to.equal('db');
  });
});
