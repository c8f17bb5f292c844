/**
 * An attempt's config without a Secret: which steps qualify, and that the Pod then carries the
 * very file a Secret would have held, through a downward-API volume.
 */
import { expect } from 'chai';
import { FlexPipeline, FlexPlugin, type Step } from '../../api/v1alpha1/index.js';
import type { AttemptInput } from '../../controller/pipeline/render/attempt-input.js';
import {
  INLINE_CONFIG_ANNOTATION,
  INLINE_CONFIG_LIMIT,
  configGoesInline,
} from '../../controller/pipeline/render/config-carrier.js';
import { renderAttemptConfig } from '../../controller/pipeline/render/config.js';
import { renderPod } from '../../controller/pipeline/render/pod.js';

const plugin = (name: string, spec: Record<string, unknown>): FlexPlugin =>
  FlexPlugin.parse({ apiVersion: 'flexcore.io/v1alpha1', kind: 'FlexPlugin', metadata: { name }, spec });

const dbt = plugin('dbt', {
  type: 'transformer',
  image: 'x/dbt:1',
  command: ['dbt'],
  settings: [
    { name: 'target', default: 'prod' },
    { name: 'threads', kind: 'integer' },
  ],
});
const tap = plugin('tap-pg', { type: 'tap', image: 'x/tap:1', command: ['tap-postgres'] });
const plainTap = plugin('tap-http', { type: 'tap', protocol: 'plain', image: 'x/t:1', command: ['get'] });
const target = plugin('target-jsonl', { type: 'target', image: 'x/target:1', command: ['target-jsonl'] });

function stepOf(extra: Record<string, unknown>, pluginName = 'dbt'): Step {
  const p = FlexPipeline.parse({
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPipeline',
    metadata: { name: 'orders', namespace: 'data', uid: '7d1b2c3a-0000-4000-8000-00000000beef' },
    spec: { steps: [{ name: 'run', plugin: pluginName, ...extra }] },
  });
  return p.spec.steps[0] as Step;
}

describe('configGoesInline', () => {
  it('takes a plain step whose config is plain', () => {
    expect(configGoesInline(stepOf({ config: { threads: 4 } }), dbt)).to.equal(true);
    expect(configGoesInline(stepOf({}, 'tap-http'), plainTap)).to.equal(true);
    expect(configGoesInline(stepOf({}, 'target-jsonl'), target)).to.equal(true);
  });

  it('keeps a Secret for configFrom, a Singer tap (state, catalog), a pair, a discovery', () => {
    const fromSecret = stepOf({ configFrom: [{ secretRef: { name: 'db' } }] });
    expect(configGoesInline(fromSecret, dbt)).to.equal(false);
    expect(configGoesInline(stepOf({}, 'tap-pg'), tap)).to.equal(false);
    const pair = stepOf({ target: { plugin: 'target-jsonl' } }, 'tap-http');
    expect(configGoesInline(pair, plainTap)).to.equal(false);
    expect(configGoesInline(stepOf({}), dbt, true)).to.equal(false);
    expect(configGoesInline(stepOf({}), undefined)).to.equal(false);
  });

  it('keeps a Secret for a config too large for an annotation', () => {
    const big = stepOf({ config: { vars: 'x'.repeat(INLINE_CONFIG_LIMIT) } });
    expect(configGoesInline(big, dbt)).to.equal(false);
  });
});

describe('an inline config', () => {
  const step = stepOf({ config: { threads: 4 } });
  const base: AttemptInput = {
    pipeline: FlexPipeline.parse({
      apiVersion: 'flexcore.io/v1alpha1',
      kind: 'FlexPipeline',
      metadata: { name: 'orders', namespace: 'data', uid: '7d1b2c3a-0000-4000-8000-00000000beef' },
      spec: { steps: [step] },
    }),
    step,
    plugin: dbt,
    runId: 'g1-7d1b2c3a',
    runKey: 'g1',
    attempt: 1,
    podName: 'orders-g1-run-1',
    secretName: 'orders-g1-run-1',
    secrets: new Map(),
  };

  it('is the file the Secret would have held, in an annotation projected where the Secret was', () => {
    const withSecret = renderAttemptConfig(base);
    if (!('secret' in withSecret)) throw new Error('expected a Secret');
    const file = Buffer.from(withSecret.secret.data?.['config.json'] ?? '', 'base64').toString();
    expect(JSON.parse(file)).to.deep.equal({ target: 'prod', threads: 4 });

    const inline = { ...base, inlineConfig: true };
    expect(renderAttemptConfig(inline)).to.deep.equal({ inline: file });
    const pod = renderPod(inline);
    expect(pod.metadata?.annotations?.[INLINE_CONFIG_ANNOTATION]).to.equal(file);
    const config = pod.spec?.volumes?.find((v) => v.name === 'config');
    expect(config).to.deep.equal({
      name: 'config',
      downwardAPI: {
        defaultMode: 0o440,
        items: [
          {
            path: 'config.json',
            fieldRef: { fieldPath: `metadata.annotations['${INLINE_CONFIG_ANNOTATION}']` },
          },
        ],
      },
    });
    expect(pod.spec?.volumes?.some((v) => v.secret)).to.equal(false);
    expect(pod.spec?.containers[0]?.volumeMounts).to.deep.include({
      name: 'config',
      mountPath: '/flexcore/config',
      readOnly: true,
    });
    // Without the flag, the same input mounts the Secret and carries no annotation.
    const secretPod = renderPod(base);
    expect(secretPod.metadata?.annotations ?? {}).to.not.have.property(INLINE_CONFIG_ANNOTATION);
    expect(secretPod.spec?.volumes?.find((v) => v.name === 'config')?.secret?.secretName).to.equal(
      'orders-g1-run-1',
    );
  });
});
