import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { FlexPipeline, FlexPlugin, type Step } from '../../api/v1alpha1/index.js';
import type { AttemptInput } from '../../controller/pipeline/render/attempt-input.js';
import { renderPod } from '../../controller/pipeline/render/pod.js';
import { renderAttemptConfig } from '../../controller/pipeline/render/config.js';
import { parseQuantity } from '../../controller/pipeline/render/quantity.js';
import { DEFAULT_RESOURCES, mergeResources } from '../../controller/pipeline/render/resources.js';
import {
  TAP_WRAPPER,
  TARGET_WRAPPER,
  WRAPPER_FAILED_EXIT_CODE,
} from '../../controller/pipeline/render/singer-wrapper.js';

const UID = '0c6f1d6e-5b8e-4a53-9a43-3f0e2a1b7c11';

function plugin(name: string, spec: Record<string, unknown>): FlexPlugin {
  return FlexPlugin.parse({
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPlugin',
    metadata: { name },
    spec,
  });
}

function pipeline(spec: Record<string, unknown>, name = 'orders'): FlexPipeline {
  return FlexPipeline.parse({
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPipeline',
    metadata: { name, namespace: 'data', uid: UID },
    spec,
  });
}

const dbt = plugin('dbt', {
  type: 'transformer',
  image: 'example.com/dbt:1',
  command: ['dbt'],
  args: ['build'],
  env: [{ name: 'DBT_PROFILES_DIR', value: '/config' }],
});
const tap = plugin('tap-pg', { type: 'tap', image: 'example.com/tap:1', command: ['tap-postgres'] });
const target = plugin('target-jsonl', {
  type: 'target',
  image: 'example.com/target:1',
  command: ['target-jsonl'],
  sandbox: { writablePaths: ['/data'], runAsUser: 1000 },
});

/** An attempt of the pipeline's step `stepName`; plugins looked up by name. */
function attempt(p: FlexPipeline, stepName: string, extra: Partial<AttemptInput> = {}): AttemptInput {
  const plugins = new Map([dbt, tap, target].map((x) => [x.metadata.name ?? '', x]));
  const step = p.spec.steps.find((s) => s.name === stepName) as Step;
  const targetName = step.target?.plugin;
  return {
    pipeline: p,
    step,
    plugin: plugins.get(step.plugin) as FlexPlugin,
    ...(targetName ? { targetPlugin: plugins.get(targetName) } : {}),
    runId: 'g3-0c6f1d6e',
    runKey: 'g3',
    attempt: 2,
    podName: `orders-g3-${stepName}-2`,
    secretName: `orders-g3-${stepName}-2`,
    secrets: new Map(),
    ...extra,
  };
}

function container(pod: V1Pod, name: string): V1Container {
  const found = pod.spec?.containers.find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name}`);
  return found;
}

function envOf(c: V1Container): Record<string, string | undefined> {
  return Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
}

describe('renderPod', () => {
  const p = pipeline({
    podMetadata: { labels: { team: 'pipeline', tier: 'pipeline' }, annotations: { note: 'pipeline' } },
    steps: [
      { name: 'models', plugin: 'dbt', podMetadata: { labels: { tier: 'step' } } },
      { name: 'extract', plugin: 'tap-pg' },
      { name: 'load', plugin: 'tap-pg', target: { plugin: 'target-jsonl' }, timeoutSeconds: 600 },
    ],
  });

  describe('the sandbox, on every container of every kind of step', () => {
    const cases: { name: string; input: AttemptInput }[] = [
      { name: 'plain step', input: attempt(p, 'models') },
      { name: 'Singer tap alone', input: attempt(p, 'extract', { singerState: { bookmarks: {} } }) },
      { name: 'Singer pair', input: attempt(p, 'load') },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const pod = renderPod(c.input);
        expect(pod.spec?.restartPolicy).to.equal('Never');
        expect(pod.spec?.automountServiceAccountToken).to.equal(false);
        expect(pod.spec?.enableServiceLinks).to.equal(false);
        expect(pod.spec?.securityContext).to.deep.include({
          runAsNonRoot: true,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        for (const ct of pod.spec?.containers ?? []) {
          expect(ct.securityContext, ct.name).to.deep.include({
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          });
          expect(Object.keys(ct.resources?.requests ?? {})).to.have.members([
            'cpu',
            'memory',
            'ephemeral-storage',
          ]);
          expect(Object.keys(ct.resources?.limits ?? {})).to.have.members([
            'cpu',
            'memory',
            'ephemeral-storage',
          ]);
          expect(ct.volumeMounts).to.deep.include({ name: 'scratch', mountPath: '/tmp' });
          expect(ct.volumeMounts?.find((m) => m.mountPath === '/flexcore/config')?.readOnly).to.equal(true);
        }
        expect(pod.metadata?.ownerReferences).to.deep.equal([
          {
            apiVersion: 'flexcore.io/v1alpha1',
            kind: 'FlexPipeline',
            name: 'orders',
            uid: UID,
            controller: true,
            blockOwnerDeletion: true,
          },
        ]);
      });
    }
  });

  it('renders a plain step as the plugin gives it, with the config file in the environment', () => {
    const pod = renderPod(attempt(p, 'models'));
    expect(pod.metadata?.name).to.equal('orders-g3-models-2');
    expect(pod.metadata?.namespace).to.equal('data');
    expect(pod.spec?.containers.map((c) => c.name)).to.deep.equal(['plugin']);
    const c = container(pod, 'plugin');
    expect(c.image).to.equal('example.com/dbt:1');
    expect(c.command).to.deep.equal(['dbt']);
    expect(c.args).to.deep.equal(['build']);
    expect(c.env).to.deep.equal([
      { name: 'DBT_PROFILES_DIR', value: '/config' },
      { name: 'HOME', value: '/tmp' },
      { name: 'FLEXCORE_RUN_ID', value: 'g3-0c6f1d6e' },
      { name: 'FLEXCORE_STEP', value: 'models' },
      { name: 'FLEXCORE_ATTEMPT', value: '2' },
      { name: 'FLEXCORE_CONFIG_FILE', value: '/flexcore/config/config.json' },
    ]);
    expect(pod.spec?.volumes).to.deep.equal([
      { name: 'scratch', emptyDir: { sizeLimit: '1Gi' } },
      {
        name: 'config',
        secret: {
          secretName: 'orders-g3-models-2',
          defaultMode: 0o440,
          items: [{ key: 'config.json', path: 'config.json' }],
        },
      },
    ]);
  });

  it('labels the Pod, merging podMetadata (plugin < pipeline < step) under FlexCore’s own labels', () => {
    const spoofing = pipeline({
      podMetadata: { labels: { team: 'pipeline', tier: 'pipeline' }, annotations: { note: 'pipeline' } },
      steps: [
        {
          name: 'models',
          plugin: 'dbt',
          podMetadata: {
            labels: { tier: 'step', 'app.kubernetes.io/managed-by': 'someone-else' },
            annotations: { 'flexcore.io/run-requested': 'x', 'kwok.flexcore.io/exit-code': '3' },
          },
        },
      ],
    });
    const withMeta = {
      ...dbt,
      spec: { ...dbt.spec, podMetadata: { labels: { team: 'plugin', origin: 'plugin' } } },
    };
    const pod = renderPod({ ...attempt(spoofing, 'models'), plugin: withMeta });
    expect(pod.metadata?.labels).to.deep.equal({
      team: 'pipeline',
      tier: 'step',
      origin: 'plugin',
      'app.kubernetes.io/managed-by': 'flexcore',
      'flexcore.io/pipeline': 'orders',
      'flexcore.io/pipeline-uid': UID,
      'flexcore.io/run': 'g3',
      'flexcore.io/step': 'models',
      'flexcore.io/attempt': '2',
      'flexcore.io/plugin': 'dbt',
    });
    expect(pod.metadata?.annotations).to.deep.equal({ note: 'pipeline', 'kwok.flexcore.io/exit-code': '3' });
  });

  it('passes Singer arguments to a lone tap after its own, keeping the image entrypoint', () => {
    const noCommand = plugin('tap-pg', { type: 'tap', image: 'example.com/tap:1', args: ['--verbose'] });
    const withState = renderPod({ ...attempt(p, 'extract', { singerState: { a: 1 } }), plugin: noCommand });
    const c = container(withState, 'plugin');
    expect(c).to.not.have.property('command');
    expect(c.args).to.deep.equal([
      '--verbose',
      '--config',
      '/flexcore/config/config.json',
      '--state',
      '/flexcore/config/state.json',
    ]);
    expect(withState.spec?.volumes?.[1]?.secret?.items).to.deep.equal([
      { key: 'config.json', path: 'config.json' },
      { key: 'state.json', path: 'state.json' },
    ]);
    const fresh = container(renderPod(attempt(p, 'extract')), 'plugin');
    expect(fresh.command).to.deep.equal(['tap-postgres']);
    expect(fresh.args).to.deep.equal(['--config', '/flexcore/config/config.json']);
  });

  it('renders a Singer pair as tap and target joined by the FIFO wrappers', () => {
    const pod = renderPod(attempt(p, 'load', { singerState: { bookmarks: {} } }));
    expect(pod.spec?.containers.map((c) => c.name)).to.deep.equal(['tap', 'target']);
    const t = container(pod, 'tap');
    const g = container(pod, 'target');
    expect(t.command).to.deep.equal([
      '/bin/sh',
      '-c',
      TAP_WRAPPER,
      'flexcore-tap',
      'tap-postgres',
      '--config',
      '/flexcore/config/config.json',
      '--state',
      '/flexcore/config/state.json',
    ]);
    expect(g.command).to.deep.equal([
      '/bin/sh',
      '-c',
      TARGET_WRAPPER,
      'flexcore-target',
      'target-jsonl',
      '--config',
      '/flexcore/config/target-config.json',
    ]);
    expect(t).to.not.have.property('args');
    expect(envOf(t).FLEXCORE_PIPE).to.equal('/flexcore/pipe/stream');
    expect(envOf(g).FLEXCORE_PIPE).to.equal('/flexcore/pipe/stream');
    expect(envOf(g).FLEXCORE_CONFIG_FILE).to.equal('/flexcore/config/target-config.json');
    expect(t.volumeMounts).to.deep.include({ name: 'pipe', mountPath: '/flexcore/pipe' });
    expect(g.volumeMounts).to.deep.include({ name: 'pipe', mountPath: '/flexcore/pipe' });
    // Each side sees only its own files.
    expect(t.volumeMounts).to.deep.include({ name: 'config', mountPath: '/flexcore/config', readOnly: true });
    expect(g.volumeMounts).to.deep.include({
      name: 'target-config',
      mountPath: '/flexcore/config',
      readOnly: true,
    });
    const volumes = Object.fromEntries((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
    expect(volumes['target-config']?.secret?.items).to.deep.equal([
      { key: 'target-config.json', path: 'target-config.json' },
    ]);
    expect(volumes.pipe).to.deep.equal({ name: 'pipe', emptyDir: { sizeLimit: '1Mi' } });
    // The target's writable path and its own user; the Pod runs as the tap's.
    expect(g.volumeMounts).to.deep.include({ name: 'target-writable-0', mountPath: '/data' });
    expect(t.volumeMounts?.map((m) => m.mountPath)).to.not.include('/data');
    expect(g.securityContext?.runAsUser).to.equal(1000);
    expect(t.securityContext?.runAsUser).to.equal(65532);
    expect(pod.spec?.securityContext).to.deep.equal({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      fsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.spec?.activeDeadlineSeconds).to.equal(600);
  });

  it('refuses a pair without a target plugin or with a command-less side', () => {
    const input = attempt(p, 'load');
    const { targetPlugin: _dropped, ...withoutTarget } = input;
    expect(() => renderPod(withoutTarget))
      .to.throw(/no target plugin/)
      .with.property('name', 'TerminalError');
    const bare = plugin('tap-pg', { type: 'tap', image: 'example.com/tap:1' });
    expect(() => renderPod({ ...input, plugin: bare }))
      .to.throw()
      .with.property('reason', 'CommandRequired');
  });

  describe('activeDeadlineSeconds', () => {
    const cases: { name: string; step?: number; plugin?: number; expected: number }[] = [
      { name: 'default', expected: 3600 },
      { name: 'plugin default', plugin: 120, expected: 120 },
      { name: 'step wins', step: 30, plugin: 120, expected: 30 },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const pl = plugin('dbt', { type: 'utility', image: 'x/y:1', defaults: { timeoutSeconds: c.plugin } });
        const pp = pipeline({ steps: [{ name: 's', plugin: 'dbt', timeoutSeconds: c.step }] });
        expect(renderPod({ ...attempt(pp, 's'), plugin: pl }).spec?.activeDeadlineSeconds).to.equal(
          c.expected,
        );
      });
    }
  });

  it('gives each writable path an emptyDir, leaving out /tmp and FlexCore’s own paths', () => {
    const pl = plugin('dbt', {
      type: 'utility',
      image: 'x/y:1',
      sandbox: { writablePaths: ['/data/', '/data', '/tmp', '/flexcore/pipe', '/home/app'], runAsUser: 4242 },
    });
    const pod = renderPod({ ...attempt(p, 'models'), plugin: pl });
    const c = container(pod, 'plugin');
    expect(c.volumeMounts?.map((m) => m.mountPath)).to.deep.equal([
      '/tmp',
      '/flexcore/config',
      '/data',
      '/home/app',
    ]);
    expect(pod.spec?.volumes?.slice(2)).to.deep.equal([
      { name: 'plugin-writable-0', emptyDir: { sizeLimit: '1Gi' } },
      { name: 'plugin-writable-1', emptyDir: { sizeLimit: '1Gi' } },
    ]);
    expect(pod.spec?.securityContext?.fsGroup).to.equal(4242);
    expect(c.securityContext?.runAsUser).to.equal(4242);
  });

  it('keeps FlexCore’s variables and sets HOME only when the plugin does not', () => {
    const pl = plugin('dbt', {
      type: 'utility',
      image: 'x/y:1',
      imagePullPolicy: 'IfNotPresent',
      env: [
        { name: 'FLEXCORE_STEP', value: 'spoofed' },
        { name: 'HOME', value: '/home/app' },
      ],
    });
    const c = container(renderPod({ ...attempt(p, 'models'), plugin: pl }), 'plugin');
    expect(envOf(c)).to.deep.include({ FLEXCORE_STEP: 'models', HOME: '/home/app' });
    expect(c.env?.filter((e) => e.name === 'FLEXCORE_STEP')).to.have.length(1);
    expect(c.imagePullPolicy).to.equal('IfNotPresent');
    expect(container(renderPod(attempt(p, 'models')), 'plugin')).to.not.have.property('imagePullPolicy');
  });

  it('merges resources field by field: defaults < plugin < step (the target: its own plugin)', () => {
    const pl = plugin('tap-pg', {
      type: 'tap',
      image: 'x/y:1',
      command: ['tap'],
      defaults: { resources: { requests: { cpu: '250m' }, limits: { memory: '1Gi' } } },
    });
    const pp = pipeline({
      steps: [
        {
          name: 'load',
          plugin: 'tap-pg',
          target: { plugin: 'target-jsonl' },
          resources: { limits: { cpu: 2 } },
        },
      ],
    });
    const pod = renderPod({ ...attempt(pp, 'load'), plugin: pl });
    expect(container(pod, 'tap').resources).to.deep.equal({
      requests: { cpu: '250m', memory: '128Mi', 'ephemeral-storage': '256Mi' },
      limits: { cpu: '2', memory: '1Gi', 'ephemeral-storage': '1Gi' },
    });
    expect(container(pod, 'target').resources).to.deep.equal(DEFAULT_RESOURCES);
  });

  describe('placement: node selection, tolerations, affinity, pull, priority, runtime, service account', () => {
    const gpuTap = plugin('tap-gpu', {
      type: 'tap',
      image: 'registry.a/tap:1',
      imagePullPolicy: 'IfNotPresent',
      command: ['tap'],
      defaults: {
        nodeSelector: { 'pool.example.com/kind': 'etl' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'etl', effect: 'NoSchedule' }],
        imagePullSecrets: [{ name: 'registry-a' }],
        priorityClassName: 'batch-low',
        runtimeClassName: 'gvisor',
        serviceAccountName: 'tap-reader',
        automountServiceAccountToken: true,
      },
    });
    const sink = plugin('sink', {
      type: 'target',
      image: 'registry.b/sink:1',
      command: ['sink'],
      defaults: {
        imagePullSecrets: [{ name: 'registry-b' }, { name: 'registry-a' }],
        runtimeClassName: 'kata',
      },
    });
    const affinity = {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 50,
            podAffinityTerm: {
              labelSelector: { matchLabels: { 'flexcore.io/pipeline': 'orders' } },
              topologyKey: 'kubernetes.io/hostname',
            },
          },
        ],
      },
    };
    const input = (step: Record<string, unknown>): AttemptInput => {
      const p = pipeline({
        steps: [{ name: 'load', plugin: 'tap-gpu', target: { plugin: 'sink' }, ...step }],
      });
      return { ...attempt(p, 'load'), plugin: gpuTap, targetPlugin: sink };
    };

    it('takes the plugin defaults, joins pull secrets of both sides, mounts a token only on opt-in', () => {
      const pod = renderPod(input({}));
      expect(pod.spec).to.deep.include({
        nodeSelector: { 'pool.example.com/kind': 'etl' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'etl', effect: 'NoSchedule' }],
        priorityClassName: 'batch-low',
        runtimeClassName: 'gvisor',
        imagePullSecrets: [{ name: 'registry-a' }, { name: 'registry-b' }],
        serviceAccountName: 'tap-reader',
        automountServiceAccountToken: true,
      });
      expect(container(pod, 'tap').imagePullPolicy).to.equal('IfNotPresent');
      expect(container(pod, 'target').imagePullPolicy).to.equal(undefined);
    });

    it('lets a step field replace the plugin’s whole, and the step’s pull policy apply to every container', () => {
      const pod = renderPod(
        input({
          nodeSelector: { 'kubernetes.io/arch': 'arm64' },
          tolerations: [],
          affinity,
          runtimeClassName: 'kata',
          imagePullPolicy: 'Always',
          imagePullSecrets: [{ name: 'step-only' }],
          serviceAccountName: 'other',
        }),
      );
      expect(pod.spec?.nodeSelector).to.deep.equal({ 'kubernetes.io/arch': 'arm64' });
      expect(pod.spec?.tolerations).to.deep.equal([]);
      expect(pod.spec?.affinity).to.deep.equal(affinity);
      expect(pod.spec?.runtimeClassName).to.equal('kata');
      expect(pod.spec?.imagePullSecrets?.map((x) => x.name)).to.deep.equal([
        'step-only',
        'registry-a',
        'registry-b',
      ]);
      // The account and its opt-in travel together: the step named an account without opting in.
      expect(pod.spec).to.include({ serviceAccountName: 'other', automountServiceAccountToken: false });
      for (const c of pod.spec!.containers) expect(c.imagePullPolicy, c.name).to.equal('Always');
    });

    it('without any of them: no token, no service account, nothing else added', () => {
      const p = pipeline({ steps: [{ name: 'models', plugin: 'dbt' }] });
      const spec = renderPod(attempt(p, 'models')).spec!;
      expect(spec.automountServiceAccountToken).to.equal(false);
      for (const f of [
        'nodeSelector',
        'tolerations',
        'affinity',
        'imagePullSecrets',
        'serviceAccountName',
        'priorityClassName',
        'runtimeClassName',
      ])
        expect(spec, f).to.not.have.property(f);
    });
  });

  it('is deterministic and leaves its input alone', () => {
    const input = attempt(p, 'load', { singerState: { bookmarks: { t: { v: 1 } } } });
    const before = structuredClone({ ...input, secrets: [...input.secrets] });
    expect(renderPod(input)).to.deep.equal(renderPod(input));
    expect(structuredClone({ ...input, secrets: [...input.secrets] })).to.deep.equal(before);
  });

  it('renders a discovery attempt: the tap alone, --discover behind the discovery wrapper, config only', () => {
    const tapPlugin = FlexPlugin.parse({
      apiVersion: 'flexcore.io/v1alpha1',
      kind: 'FlexPlugin',
      metadata: { name: 'tap-pg', namespace: 'data' },
      spec: {
        type: 'tap',
        image: 'example.com/tap:1',
        command: ['tap-postgres'],
        capabilities: ['catalog', 'discover', 'state'],
      },
    });
    const input = {
      ...attempt(p, 'load'),
      plugin: tapPlugin,
      discover: true,
      podName: 'x-g1-load-1-discover',
      secretName: 'x-g1-load-1-discover',
      singerState: { bookmarks: {} },
    };
    const pod = renderPod(input);
    expect(pod.spec?.containers.map((c) => c.name)).to.deep.equal(['discover']);
    const c = container(pod, 'discover');
    expect(c.command?.slice(0, 2)).to.deep.equal(['/bin/sh', '-c']);
    expect(c.command?.slice(3)).to.deep.equal([
      'flexcore-discover',
      'tap-postgres',
      '--config',
      '/flexcore/config/config.json',
      '--discover',
    ]);
    expect(c.env).to.deep.include({
      name: 'FLEXCORE_CATALOG_MARKER',
      value: '--- flexcore: catalog of x-g1-load-1-discover follows ---',
    });
    const config = renderAttemptConfig(input);
    expect('secret' in config && Object.keys(config.secret.data ?? {})).to.deep.equal(['config.json']);
    // The sync attempt after it: the final catalog in the Secret, beside config and state.
    const sync = renderAttemptConfig({
      ...input,
      discover: undefined,
      catalog: { content: { streams: [] }, flag: '--properties' },
    });
    expect('secret' in sync && Object.keys(sync.secret.data ?? {})).to.deep.equal([
      'config.json',
      'target-config.json',
      'state.json',
      'catalog.json',
    ]);
    expect('secret' in sync && sync.secret.data?.['catalog.json']).to.equal(
      Buffer.from('{"streams":[]}').toString('base64'),
    );
    const syncPod = renderPod({
      ...input,
      discover: undefined,
      catalog: { content: { streams: [] }, flag: '--properties' },
    });
    expect(container(syncPod, 'tap').command?.slice(-2)).to.deep.equal([
      '--properties',
      '/flexcore/config/catalog.json',
    ]);
  });

  it('renders the sample pipeline with the catalog plugins (given commands to wrap)', () => {
    const docs = (file: string): unknown[] =>
      parseAllDocuments(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')).map(
        (d) => d.toJS() as unknown,
      );
    const [tapPg, targetJsonl] = ['tap-postgres', 'target-jsonl'].map((n) => {
      const entry = FlexPlugin.parse(docs(`plugins/catalog/${n}.yaml`)[0]);
      return { ...entry, spec: { ...entry.spec, command: [n] } };
    }) as [FlexPlugin, FlexPlugin];
    const sample = docs('docs/samples/pipelines.yaml').find(
      (d) => (d as { metadata?: { name?: string } }).metadata?.name === 'orders-nightly',
    );
    const nightly = FlexPipeline.parse({
      ...(sample as object),
      metadata: { name: 'orders-nightly', namespace: 'data', uid: UID },
    });
    const catalog = { content: { streams: [] }, flag: '--catalog' as const };
    const input = { ...attempt(nightly, 'extract-load'), plugin: tapPg, targetPlugin: targetJsonl, catalog };
    const pod = renderPod(input);
    expect(pod.spec?.activeDeadlineSeconds).to.equal(3600);
    expect(container(pod, 'tap').resources).to.deep.equal({
      requests: { cpu: '250m', memory: '256Mi', 'ephemeral-storage': '256Mi' },
      limits: { cpu: '1', memory: '512Mi', 'ephemeral-storage': '1Gi' },
    });
    expect(container(pod, 'tap').command?.slice(3)).to.deep.equal([
      'flexcore-tap',
      'tap-postgres',
      '--config',
      '/flexcore/config/config.json',
      '--catalog',
      '/flexcore/config/catalog.json',
    ]);
    // The final catalog travels in the attempt's Secret, projected for the tap only.
    const volume = (name: string): V1Volume | undefined => pod.spec?.volumes?.find((v) => v.name === name);
    expect(volume('config')?.secret?.items?.map((i) => i.key)).to.deep.equal(['config.json', 'catalog.json']);
    expect(volume('target-config')?.secret?.items?.map((i) => i.key)).to.deep.equal(['target-config.json']);
    expect(container(pod, 'target').volumeMounts).to.deep.include.members([
      { name: 'target-writable-0', mountPath: '/data' },
      { name: 'target-v-out', mountPath: '/data/out' },
    ]);
  });
});

describe('mergeResources', () => {
  const cases: {
    name: string;
    layers: Parameters<typeof mergeResources>[0];
    requests?: Partial<Record<string, string>>;
    limits?: Partial<Record<string, string>>;
  }[] = [
    { name: 'no layers: the defaults', layers: [] },
    { name: 'numbers become strings', layers: [{ limits: { cpu: 2 } }], limits: { cpu: '2' } },
    {
      name: 'the later layer wins, field by field',
      layers: [{ requests: { cpu: '200m', memory: '1Gi' } }, { requests: { cpu: '300m' } }],
      requests: { cpu: '300m', memory: '1Gi' },
      limits: { memory: '1Gi' },
    },
    {
      name: 'a request above the default limit raises the limit',
      layers: [undefined, { requests: { memory: '2Gi' } }],
      requests: { memory: '2Gi' },
      limits: { memory: '2Gi' },
    },
    {
      name: 'a limit below the plugin’s request lowers the request',
      layers: [{ requests: { cpu: '500m' } }, { limits: { cpu: '200m' } }],
      requests: { cpu: '200m' },
      limits: { cpu: '200m' },
    },
    {
      name: 'one layer with request above limit: the limit follows',
      layers: [{ requests: { cpu: '2' }, limits: { cpu: '1500m' } }],
      requests: { cpu: '2' },
      limits: { cpu: '2' },
    },
    {
      name: 'a limit below a default request lowers the request',
      layers: [{ limits: { memory: '64Mi' } }],
      requests: { memory: '64Mi' },
      limits: { memory: '64Mi' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(mergeResources(c.layers)).to.deep.equal({
        requests: { ...DEFAULT_RESOURCES.requests, ...c.requests },
        limits: { ...DEFAULT_RESOURCES.limits, ...c.limits },
      });
    });
  }
});

describe('parseQuantity', () => {
  const cases: [string | number, number | undefined][] = [
    ['1', 1],
    ['500m', 0.5],
    ['1.5', 1.5],
    ['128Mi', 128 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['2G', 2e9],
    ['1e3', 1000],
    ['.5', 0.5],
    [3, 3],
    ['abc', undefined],
    ['1Xi', undefined],
  ];
  for (const [text, value] of cases) {
    it(`${String(text)} → ${String(value)}`, () => expect(parseQuantity(text)).to.equal(value));
  }
});

/** Runs the wrapper script with /bin/sh as the container would, FIFO in a temporary directory. */
function runWrapper(
  script: string,
  argv: string[],
  pipe: string,
  cwd: string,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn('/bin/sh', ['-c', script, 'flexcore-test', ...argv], {
    cwd,
    env: { PATH: process.env.PATH, FLEXCORE_PIPE: pipe },
    stdio: ['ignore', 'ignore', 'pipe'],
    // A broken wrapper blocks on the FIFO forever: end it so the test fails instead of hanging.
    timeout: 5000,
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

describe('the Singer FIFO wrappers (run with /bin/sh)', function () {
  this.timeout(10_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flexcore-fifo-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const order of ['tap first', 'target first'] as const) {
    it(`streams the tap’s stdout into the target’s stdin and keeps each exit code (${order})`, async () => {
      const pipe = join(dir, 'stream');
      const tapRun = (): ReturnType<typeof runWrapper> =>
        runWrapper(TAP_WRAPPER, ['sh', '-c', 'echo one; echo two; exit 3'], pipe, dir);
      const targetRun = (): ReturnType<typeof runWrapper> =>
        runWrapper(TARGET_WRAPPER, ['sh', '-c', 'cat > got; echo eof >> got; exit 4'], pipe, dir);
      const [first, second] = order === 'tap first' ? [tapRun(), targetRun()] : [targetRun(), tapRun()];
      const [a, b] = await Promise.all([first, second]);
      const [tapResult, targetResult] = order === 'tap first' ? [a, b] : [b, a];
      expect(tapResult.code).to.equal(3);
      expect(targetResult.code).to.equal(4);
      expect(readFileSync(join(dir, 'got'), 'utf8')).to.equal('one\ntwo\neof\n');
    });
  }

  it('passes arguments verbatim: no shell expansion of config or args', async () => {
    const pipe = join(dir, 'stream');
    const hostile = ['$(touch pwned)', '`touch pwned`', "'; touch pwned; '", 'a b\nc', '$HOME', '*'];
    const [tapResult] = await Promise.all([
      runWrapper(TAP_WRAPPER, ['printf', '%s|', ...hostile], pipe, dir),
      runWrapper(TARGET_WRAPPER, ['sh', '-c', 'cat > got'], pipe, dir),
    ]);
    expect(tapResult.code).to.equal(0);
    expect(readFileSync(join(dir, 'got'), 'utf8')).to.equal(hostile.map((h) => `${h}|`).join(''));
    expect(() => readFileSync(join(dir, 'pwned'))).to.throw(/ENOENT/);
  });

  it('lets the target see EOF when the tap cannot even start', async () => {
    const pipe = join(dir, 'stream');
    const [tapResult, targetResult] = await Promise.all([
      runWrapper(TAP_WRAPPER, ['no-such-tap-binary'], pipe, dir),
      runWrapper(TARGET_WRAPPER, ['sh', '-c', 'cat > got'], pipe, dir),
    ]);
    expect(tapResult.code).to.equal(127);
    expect(targetResult.code).to.equal(0);
    expect(readFileSync(join(dir, 'got'), 'utf8')).to.equal('');
  });

  it(`exits ${WRAPPER_FAILED_EXIT_CODE} when the FIFO path is taken by something else`, async () => {
    const pipe = join(dir, 'stream');
    writeFileSync(pipe, 'not a fifo');
    const result = await runWrapper(TAP_WRAPPER, ['true'], pipe, dir);
    expect(result.code).to.equal(WRAPPER_FAILED_EXIT_CODE);
    expect(result.stderr).to.include('cannot create the FIFO');
  });
});
