/**
 * Failures on the real node, as a kubelet really reports them: one side of a Singer pair dying
 * while the other waits or writes, a container over its memory limit, a step over its timeout
 * with the controller down, an image the node does not have. And the sandbox, from inside.
 */
import { expect } from 'chai';
import { eventually, startEngine, type Engine } from './support/engine.js';
import { pipeline, plugin } from './support/manifests.js';
import {
  applyTapPostgres,
  finishedRun,
  logTail,
  ON_REAL_NODE,
  podReachablePostgres,
  realNodeOf,
  seedOrders,
  type PodReachablePostgres,
} from './support/real.js';

const PYTHON = 'localhost/python:3.11-slim-bookworm';

interface PodJson {
  status: {
    phase: string;
    reason?: string;
    containerStatuses?: { name: string; state: { terminated?: { exitCode: number; reason?: string } } }[];
  };
}

/** A plugin running `script` with sh in the Python base image, on the real node. */
function shellPlugin(
  name: string,
  type: string,
  spec: Record<string, unknown> = {},
): Record<string, unknown> {
  return plugin(name, {
    type,
    image: PYTHON,
    imagePullPolicy: 'Never',
    command: ['sh', '-c'],
    defaults: { ...ON_REAL_NODE },
    ...spec,
  });
}

describe('real node: failures and the sandbox, as the kubelet reports them', function () {
  this.timeout(300_000);
  let engine: Engine;
  let source: PodReachablePostgres;

  before(async () => {
    engine = await startEngine({ prefix: 'real-fail', startGraceMs: 5000 });
    const node = await realNodeOf(engine.plane);
    await node.ensureImages(['python']);
    source = await podReachablePostgres();
    await seedOrders(source, 'big', 200_000);
  });
  after(async () => {
    await engine?.stop();
    await source?.server.stop();
  });

  const podOf = async (name: string): Promise<PodJson> => engine.get<PodJson>('pod', name);
  const exitCodes = (pod: PodJson): Record<string, number | undefined> =>
    Object.fromEntries(
      (pod.status.containerStatuses ?? []).map((c) => [c.name, c.state.terminated?.exitCode]),
    );

  it('a tap that exits non-zero while the target waits: both end, the tap’s code is the attempt’s', async () => {
    await engine.apply(
      shellPlugin('tap-dies', 'tap', {
        protocol: 'singer',
        args: [
          'echo \'{"type":"SCHEMA","stream":"s","schema":{"properties":{"id":{"type":"integer"}}},"key_properties":["id"]}\'; echo \'{"type":"RECORD","stream":"s","record":{"id":1}}\'; exit 3',
        ],
      }),
      plugin('target-jsonl', {
        type: 'target',
        image: 'localhost/flexcore/target-jsonl:0.1.4',
        command: ['target-jsonl'],
        sandbox: { writablePaths: ['/data'] },
        settings: [{ name: 'destination_path', default: '/data' }],
      }),
      pipeline('tap-fails', {
        steps: [
          { name: 'el', plugin: 'tap-dies', target: { plugin: 'target-jsonl' }, retries: { limit: 0 } },
        ],
      }),
    );
    const run = await finishedRun(engine, 'tap-fails');
    const step = run.steps![0]!;
    expect([run.phase, step.phase, step.exitCode], JSON.stringify(run)).to.deep.equal([
      'Failed',
      'Failed',
      3,
    ]);
    const pod = await podOf(step.pod!);
    expect(pod.status.phase).to.equal('Failed');
    // The target read the record, then EOF, and ended cleanly: nothing left running.
    expect(exitCodes(pod)).to.deep.equal({ tap: 3, target: 0 });
  });

  it('a target that dies while the tap still writes: the tap ends on its broken pipe, the target’s code is the attempt’s', async () => {
    const tap = await applyTapPostgres(engine, source, 'big');
    await engine.apply(
      shellPlugin('target-dies', 'target', {
        protocol: 'singer',
        // Reads a few messages of a 200,000-row stream, then fails.
        args: ['head -n 100 >/dev/null; echo "target: giving up" >&2; exit 7'],
      }),
      pipeline('target-fails', {
        steps: [{ name: 'el', ...tap, target: { plugin: 'target-dies' }, retries: { limit: 0 } }],
      }),
    );
    const run = await finishedRun(engine, 'target-fails');
    const step = run.steps![0]!;
    expect([step.phase, step.exitCode], JSON.stringify(run)).to.deep.equal(['Failed', 7]);
    const pod = await podOf(step.pod!);
    const codes = exitCodes(pod);
    expect(codes['target']).to.equal(7);
    expect(codes['tap']).to.be.a('number').and.not.equal(0); // broken pipe, not a hang
    expect(step.message).to.match(/tap exited \d+, target exited 7/);
    expect(await logTail(engine, run.id!, 'el', 'target')).to.contain('target: giving up');
  });

  it('runs a step as UID 65532 with no capabilities, a read-only root and writable /tmp and writablePaths', async () => {
    await engine.apply(
      shellPlugin('inspect', 'utility', {
        sandbox: { writablePaths: ['/data'] },
        args: [
          'echo "uid=$(id -u) gid=$(id -g)"; grep -E "^Cap(Eff|Prm|Bnd):" /proc/self/status; grep NoNewPrivs /proc/self/status; ' +
            'touch /x 2>/dev/null && echo "root: writable" || echo "root: read-only"; ' +
            'touch /tmp/x && echo "tmp: writable"; touch /data/x && echo "data: writable"; ' +
            'grep Seccomp: /proc/self/status',
        ],
      }),
      pipeline('sandbox', { steps: [{ name: 'look', plugin: 'inspect' }] }),
    );
    const run = await finishedRun(engine, 'sandbox');
    expect(run.phase, JSON.stringify(run)).to.equal('Succeeded');
    const log = await logTail(engine, run.id!, 'look', 'plugin');
    expect(log).to.contain('uid=65532 gid=65532');
    expect(log).to.match(/CapEff:\s+0000000000000000/);
    expect(log).to.match(/CapPrm:\s+0000000000000000/);
    expect(log).to.match(/CapBnd:\s+0000000000000000/);
    expect(log).to.match(/NoNewPrivs:\s+1/);
    expect(log).to.match(/Seccomp:\s+2/); // RuntimeDefault: a filter
    expect(log).to.contain('root: read-only');
    expect(log).to.contain('tmp: writable');
    expect(log).to.contain('data: writable');
  });

  it('ends a step over its memory limit OOMKilled', async () => {
    await engine.apply(
      shellPlugin('hog', 'utility', {
        command: ['python3', '-c'],
        args: ['b = bytearray(512 * 1024 * 1024); print(len(b))'],
        defaults: { ...ON_REAL_NODE, resources: { limits: { memory: '64Mi' } } },
      }),
      pipeline('oom', { steps: [{ name: 'hog', plugin: 'hog', retries: { limit: 0 } }] }),
    );
    const run = await finishedRun(engine, 'oom');
    const step = run.steps![0]!;
    expect([step.phase, step.reason], JSON.stringify(run)).to.deep.equal(['Failed', 'OOMKilled']);
  });

  it('fails an attempt whose image the node does not have after the grace, with ErrImageNeverPull', async () => {
    await engine.apply(
      shellPlugin('ghost', 'utility', { image: 'localhost/flexcore/not-built:1', args: ['true'] }),
      pipeline('no-image', { steps: [{ name: 'run', plugin: 'ghost', retries: { limit: 0 } }] }),
    );
    const run = await finishedRun(engine, 'no-image', undefined, 90_000);
    const step = run.steps![0]!;
    expect([step.phase, step.reason], JSON.stringify(run)).to.deep.equal(['Failed', 'ErrImageNeverPull']);
    expect(step.message).to.contain('not-built');
  });

  it('ends a step over its timeout through activeDeadlineSeconds while the controller is stopped: TimedOut', async () => {
    await engine.apply(
      shellPlugin('sleeper', 'utility', { args: ['sleep 600'] }),
      pipeline('slow', {
        steps: [{ name: 'wait', plugin: 'sleeper', timeoutSeconds: 6, retries: { limit: 0 } }],
      }),
    );
    const podName = await eventually(async () => {
      const p = await engine.get<{ status?: { currentRun?: { steps?: { pod?: string }[] } } }>(
        'flexpipeline',
        'slow',
      );
      const pod = p.status?.currentRun?.steps?.[0]?.pod;
      return pod && (await podOf(pod)).status.phase === 'Running' ? pod : undefined;
    }, 60_000);
    await engine.manager.stop();
    // Nobody but the kubelet is watching now.
    const pod = await eventually(
      async () => {
        const p = await podOf(podName);
        return p.status.phase === 'Failed' ? p : undefined;
      },
      60_000,
      'the kubelet to end the Pod',
    );
    expect(pod.status.reason).to.equal('DeadlineExceeded');
    await engine.restart();
    const run = await finishedRun(engine, 'slow');
    const step = run.steps![0]!;
    expect([step.phase, step.reason], JSON.stringify(run)).to.deep.equal(['TimedOut', 'DeadlineExceeded']);
  });
});
