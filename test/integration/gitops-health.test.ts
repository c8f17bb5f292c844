import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { GitopsWorld, driveLifecycle, type GitopsKind, type Reached } from '../../hack/gitops/lifecycle.js';
import { gitopsTools, type GitopsTools } from '../../hack/plane/tools.js';

const execFileP = promisify(execFile);

const CUSTOMIZATIONS = fileURLToPath(
  new URL('../../charts/argocd/resource_customizations/flexcore.io/', import.meta.url),
);

type Argo = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended';
type Kstatus = 'Current' | 'InProgress' | 'Failed' | 'Terminating';

/** What each state must give: Argo CD health (with a word its message must hold) and kstatus. */
const EXPECTED: [GitopsKind, string, Argo, RegExp, Kstatus][] = [
  ['FlexPlugin', 'valid', 'Healthy', /^Valid: /, 'Current'],
  ['FlexPlugin', 'invalid', 'Degraded', /^InvalidSpec: .*default/, 'Failed'],
  ['FlexPlugin', 'not-observed', 'Progressing', /observe generation 1$/, 'InProgress'],
  ['FlexPlugin', 'deleting', 'Progressing', /deleted/, 'Terminating'],
  ['FlexPipeline', 'invalid', 'Degraded', /^DependencyCycle: /, 'Failed'],
  ['FlexPipeline', 'not-observed', 'Progressing', /observe generation 1$/, 'InProgress'],
  ['FlexPipeline', 'running', 'Progressing', /^RunActive: Generation run g1-/, 'InProgress'],
  ['FlexPipeline', 'succeeded', 'Healthy', /^RunSucceeded: /, 'Current'],
  ['FlexPipeline', 'generation-not-observed', 'Progressing', /observe generation 2$/, 'InProgress'],
  ['FlexPipeline', 'failed', 'Degraded', /^LastRunFailed: Run g2-/, 'Failed'],
  ['FlexPipeline', 'suspended', 'Suspended', /^Suspended/, 'Current'],
  ['FlexPipeline', 'deleting', 'Progressing', /deleted/, 'Terminating'],
  ['FlexPipeline', 'idle', 'Healthy', /^NoRuns: /, 'Current'],
  ['FlexPipeline', 'scheduled-running', 'Healthy', /^RunActive: Run s-/, 'Current'],
  ['FlexPipeline', 'scheduled-failed', 'Degraded', /^RunFailed: Run s-/, 'Current'],
  ['FlexPipeline', 'manual-running', 'Progressing', /^RunActive: Manual run m-/, 'InProgress'],
];

interface Verdicts {
  readonly argo: { status: string; message: string };
  readonly kstatus: { status: string; message: string };
  /** Argo CD health of the committed testdata of the same state. */
  readonly testdata: string;
}

async function argoRun(tools: GitopsTools, kind: GitopsKind, objectPath: string): Promise<Verdicts['argo']> {
  const { stdout } = await execFileP(tools.argoHealth, [
    'run',
    join(CUSTOMIZATIONS, kind, 'health.lua'),
    objectPath,
  ]);
  return JSON.parse(stdout) as Verdicts['argo'];
}

async function kstatus(tools: GitopsTools, objectPath: string): Promise<Verdicts['kstatus']> {
  const { stdout } = await execFileP(tools.kstatus, [objectPath]);
  const lines = stdout.trim().split('\n');
  expect(lines, 'one verdict per object').to.have.length(1);
  return JSON.parse(lines[0]!) as Verdicts['kstatus'];
}

describe('GitOps health: Argo CD checks and kstatus', function () {
  this.timeout(300_000);
  let tools: GitopsTools;
  before(async () => {
    tools = await gitopsTools();
  });

  describe('argo-health test on the resource customizations', () => {
    for (const kind of ['FlexPipeline', 'FlexPlugin'] as const)
      it(`passes ${kind}/health_test.yaml`, async () => {
        const { stdout } = await execFileP(tools.argoHealth, ['test', join(CUSTOMIZATIONS, kind)]);
        // Every captured state has a case: a new state without an expectation would go unnoticed.
        const states = EXPECTED.filter(([k]) => k === kind).map(([, state]) => state);
        for (const state of states) expect(stdout, state).to.contain(`ok   testdata/${state}.yaml: `);
      });
  });

  describe('live objects driven through their lifecycle by a real controller', () => {
    let world: GitopsWorld | undefined;
    let dir: string;
    const seen = new Map<string, Verdicts>();

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'gitops-health-'));
      world = await GitopsWorld.start();
      await driveLifecycle(world, async ({ kind, state, object }: Reached) => {
        // Judge the object as it is now, before the lifecycle moves it on.
        const path = join(dir, `${kind}-${state}.json`);
        await writeFile(path, JSON.stringify(object));
        const [argo, k, testdata] = await Promise.all([
          argoRun(tools, kind, path),
          kstatus(tools, path),
          argoRun(tools, kind, join(CUSTOMIZATIONS, kind, 'testdata', `${state}.yaml`)),
        ]);
        seen.set(`${kind}/${state}`, { argo, kstatus: k, testdata: testdata.status });
      });
    });
    after(async () => {
      await world?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    for (const [kind, state, argo, message, k] of EXPECTED)
      it(`${kind} ${state}: Argo CD ${argo}, kstatus ${k}`, () => {
        const v = seen.get(`${kind}/${state}`);
        expect(v, 'state reached').to.not.equal(undefined);
        expect(v!.argo.status, v!.argo.message).to.equal(argo);
        expect(v!.argo.message).to.match(message);
        expect(v!.kstatus.status, v!.kstatus.message).to.equal(k);
        // The committed testdata says the same of this state as the live object does.
        expect(v!.testdata, 'testdata').to.equal(argo);
      });

    it('reached no state the table above does not judge', () => {
      expect([...seen.keys()].sort()).to.deep.equal(
        EXPECTED.map(([kind, state]) => `${kind}/${state}`).sort(),
      );
    });
  });
});
