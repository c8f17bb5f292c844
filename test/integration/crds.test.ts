import { expect } from 'chai';
import type { ControlPlane } from '../../hack/plane/control-plane.js';
import { createRestrictedNamespace } from '../../hack/plane/setup.js';
import { sharedPlane, uniqueName } from './support/plane.js';

describe('CRDs on a real kube-apiserver', function () {
  this.timeout(120_000);
  let plane: ControlPlane;
  let ns: string;

  before(async () => {
    plane = await sharedPlane();
    ns = uniqueName('crds');
    await createRestrictedNamespace(plane, ns);
  });

  it('are established and structural (the apiserver accepted them)', async () => {
    const out = await plane.kubectl([
      'get',
      'crd',
      'flexpipelines.flexcore.io',
      'flexplugins.flexcore.io',
      '-o',
      'json',
    ]);
    const list = JSON.parse(out) as {
      items: { status: { conditions: { type: string; status: string }[] } }[];
    };
    for (const crd of list.items) {
      const cond = (t: string): string | undefined => crd.status.conditions.find((c) => c.type === t)?.status;
      expect(cond('Established')).to.equal('True');
      expect(cond('NonStructuralSchema')).to.equal(undefined);
    }
  });

  it('kubectl explain flexpipeline.spec.steps prints the field descriptions', async () => {
    const out = await plane.kubectl(['explain', 'flexpipeline.spec.steps']);
    expect(out).to.include('The steps of the pipeline');
    expect(out).to.match(/dependsOn\s+<\[\]string>/);
    expect(out).to.include('Steps that must succeed before this one starts');
    expect(out).to.include('Name of the FlexPlugin this step runs');
    const retries = await plane.kubectl(['explain', 'flexpipeline.spec.steps.retries.backoff']);
    expect(retries).to.include('Delay before the first retry');
  });

  it('serves short names, the flexcore category and printer columns', async () => {
    await plane.kubectl(
      ['apply', '-n', ns, '-f', '-'],
      `apiVersion: flexcore.io/v1alpha1
kind: FlexPlugin
metadata: {name: tap-demo}
spec: {type: tap, image: example.com/tap-demo:1}
---
apiVersion: flexcore.io/v1alpha1
kind: FlexPipeline
metadata: {name: demo}
spec:
  schedule: '@daily'
  steps: [{name: only, plugin: tap-demo}]
`,
    );
    const all = await plane.kubectl(['get', 'flexcore', '-n', ns]);
    expect(all).to.include('flexplugin.flexcore.io/tap-demo');
    expect(all).to.include('flexpipeline.flexcore.io/demo');
    const pipes = await plane.kubectl(['get', 'fpipe', '-n', ns]);
    expect(pipes.split('\n')[0]).to.match(
      /NAME\s+PHASE\s+PROGRESS\s+SCHEDULE\s+SUSPEND\s+LAST SCHEDULE\s+AGE/,
    );
    expect(pipes).to.match(/demo\s+@daily\s+false/);
    const plugs = await plane.kubectl(['get', 'fplug', '-n', ns]);
    expect(plugs.split('\n')[0]).to.match(/NAME\s+TYPE\s+IMAGE\s+READY\s+AGE/);
  });

  it('applies schema defaults at admission', async () => {
    const out = await plane.kubectl([
      'get',
      'flexpipeline',
      'demo',
      '-n',
      ns,
      '-o',
      'jsonpath={.spec.concurrencyPolicy} {.spec.suspend} {.spec.successfulRunsHistoryLimit}',
    ]);
    expect(out).to.equal('Forbid false 3');
  });
});
