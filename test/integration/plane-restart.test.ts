import { expect } from 'chai';
import type { CoreV1Api } from '@kubernetes/client-node';
import { KWOK_ANNOTATIONS, type ControlPlane } from '../../hack/plane/control-plane.js';
import { rejection } from './support/async.js';
import { restrictedNamespace } from './support/plane.js';
import { finished, restrictedPod, waitForPod } from './support/pods.js';

describe('ControlPlane.restart (fault injection)', function () {
  this.timeout(180_000);
  let plane: ControlPlane;
  let core: CoreV1Api;
  let ns: string;

  before(async () => {
    ({ plane, core, ns } = await restrictedNamespace('restart'));
  });

  it('restarts kube-apiserver: down while stopped, then serving what was stored before', async () => {
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'before' }, data: { written: 'before the restart' } },
    });
    const old = plane.component('kube-apiserver')!;
    const restarting = plane.restart('kube-apiserver', { downMs: 1000 });
    await old.waitForExit();
    const down = await rejection(core.readNamespacedConfigMap({ name: 'before', namespace: ns }));
    expect(String(down)).to.include('ECONNREFUSED');

    const next = await restarting;
    expect(next.pid).to.be.a('number').and.not.equal(old.pid);
    expect(plane.component('kube-apiserver')).to.equal(next);
    const cm = await core.readNamespacedConfigMap({ name: 'before', namespace: ns });
    expect(cm.data).to.deep.equal({ written: 'before the restart' });
    // The rest of the plane reconnects: a new Pod is scheduled and kwok completes it. kube-scheduler
    // and kwok re-watch with client-go's reflector backoff (0.8 s doubling to 30 s, jittered up to
    // twice that, reset only after 2 quiet minutes), so apiserver restarts earlier in the suite
    // can make this one take up to a minute.
    await core.createNamespacedPod({ namespace: ns, body: restrictedPod('after-api-restart') });
    const pod = await waitForPod(core, ns, 'after-api-restart', finished, 100_000);
    expect(pod.status?.phase).to.equal('Succeeded');
    expect(await plane.readLog('kube-apiserver')).to.include('--- restarted by the harness at ');
  });

  it('kills kwok and starts it again: Pods running across it or made meanwhile complete, logs stay', async () => {
    await core.createNamespacedPod({
      namespace: ns,
      body: restrictedPod('across', { annotations: { [KWOK_ANNOTATIONS.duration]: '2s' } }),
    });
    await waitForPod(core, ns, 'across', (p) => p.status?.phase === 'Running');
    await plane.setPodLogs(ns, 'across', 'main', 'logged before kwok restarted\n');
    const old = plane.component('kwok')!;
    const restarting = plane.restart('kwok', { kill: true, downMs: 1000 });
    expect(await old.waitForExit()).to.equal(128); // killed by a signal
    await core.createNamespacedPod({ namespace: ns, body: restrictedPod('meanwhile') });
    // Nobody plays the kubelet while kwok is down.
    await new Promise((r) => setTimeout(r, 500));
    const waiting = await core.readNamespacedPod({ name: 'meanwhile', namespace: ns });
    expect(waiting.status?.phase).to.equal('Pending');

    const next = await restarting;
    expect(next.pid).to.not.equal(old.pid);
    expect(plane.component('kwok')).to.equal(next);
    for (const name of ['across', 'meanwhile']) {
      const pod = await waitForPod(core, ns, name, finished);
      expect(pod.status?.phase, name).to.equal('Succeeded');
    }
    const log = await core.readNamespacedPodLog({ name: 'across', namespace: ns, container: 'main' });
    expect(log).to.equal('logged before kwok restarted\n');
  });

  it('refuses a component it does not run, naming those it does', async () => {
    const err = await rejection(plane.restart('kubelet'));
    expect(err.message).to.equal(
      'no component named kubelet; there are etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok',
    );
  });
});
