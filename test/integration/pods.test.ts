import { expect } from 'chai';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { FAKE_NODE, KWOK_ANNOTATIONS } from '../../hack/plane/control-plane.js';
import { restrictedNamespace } from './support/plane.js';
import { finished, restrictedPod, waitForPod } from './support/pods.js';

describe('Pods on the local plane (Pod Security + kwok)', function () {
  this.timeout(120_000);
  let core: CoreV1Api;
  let ns: string;

  before(async () => {
    ({ core, ns } = await restrictedNamespace('pods'));
  });

  it('rejects a Pod without a security context in a restricted namespace', async () => {
    const pod: V1Pod = {
      metadata: { name: 'bare' },
      spec: { containers: [{ name: 'main', image: 'example.com/x:1' }] },
    };
    const err = await core.createNamespacedPod({ namespace: ns, body: pod }).then(
      () => undefined,
      (e: unknown) => e as { code?: number; body?: string },
    );
    expect(err, 'the apiserver admitted a bare Pod').to.not.equal(undefined);
    expect(err?.code).to.equal(403);
    const status = JSON.parse(String(err?.body)) as { reason: string; message: string };
    expect(status.reason).to.equal('Forbidden');
    expect(status.message).to.include('violates PodSecurity "restricted:latest"');
    expect(status.message).to.include('runAsNonRoot');
  });

  it('admits a sandboxed Pod, which kwok runs and completes with exit code 0', async () => {
    await core.createNamespacedPod({ namespace: ns, body: restrictedPod('ok') });
    const pod = await waitForPod(core, ns, 'ok', finished);
    expect(pod.spec?.nodeName).to.equal(FAKE_NODE);
    expect(pod.status?.phase).to.equal('Succeeded');
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).to.equal(0);
  });

  it('ends Failed with the exit code the annotation asks for, after the asked duration', async () => {
    const t0 = Date.now();
    await core.createNamespacedPod({
      namespace: ns,
      body: restrictedPod('fails', {
        annotations: { [KWOK_ANNOTATIONS.exitCode]: '3', [KWOK_ANNOTATIONS.duration]: '2s' },
      }),
    });
    const running = await core.readNamespacedPod({ name: 'fails', namespace: ns });
    expect(running.status?.phase ?? 'Pending').to.be.oneOf(['Pending', 'Running']);
    const pod = await waitForPod(core, ns, 'fails', finished);
    expect(pod.status?.phase).to.equal('Failed');
    const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
    expect(terminated?.exitCode).to.equal(3);
    expect(terminated?.reason).to.equal('Error');
    // The 2 s run shows in the container's own timestamps (set by kwok), not in a wall-clock assertion.
    const ranMs = Date.parse(String(terminated?.finishedAt)) - Date.parse(String(terminated?.startedAt));
    expect(ranMs).to.be.at.least(1000);
    expect(Date.now() - t0).to.be.at.least(1900);
  });

  it('treats exit-code "0" as success', async () => {
    await core.createNamespacedPod({
      namespace: ns,
      body: restrictedPod('zero', { annotations: { [KWOK_ANNOTATIONS.exitCode]: '0' } }),
    });
    const pod = await waitForPod(core, ns, 'zero', finished);
    expect(pod.status?.phase).to.equal('Succeeded');
  });

  it('deletes Pods (kwok plays the kubelet for deletion too)', async () => {
    await core.deleteNamespacedPod({ name: 'zero', namespace: ns });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const gone = await core.readNamespacedPod({ name: 'zero', namespace: ns }).then(
        () => false,
        (e: { code?: number }) => e.code === 404,
      );
      if (gone) break;
      if (Date.now() > deadline) throw new Error('pod was not deleted');
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});
