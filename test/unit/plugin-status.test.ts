import { expect } from 'chai';
import { pluginStatus } from '../../controller/plugin/reconciler.js';
import { T0, pluginObject } from './support/pipeline-fixtures.js';

const rfc = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

describe('pluginStatus', () => {
  it('is Ready, with no Stalled condition, for a valid spec', () => {
    const s = pluginStatus(pluginObject('job', { type: 'utility', image: 'example.com/job:1' }), T0);
    expect(s.conditions!.map((c) => [c.type, c.status, c.reason])).to.deep.equal([
      ['Ready', 'True', 'Valid'],
    ]);
  });

  it('is Stalled (kstatus Failed) with the reason of an invalid spec, and not Ready', () => {
    // What admission cannot judge (the apiserver stored it): a default that is not of the setting's kind.
    const valid = pluginObject('tap', { type: 'tap', image: 'example.com/tap:1' });
    const bad = {
      ...valid,
      metadata: { ...valid.metadata, generation: 3 },
      spec: {
        ...valid.spec,
        settings: [{ name: 'port', kind: 'integer' as const, required: false, default: 'x' }],
      },
    };
    const s = pluginStatus(bad, T0);
    const [ready, stalled] = s.conditions!;
    expect(ready).to.deep.include({ type: 'Ready', status: 'False' });
    expect(stalled).to.deep.equal({ ...ready, type: 'Stalled', status: 'True', lastTransitionTime: rfc(T0) });
    expect(s.observedGeneration).to.equal(bad.metadata.generation);
  });
});
