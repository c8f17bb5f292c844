/**
 * The controller's HTTP client against the real apiserver: a DELETE's body (preconditions,
 * propagation) is honoured, and the keep-alive connection it used stays good for the next request.
 */
import { expect } from 'chai';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { KubeClient } from '../../controller/apply/kube-client.js';
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
});
