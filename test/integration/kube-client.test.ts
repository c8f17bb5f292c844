/**
 * The controller's HTTP client against the real apiserver: a DELETE's body (preconditions,
 * propagation) is honoured, and the keep-alive connection it used stays good for the next request;
 * the controller's own kubeconfig reading, and the client-node path for credential plugins.
 */
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { KubeClient } from '../../controller/apply/kube-client.js';
import { loadClusterAccess } from '../../controller/kube/load-cluster-access.js';
import { createRestrictedNamespace } from '../../hack/plane/setup.js';
import { sharedPlane, uniqueName } from './support/plane.js';

describe('KubeClient on the real apiserver', function () {
  this.timeout(120_000);

  it('sends a DELETE body the apiserver reads: a wrong uid precondition is refused, the next request works', async () => {
    const plane = await sharedPlane();
    const ns = uniqueName('kube-client');
    await createRestrictedNamespace(plane, ns);
    const registry = new Registry();
    // One socket, so the request after the DELETE reuses its connection.
    const kube = new KubeClient(plane.kubeConfig(), { qps: 0, registry });
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    const made = await kube.create<V1ConfigMap>(path, { metadata: { name: 'kept' }, data: { a: '1' } });

    const refused = await kube.delete(`${path}/kept`, { preconditions: { uid: 'not-its-uid' } }).then(
      () => undefined,
      (err: Error & { code?: number }) => err,
    );
    expect(refused?.code, refused?.message).to.equal(409);
    for (let i = 0; i < 5; i++) {
      const again = await kube.get<V1ConfigMap>(`${path}/kept`);
      expect(again.metadata?.uid).to.equal(made.metadata?.uid);
    }

    await kube.delete(`${path}/kept`, { preconditions: { uid: made.metadata?.uid } });
    const gone = await kube.get(`${path}/kept`).then(
      () => undefined,
      (err: Error & { code?: number }) => err,
    );
    expect(gone?.code).to.equal(404);
    const metrics = await registry.getMetricsAsJSON();
    const kinds = metrics.find((m) => m.name === 'flexcore_kube_api_requests_total')!.values;
    expect(kinds.map((v) => [v.labels.verb, v.labels.resource, v.labels.code, v.value])).to.have.deep.members(
      [
        ['create', 'configmaps', '201', 1],
        ['delete', 'configmaps', '409', 1],
        ['get', 'configmaps', '200', 5],
        ['delete', 'configmaps', '200', 1],
        ['get', 'configmaps', '404', 1],
      ],
    );
  });

  it('reaches the apiserver with the kubeconfig read without client-node', async () => {
    const plane = await sharedPlane();
    const access = await loadClusterAccess({ KUBECONFIG: plane.kubeconfigPath });
    expect(access.constructor.name).to.equal('Object'); // ours, not client-node's KubeConfig
    const kube = new KubeClient(access, { qps: 0 });
    const ns = await kube.get<{ metadata: { name: string } }>('/api/v1/namespaces/default');
    expect(ns.metadata.name).to.equal('default');
  });

  it('runs an exec credential plugin through client-node', async () => {
    const plane = await sharedPlane();
    // The plane's client certificate handed over by an exec plugin instead of the kubeconfig.
    const config = parse(await readFile(plane.kubeconfigPath, 'utf8')) as {
      users: { user: Record<string, string> }[];
    };
    const user = config.users[0]!.user;
    const credential = JSON.stringify({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: {
        clientCertificateData: Buffer.from(user['client-certificate-data']!, 'base64').toString(),
        clientKeyData: Buffer.from(user['client-key-data']!, 'base64').toString(),
      },
    });
    const answer = await plane.writeFile('exec-credential.json', credential);
    config.users[0]!.user = {
      exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'cat', args: [answer] },
    } as never;
    const path = await plane.writeFile('exec.kubeconfig', stringify(config));
    const access = await loadClusterAccess({ KUBECONFIG: path });
    expect(access.constructor.name).to.equal('KubeConfig');
    const kube = new KubeClient(access, { qps: 0 });
    const ns = await kube.get<{ metadata: { name: string } }>('/api/v1/namespaces/default');
    expect(ns.metadata.name).to.equal('default');
  });
});
