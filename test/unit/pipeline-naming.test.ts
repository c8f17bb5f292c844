import { expect } from 'chai';
import { DNS_SUBDOMAIN } from '../../api/v1alpha1/kube.js';
import {
  pipelineStream,
  podName,
  runId,
  runKey,
  triggerOf,
  type RunCause,
} from '../../controller/pipeline/naming.js';

/** A Kubernetes label value: the run key is the flexcore.io/run label of every Pod. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

describe('pipeline naming', () => {
  it('names the event stream of a pipeline by its uid', () => {
    expect(pipelineStream('3f9c1e2a-7b4d-4c8e-9a1f-5d6e7f8a9b0c')).to.equal(
      'pipeline-3f9c1e2a-7b4d-4c8e-9a1f-5d6e7f8a9b0c',
    );
  });

  describe('runKey', () => {
    const cases: [string, RunCause, string][] = [
      ['a spec generation', { trigger: 'Generation', generation: 3 }, 'g3'],
      // sha256 of "<request>@<stream version when decided>"
      ['a manual request', { trigger: 'Manual', request: 'abc', seq: 4 }, 'm-777bc8f9'],
      ['another manual request', { trigger: 'Manual', request: 'a', seq: 4 }, 'm-809e886b'],
      [
        'a schedule tick, in UTC',
        { trigger: 'Schedule', tickMs: Date.UTC(2026, 10, 21, 14, 30) },
        's-202611211430',
      ],
      [
        'a tick just after midnight',
        { trigger: 'Schedule', tickMs: Date.UTC(2025, 0, 2, 0, 5) },
        's-202501020005',
      ],
    ];
    for (const [what, cause, key] of cases) {
      it(`of ${what} is ${key}`, () => {
        expect(runKey(cause)).to.equal(key);
        expect(key).to.match(LABEL_VALUE);
        expect(key.length).to.be.at.most(63);
      });
    }

    it('is the same for the same cause and differs between causes', () => {
      const request = { trigger: 'Manual', request: '2025-03-01T12:00:00Z', seq: 7 } as const;
      expect(runKey(request)).to.equal(runKey({ ...request }));
      expect(runKey(request)).to.not.equal(runKey({ ...request, request: '2025-03-01T12:00:01Z' }));
      // The same value asked for again later (a → b → a) is a new run.
      expect(runKey(request)).to.not.equal(runKey({ ...request, seq: 12 }));
      expect(runKey({ trigger: 'Generation', generation: 1 })).to.not.equal(
        runKey({ trigger: 'Generation', generation: 11 }),
      );
    });

    it('gives the trigger of a cause', () => {
      expect(triggerOf({ trigger: 'Schedule', tickMs: 0 })).to.equal('Schedule');
      expect(triggerOf({ trigger: 'Manual', request: 'x', seq: 0 })).to.equal('Manual');
    });
  });

  describe('runId', () => {
    it('is the run key and the first 8 hex digits of the pipeline uid', () => {
      expect(runId('3f9c1e2a-7b4d-4c8e-9a1f-5d6e7f8a9b0c', 'g3')).to.equal('g3-3f9c1e2a');
      expect(runId('0c6f-1d6e-5b8e-4a53', 's-202611211430')).to.equal('s-202611211430-0c6f1d6e');
    });
    it('differs between pipelines with the same run key', () => {
      expect(runId('11111111-0000', 'g1')).to.not.equal(runId('22222222-0000', 'g1'));
    });
  });

  describe('podName', () => {
    it('is <pipeline>-<run key>-<step>-<attempt>', () => {
      expect(podName('orders', 'g3', 'extract', 2)).to.equal('orders-g3-extract-2');
    });
    it('stays a valid Pod name for the longest pipeline, run key, step and attempt', () => {
      const name = podName(`p${'a'.repeat(62)}`, 's-202611211430', `s${'b'.repeat(39)}`, 11);
      expect(name.length).to.equal(63 + 1 + 14 + 1 + 40 + 1 + 2);
      expect(name.length).to.be.at.most(253);
      expect(name).to.match(DNS_SUBDOMAIN);
    });
  });
});
