/**
 * The controller's own image (built from the Dockerfile) as Pods on the real node, hardened
 * like any restricted Pod: `validate` and `controller --help`, then the controller itself
 * in-cluster (service account token, the `kubernetes` Service through kube-proxy, PostgreSQL
 * from a Secret, leader election on) running a pipeline to Succeeded.
 */
import { expect } from 'chai';
import { CoreV1Api, type V1Container, type V1Pod } from '@kubernetes/client-node';
import { eventually } from './support/engine.js';
import { restrictedNamespace, type PlaneNamespace } from './support/plane.js';
import { ON_REAL_NODE, podReachablePostgres, realNodeOf, type PodReachablePostgres } from './support/real.js';
import { pipeline, plugin } from './support/manifests.js';

const IMAGE = 'localhost/flexcore/controller:dev';

const RESTRICTED = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

function pod(name: string, container: Partial<V1Container>, extra: Partial<V1Pod['spec']> = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: name } },
    spec: {
      restartPolicy: 'Never',
      ...ON_REAL_NODE,
      tolerations: [...ON_REAL_NODE.tolerations],
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'flexcore',
          image: IMAGE,
          imagePullPolicy: 'Never',
          securityContext: RESTRICTED,
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
          ...container,
        },
      ],
      volumes: [{ name: 'tmp', emptyDir: {} }, ...(extra.volumes ?? [])],
      ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'volumes')),
    },
  };
}

describe('real node: the controller image', function () {
  this.timeout(300_000);
  let env: PlaneNamespace;
  let source: PodReachablePostgres | undefined;

  before(async () => {
    env = await restrictedNamespace('real-image');
    await (await realNodeOf(env.plane)).ensureImages(['controller', 'python']);
  });
  after(async () => source?.server.stop());

  const kubectl = (args: string[], input?: string): Promise<string> =>
    env.plane.kubectl(['-n', env.ns, ...args], input);
  const finished = async (name: string): Promise<{ phase: string; exitCode?: number; log: string }> => {
    const core = env.plane.kubeConfig().makeApiClient(CoreV1Api);
    const p = await eventually(
      async () => {
        const got = await core.readNamespacedPod({ name, namespace: env.ns });
        return got.status?.phase === 'Succeeded' || got.status?.phase === 'Failed' ? got : undefined;
      },
      120_000,
      `pod ${name} to finish`,
    );
    const exitCode = p.status?.containerStatuses?.[0]?.state?.terminated?.exitCode;
    const log = await kubectl(['logs', name]);
    return { phase: p.status!.phase!, ...(exitCode !== undefined && { exitCode }), log };
  };

  it('validates manifests and prints the controller’s help, as UID 65532 on a read-only root', async () => {
    const good = `${JSON.stringify(plugin('tap-x', { type: 'tap', command: ['tap-x'] }))}\n`;
    const bad = `${JSON.stringify(pipeline('broken', { steps: [{ name: 'Bad_Name', plugin: 'x' }] }))}\n`;
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'manifests' },
        data: { 'good.json': good, 'bad.json': bad },
      }),
    );
    const mount = {
      volumeMounts: [
        { name: 'tmp', mountPath: '/tmp' },
        { name: 'manifests', mountPath: '/manifests', readOnly: true },
      ],
    };
    const volumes = { volumes: [{ name: 'manifests', configMap: { name: 'manifests' } }] };
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify(pod('validate-good', { args: ['validate', '/manifests/good.json'], ...mount }, volumes)),
    );
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify(pod('validate-bad', { args: ['validate', '/manifests/bad.json'], ...mount }, volumes)),
    );
    await kubectl(['apply', '-f', '-'], JSON.stringify(pod('help', { args: ['controller', '--help'] })));

    const ok = await finished('validate-good');
    expect([ok.phase, ok.exitCode], ok.log).to.deep.equal(['Succeeded', 0]);
    const refused = await finished('validate-bad');
    expect(refused.phase).to.equal('Failed');
    expect(refused.exitCode).to.not.equal(0);
    expect(refused.log).to.match(/steps\[0\]\.name/);
    const help = await finished('help');
    expect([help.phase, help.exitCode]).to.deep.equal(['Succeeded', 0]);
    expect(help.log).to.contain('usage: flexcore controller');
  });

  it('runs the controller in-cluster: it reaches the apiserver through kube-proxy and runs a pipeline', async () => {
    source = await podReachablePostgres();
    const dbUrl = new URL(await source.server.createDatabase('flexcore'));
    dbUrl.hostname = source.podHost;
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'flexcore' } },
          {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: 'flexcore-db' },
            stringData: { url: dbUrl.toString() },
          },
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'Role',
            metadata: { name: 'flexcore' },
            // Broad within this namespace only; the least-privilege set is the Helm chart's job.
            rules: [
              {
                apiGroups: ['', 'flexcore.io', 'coordination.k8s.io', 'networking.k8s.io', 'events.k8s.io'],
                resources: ['*'],
                verbs: ['*'],
              },
            ],
          },
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'RoleBinding',
            metadata: { name: 'flexcore' },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'flexcore' },
            subjects: [{ kind: 'ServiceAccount', name: 'flexcore', namespace: env.ns }],
          },
        ],
      }),
    );
    const controller = pod(
      'controller',
      {
        args: ['controller'],
        env: [
          { name: 'WATCH_NAMESPACE', value: env.ns },
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'flexcore-db', key: 'url' } } },
          { name: 'LOG_FORMAT', value: 'json' },
        ],
        readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 1 },
      },
      { serviceAccountName: 'flexcore', restartPolicy: 'Always' },
    );
    await kubectl(['apply', '-f', '-'], JSON.stringify(controller));
    await kubectl(
      ['apply', '-f', '-'],
      [
        plugin('hello', {
          type: 'utility',
          image: 'localhost/python:3.11-slim-bookworm',
          imagePullPolicy: 'Never',
          command: ['sh', '-c', 'echo hello from the real node'],
          defaults: { ...ON_REAL_NODE },
        }),
        pipeline('hello', { steps: [{ name: 'say', plugin: 'hello' }] }),
      ]
        .map((o) => JSON.stringify(o))
        .join('\n'),
    );
    const phase = await eventually(
      async () => {
        const p = JSON.parse(await kubectl(['get', 'flexpipeline', 'hello', '-o', 'json'])) as {
          status?: { lastRun?: { phase?: string } };
        };
        return p.status?.lastRun?.phase;
      },
      180_000,
      'the in-cluster controller to run the pipeline',
    ).catch(async (err: unknown) => {
      throw new Error(
        `${String(err)}\ncontroller log:\n${await kubectl(['logs', 'controller', '--tail=40']).catch(String)}`,
      );
    });
    expect(phase).to.equal('Succeeded');
    const lease = await kubectl(['get', 'lease', '-o', 'jsonpath={.items[*].spec.holderIdentity}']);
    expect(lease).to.contain('controller');
  });
});
