import { expect } from 'chai';
import type { CoreV1Api } from '@kubernetes/client-node';
import { FAKE_NODE, KWOK_ANNOTATIONS, type ControlPlane } from '../../hack/plane/control-plane.js';
import { criLog } from '../../hack/plane/pod-logs.js';
import { restrictedNamespace } from './support/plane.js';
import { finished, restrictedPod, waitForPod } from './support/pods.js';

describe('Pod logs of kwok Pods, through the API', function () {
  this.timeout(120_000);
  let plane: ControlPlane;
  let core: CoreV1Api;
  let ns: string;

  before(async () => {
    ({ plane, core, ns } = await restrictedNamespace('pod-logs'));
  });

  const read = (pod: string, container: string, tailLines?: number): Promise<string> =>
    core.readNamespacedPodLog({ name: pod, namespace: ns, container, tailLines });

  it('reads what was set before the Pod existed, after it finished, whole and with tailLines', async () => {
    await plane.setPodLogs(ns, 'step', 'main', 'extracting users\nread 3 records\ndone\n');
    await core.createNamespacedPod({
      namespace: ns,
      body: restrictedPod('step', { containers: ['main', 'target'] }),
    });
    const pod = await waitForPod(core, ns, 'step', finished);
    expect(pod.status?.phase).to.equal('Succeeded');
    expect(pod.spec?.nodeName).to.equal(FAKE_NODE);

    expect(await read('step', 'main')).to.equal('extracting users\nread 3 records\ndone\n');
    expect(await read('step', 'main', 2)).to.equal('read 3 records\ndone\n');
    expect(await read('step', 'main', 1)).to.equal('done\n');
  });

  it('gives another container of the same Pod its own text, set after the Pod finished', async () => {
    const target =
      'INFO loading\nSTATE {"bookmarks":{"users":{"id":41}}}\nSTATE {"bookmarks":{"users":{"id":42}}}\n';
    await plane.setPodLogs(ns, 'step', 'target', target);
    expect(await read('step', 'target')).to.equal(target);
    expect(await read('step', 'target', 1)).to.equal('STATE {"bookmarks":{"users":{"id":42}}}\n');
    expect(await read('step', 'main')).to.equal('extracting users\nread 3 records\ndone\n');
  });

  it('shows changed text on the next read', async () => {
    await plane.setPodLogs(ns, 'step', 'main', 'retried\nsucceeded\n');
    expect(await read('step', 'main')).to.equal('retried\nsucceeded\n');
    expect(await read('step', 'target', 1)).to.equal('STATE {"bookmarks":{"users":{"id":42}}}\n');
  });

  it('keeps text exactly: no trailing newline, blank lines, long lines', async () => {
    const text = `first\n\n  indented\t tab\n${'x'.repeat(20_000)}\nno newline at the end`;
    await plane.setPodLogs(ns, 'step', 'main', text);
    expect(await read('step', 'main')).to.equal(text);
    expect(await read('step', 'main', 1)).to.equal('no newline at the end');
  });

  it('serves the same text to kubectl logs', async () => {
    await plane.setPodLogs(ns, 'step', 'main', 'via kubectl\n');
    expect(await plane.kubectl(['logs', '-n', ns, 'step', '-c', 'main'])).to.equal('via kubectl\n');
  });

  it('reads logs while the Pod is still Running', async () => {
    await core.createNamespacedPod({
      namespace: ns,
      body: restrictedPod('running', { annotations: { [KWOK_ANNOTATIONS.duration]: '60s' } }),
    });
    await waitForPod(core, ns, 'running', (p) => p.status?.phase === 'Running');
    await plane.setPodLogs(ns, 'running', 'main', 'still going\n');
    expect(await read('running', 'main')).to.equal('still going\n');
  });

  it('reads a container nothing was set for as empty', async () => {
    await core.createNamespacedPod({
      namespace: ns,
      body: restrictedPod('silent', { containers: ['main'] }),
    });
    await core.createNamespacedPod({
      namespace: ns,
      body: restrictedPod('half', { containers: ['main', 'other'] }),
    });
    await plane.setPodLogs(ns, 'half', 'main', 'only main\n');
    await waitForPod(core, ns, 'silent', finished);
    await waitForPod(core, ns, 'half', finished);
    expect(await read('silent', 'main')).to.equal('');
    expect(await read('half', 'other')).to.equal('');
    expect(await read('half', 'main')).to.equal('only main\n');
  });

  it('writes CRI log lines: full lines tagged F, a last line without newline tagged P', () => {
    const at = new Date('2025-01-02T03:04:05.678Z');
    expect(criLog('a\n\nb', at)).to.equal(
      '2025-01-02T03:04:05.678Z stdout F a\n2025-01-02T03:04:05.678Z stdout F \n2025-01-02T03:04:05.678Z stdout P b\n',
    );
    expect(criLog('', at)).to.equal('');
  });
});
