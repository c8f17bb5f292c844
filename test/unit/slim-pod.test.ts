import { expect } from 'chai';
import type { V1Pod } from '@kubernetes/client-node';
import { observePod } from '../../controller/pipeline/observed-pod.js';
import { podUpdateMatters, slimPod } from '../../controller/pipeline/slim-pod.js';

const labels = {
  'app.kubernetes.io/managed-by': 'flexcore',
  'flexcore.io/pipeline': 'orders',
  'flexcore.io/pipeline-uid': '3f9c1e2a-7b4d-4c8e-9a1f-5d6e7f8a9b0c',
  'flexcore.io/run': 'g1',
  'flexcore.io/step': 'extract',
  'flexcore.io/attempt': '2',
};

/** A Singer pair Pod as the apiserver returns it, with everything a rendered Pod carries. */
function pairPod(status: V1Pod['status'], deleting = false): V1Pod {
  const container = (name: string): NonNullable<V1Pod['spec']>['containers'][number] => ({
    name,
    image: `example.com/${name}:1`,
    command: ['/bin/sh', '-c', 'a long wrapper script '.repeat(20)],
    env: [{ name: 'FLEXCORE_RUN', value: 'g1-3f9c1e2a' }],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
    securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
    volumeMounts: [{ name: 'scratch', mountPath: '/tmp' }],
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'orders-g1-extract-2',
      namespace: 'data',
      uid: 'pod-uid',
      resourceVersion: '4711',
      labels,
      annotations: { 'kwok.x-k8s.io/duration': '1s' },
      ownerReferences: [
        { apiVersion: 'flexcore.io/v1alpha1', kind: 'FlexPipeline', name: 'orders', uid: 'u' },
      ],
      managedFields: [{ manager: 'flexcore', operation: 'Update', fieldsV1: { 'f:spec': {} } }],
      ...(deleting && { deletionTimestamp: new Date('2025-03-01T12:00:09Z') }),
    },
    spec: {
      containers: [container('tap'), container('target')],
      volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '1Gi' } }],
      automountServiceAccountToken: false,
      activeDeadlineSeconds: 3600,
    },
    status,
  };
}

const terminated = (name: string, exitCode: number): NonNullable<V1Pod['status']>['containerStatuses'] => [
  {
    name,
    image: `example.com/${name}:1`,
    imageID: 'sha256:abc',
    ready: false,
    restartCount: 0,
    state: {
      terminated: {
        exitCode,
        reason: exitCode ? 'Error' : 'Completed',
        startedAt: new Date('2025-03-01T12:00:01Z'),
        finishedAt: new Date(exitCode ? '2025-03-01T12:00:07Z' : '2025-03-01T12:00:05Z'),
      },
    },
  },
];

const cases: Record<string, V1Pod> = {
  pending: pairPod({ phase: 'Pending' }),
  running: pairPod({ phase: 'Running', startTime: new Date('2025-03-01T12:00:00Z') }),
  'failed pair': pairPod({
    phase: 'Failed',
    startTime: new Date('2025-03-01T12:00:00Z'),
    containerStatuses: [...terminated('tap', 0)!, ...terminated('target', 3)!],
  }),
  'deadline exceeded, being deleted': pairPod(
    { phase: 'Failed', reason: 'DeadlineExceeded', startTime: new Date('2025-03-01T12:00:00Z') },
    true,
  ),
};

describe('slimPod: what the controller caches of its Pods', () => {
  for (const [name, pod] of Object.entries(cases)) {
    it(`${name}: the planner observes the same Pod, from a fraction of the bytes`, () => {
      const slim = slimPod(pod);
      expect(observePod(slim)).to.deep.equal(observePod(pod));
      expect(slim.metadata?.labels).to.deep.equal(labels);
      expect(slim.metadata?.resourceVersion).to.equal('4711');
      expect(JSON.stringify(slim).length).to.be.below(JSON.stringify(pod).length / 2);
    });
  }

  it('keeps no managedFields, env, commands, volumes or annotations', () => {
    const text = JSON.stringify(slimPod(cases['failed pair']!));
    for (const gone of [
      'managedFields',
      'FLEXCORE_RUN',
      'wrapper',
      'volumes',
      'kwok.x-k8s.io',
      'securityContext',
    ])
      expect(text).to.not.include(gone);
  });

  describe('podUpdateMatters: which Pod updates wake the pipeline', () => {
    const next = (pod: V1Pod, change: (p: V1Pod) => void): V1Pod => {
      const copy = structuredClone(pod);
      copy.metadata!.resourceVersion = '4712';
      change(copy);
      return slimPod(copy);
    };
    const running = cases.running!;

    it('ignores an update the planner cannot see: scheduling, conditions, IPs', () => {
      const scheduled = next(running, (p) => {
        p.spec!.nodeName = 'kwok-node-0';
        p.status!.conditions = [{ type: 'PodScheduled', status: 'True' }];
        p.status!.podIP = '10.0.0.7';
      });
      expect(podUpdateMatters(slimPod(running), scheduled)).to.equal(false);
    });

    it('wakes it for a new phase, container state, reason or deletion, and for a resync', () => {
      const before = slimPod(running);
      expect(
        podUpdateMatters(
          before,
          next(running, (p) => (p.status!.phase = 'Succeeded')),
        ),
      ).to.equal(true);
      expect(
        podUpdateMatters(
          before,
          next(running, (p) => (p.status!.containerStatuses = terminated('tap', 0))),
        ),
      ).to.equal(true);
      expect(
        podUpdateMatters(
          before,
          next(running, (p) => (p.status!.reason = 'Evicted')),
        ),
      ).to.equal(true);
      expect(
        podUpdateMatters(
          before,
          next(running, (p) => (p.metadata!.deletionTimestamp = new Date())),
        ),
      ).to.equal(true);
      expect(podUpdateMatters(before, before)).to.equal(true);
    });
  });
});
