/**
 * Crash safety: the controller (a separate process) SIGKILLs itself at injected points —
 * right after an append, before its actions; right after its actions, before the status —
 * again and again while 30 pipelines run. After the last restart every run must have
 * finished with exactly its expected events, and no step may have more than one Pod.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { FlexPipelineStatus } from '../../api/v1alpha1/index.js';
import { REPO_ROOT } from './support/async.js';
import { eventually } from './support/engine.js';
import { expectExactlyOnce } from './support/exactly-once.js';
import { fake, pipeline, plugin } from './support/manifests.js';
import { restrictedNamespace } from './support/plane.js';
import { freshStore, type TestStore } from './support/store.js';
import { stringify } from 'yaml';

const PIPELINES = 30;

function startController(env: NodeJS.ProcessEnv): {
  child: ChildProcess;
  exited: Promise<NodeJS.Signals | number | null>;
} {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'controller/cli/flexcore.mjs'), 'controller'], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'error', FLEXCORE_PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.resume();
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  return { child, exited };
}

describe('engine: kill -9 at injected points', function () {
  this.timeout(600_000);
  let db: TestStore;
  after(async () => db?.close());

  it('finishes every run with exactly its events and no duplicate Pods across repeated crashes', async () => {
    const { plane, ns: namespace } = await restrictedNamespace('crash');
    db = await freshStore(5);
    const docs = [plugin('work')];
    for (let i = 0; i < PIPELINES; i++) {
      docs.push(
        pipeline(`p${i}`, {
          steps: [
            { name: 'a', plugin: 'work', podMetadata: fake() },
            { name: 'b', plugin: 'work', dependsOn: ['a'], podMetadata: fake() },
          ],
        }),
      );
    }
    await plane.kubectl(['apply', '-n', namespace, '-f', '-'], docs.map((d) => stringify(d)).join('---\n'));
    // One identity across restarts (a StatefulSet's Pod name): each new process takes the Lease
    // its killed predecessor held at once, as a new term with a new fencing token.
    const env = {
      KUBECONFIG: plane.kubeconfigPath,
      DATABASE_URL: db.url,
      WATCH_NAMESPACE: namespace,
      POD_NAME: 'crash-controller',
    };
    const done = async (): Promise<boolean> => {
      const list = JSON.parse(
        await plane.kubectl(['get', 'flexpipelines', '-n', namespace, '-o', 'json']),
      ) as {
        items: { status?: FlexPipelineStatus }[];
      };
      return list.items.every((p) => p.status?.phase === 'Succeeded');
    };

    let crashes = 0;
    for (let round = 0; round < 60 && !(await done()); round++) {
      const point = round % 2 === 0 ? 'after-append' : 'after-act';
      const { child, exited } = startController({
        ...env,
        FLEXCORE_FAILPOINTS: `${point}=${1 + (round % 3)}`,
      });
      const result = await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000, 'alive'))]);
      if (result === 'SIGKILL') crashes++;
      if (result === 'alive') {
        child.kill('SIGKILL');
        await exited;
      }
    }
    expect(crashes, 'injected crashes').to.be.at.least(20);
    const { child, exited } = startController(env);
    try {
      await eventually(done, 120_000, 'every pipeline to succeed');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }

    await expectExactlyOnce({ db, plane, ns: namespace }, PIPELINES);
  });
});
