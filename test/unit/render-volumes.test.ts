/**
 * User volumes on plugin containers: how they are merged and rendered into the attempt Pod,
 * when they conflict with the sandbox, and which the schema refuses (`flexcore validate`, with
 * the same rules emitted as CEL in the CRDs).
 */
import { expect } from 'chai';
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { FlexPipeline, FlexPlugin, type PluginVolume, type Step } from '../../api/v1alpha1/index.js';
import { validateManifest } from '../../api/v1alpha1/validate.js';
import type { AttemptInput } from '../../controller/pipeline/render/attempt-input.js';
import type { ConfigProblem } from '../../controller/pipeline/render/config-problem.js';
import { renderAttemptConfig } from '../../controller/pipeline/render/config.js';
import { renderPod } from '../../controller/pipeline/render/pod.js';
import { mergeVolumes, volumeProblems } from '../../controller/pipeline/render/user-volumes.js';
import { generateCrds } from '../../hack/codegen/crds.js';

const UID = '5e0b3f0a-1c2d-4e5f-8a9b-0c1d2e3f4a5b';

function plugin(name: string, spec: Record<string, unknown>): FlexPlugin {
  return FlexPlugin.parse({
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPlugin',
    metadata: { name },
    spec,
  });
}

const dbt = plugin('dbt', {
  type: 'transformer',
  image: 'example.com/dbt:1',
  command: ['dbt'],
  sandbox: { writablePaths: ['/work'] },
  defaults: {
    volumes: [
      { name: 'project', mountPath: '/project', configMap: { name: 'dbt-project' } },
      { name: 'artifacts', mountPath: '/artifacts', persistentVolumeClaim: { claimName: 'dbt-artifacts' } },
    ],
  },
});
const bare = plugin('bare', { type: 'utility', image: 'example.com/bare:1' });
const tap = plugin('tap-pg', {
  type: 'tap',
  image: 'example.com/tap:1',
  command: ['tap-postgres'],
  args: ['--settings-file', '/catalog/settings.json'],
  defaults: { volumes: [{ name: 'catalog', mountPath: '/catalog', configMap: { name: 'default-catalog' } }] },
});
const target = plugin('target-jsonl', {
  type: 'target',
  image: 'example.com/target:1',
  command: ['target-jsonl'],
  sandbox: { writablePaths: ['/scratch'] },
  defaults: {
    volumes: [{ name: 'out', mountPath: '/out', persistentVolumeClaim: { claimName: 'default-out' } }],
  },
});
const PLUGINS = new Map([dbt, bare, tap, target].map((x) => [x.metadata.name ?? '', x]));

/** The attempt of a one-step pipeline; `plugins` replaces catalog entries by name. */
function attempt(step: Record<string, unknown>, ...plugins: FlexPlugin[]): AttemptInput {
  const byName = new Map([...PLUGINS, ...plugins.map((x) => [x.metadata.name ?? '', x] as const)]);
  const pipeline = FlexPipeline.parse({
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPipeline',
    metadata: { name: 'orders', namespace: 'data', uid: UID },
    spec: { steps: [{ name: 'run', ...step }] },
  });
  const s = pipeline.spec.steps[0] as Step;
  const targetPlugin = s.target ? byName.get(s.target.plugin) : undefined;
  return {
    pipeline,
    step: s,
    plugin: byName.get(s.plugin) as FlexPlugin,
    ...(targetPlugin ? { targetPlugin } : {}),
    runId: 'g1-5e0b3f0a',
    runKey: 'g1',
    attempt: 1,
    podName: 'orders-g1-run-1',
    secretName: 'orders-g1-run-1',
    secrets: new Map(),
  };
}

function container(pod: V1Pod, name: string): V1Container {
  const found = pod.spec?.containers.find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name}`);
  return found;
}

/** The Pod volumes that come from user volumes (FlexCore's own never have `-v-` in the name). */
function userVolumes(pod: V1Pod): V1Volume[] {
  return (pod.spec?.volumes ?? []).filter((v) => v.name.includes('-v-'));
}

function problems(input: AttemptInput): ConfigProblem[] {
  const result = renderAttemptConfig(input);
  return 'problems' in result ? result.problems : [];
}

describe('user volumes: rendering', () => {
  it('renders a claim and a ConfigMap as Pod volumes named <container>-v-<name>, mounted as asked', () => {
    const pod = renderPod(
      attempt({
        plugin: 'bare',
        volumes: [
          {
            name: 'out',
            mountPath: '/out',
            subPath: 'runs/orders',
            persistentVolumeClaim: { claimName: 'orders-out' },
          },
          { name: 'catalog', mountPath: '/catalog', configMap: { name: 'orders-catalog', optional: true } },
        ],
      }),
    );
    expect(userVolumes(pod)).to.deep.equal([
      { name: 'plugin-v-out', persistentVolumeClaim: { claimName: 'orders-out' } },
      { name: 'plugin-v-catalog', configMap: { name: 'orders-catalog', optional: true } },
    ]);
    const mounts = container(pod, 'plugin').volumeMounts ?? [];
    expect(mounts.filter((m) => m.name.includes('-v-'))).to.deep.equal([
      { name: 'plugin-v-out', mountPath: '/out', subPath: 'runs/orders' },
      { name: 'plugin-v-catalog', mountPath: '/catalog', readOnly: true },
    ]);
    // FlexCore's own mounts are still there, first.
    expect(mounts.slice(0, 2).map((m) => m.mountPath)).to.deep.equal(['/tmp', '/flexcore/config']);
  });

  it('mounts a ConfigMap read-only even when readOnly says false, a claim only when asked', () => {
    const pod = renderPod(
      attempt({
        plugin: 'bare',
        volumes: [
          { name: 'ro', mountPath: '/ro', readOnly: true, persistentVolumeClaim: { claimName: 'shared' } },
          { name: 'cm', mountPath: '/cm', readOnly: false, configMap: { name: 'settings' } },
        ],
      }),
    );
    expect(userVolumes(pod)).to.deep.equal([
      { name: 'plugin-v-ro', persistentVolumeClaim: { claimName: 'shared', readOnly: true } },
      { name: 'plugin-v-cm', configMap: { name: 'settings' } },
    ]);
    expect(container(pod, 'plugin').volumeMounts?.filter((m) => m.name.includes('-v-'))).to.deep.equal([
      { name: 'plugin-v-ro', mountPath: '/ro', readOnly: true },
      { name: 'plugin-v-cm', mountPath: '/cm', readOnly: true },
    ]);
  });

  it('adds nothing for a plugin and a step without volumes', () => {
    const pod = renderPod(attempt({ plugin: 'bare' }));
    expect(userVolumes(pod)).to.deep.equal([]);
    expect(pod.spec?.volumes?.map((v) => v.name)).to.deep.equal(['scratch', 'config']);
  });
});

describe('user volumes: plugin defaults and the step', () => {
  it('takes the plugin’s defaults when the step has none', () => {
    const pod = renderPod(attempt({ plugin: 'dbt' }));
    expect(userVolumes(pod)).to.deep.equal([
      { name: 'plugin-v-project', configMap: { name: 'dbt-project' } },
      { name: 'plugin-v-artifacts', persistentVolumeClaim: { claimName: 'dbt-artifacts' } },
    ]);
  });

  it('lets a step entry replace the plugin’s entry of the same name, keeping the others', () => {
    const pod = renderPod(
      attempt({
        plugin: 'dbt',
        volumes: [
          { name: 'project', mountPath: '/src', configMap: { name: 'orders-project' } },
          { name: 'seeds', mountPath: '/seeds', configMap: { name: 'orders-seeds' } },
        ],
      }),
    );
    expect(userVolumes(pod)).to.deep.equal([
      { name: 'plugin-v-project', configMap: { name: 'orders-project' } },
      { name: 'plugin-v-artifacts', persistentVolumeClaim: { claimName: 'dbt-artifacts' } },
      { name: 'plugin-v-seeds', configMap: { name: 'orders-seeds' } },
    ]);
    const mountPaths = container(pod, 'plugin').volumeMounts?.map((m) => m.mountPath);
    expect(mountPaths).to.include.members(['/src', '/artifacts', '/seeds']);
    expect(mountPaths).to.not.include('/project');
  });

  describe('mergeVolumes', () => {
    const v = (name: string, mountPath: string): PluginVolume => ({
      name,
      mountPath,
      persistentVolumeClaim: { claimName: name },
    });
    const cases: {
      name: string;
      defaults?: PluginVolume[];
      overrides?: PluginVolume[];
      expected: PluginVolume[];
    }[] = [
      { name: 'neither', expected: [] },
      {
        name: 'defaults only',
        defaults: [v('a', '/a'), v('b', '/b')],
        expected: [v('a', '/a'), v('b', '/b')],
      },
      { name: 'overrides only', overrides: [v('a', '/a')], expected: [v('a', '/a')] },
      {
        name: 'an override keeps the default’s place; new ones follow',
        defaults: [v('a', '/a'), v('b', '/b')],
        overrides: [v('c', '/c'), v('a', '/x')],
        expected: [v('a', '/x'), v('b', '/b'), v('c', '/c')],
      },
    ];
    for (const c of cases) {
      it(c.name, () => expect(mergeVolumes(c.defaults, c.overrides)).to.deep.equal(c.expected));
    }
  });
});

describe('user volumes: a Singer pair', () => {
  const input = attempt({
    plugin: 'tap-pg',
    volumes: [{ name: 'out', mountPath: '/tap-out', persistentVolumeClaim: { claimName: 'tap-debug' } }],
    target: {
      plugin: 'target-jsonl',
      volumes: [{ name: 'out', mountPath: '/data', persistentVolumeClaim: { claimName: 'orders-out' } }],
    },
  });
  const pod = renderPod(input);

  it('gives the tap its plugin’s defaults and the step’s volumes', () => {
    expect(container(pod, 'tap').volumeMounts?.filter((m) => m.name.includes('-v-'))).to.deep.equal([
      { name: 'tap-v-catalog', mountPath: '/catalog', readOnly: true },
      { name: 'tap-v-out', mountPath: '/tap-out' },
    ]);
    // The plugin's args point into the ConfigMap; the Singer arguments follow them.
    expect(container(pod, 'tap').command?.slice(4, 7)).to.deep.equal([
      'tap-postgres',
      '--settings-file',
      '/catalog/settings.json',
    ]);
  });

  it('gives the target step.target.volumes over its own plugin’s defaults, never the step’s', () => {
    expect(container(pod, 'target').volumeMounts?.filter((m) => m.name.includes('-v-'))).to.deep.equal([
      { name: 'target-v-out', mountPath: '/data' },
    ]);
  });

  it('names the Pod volumes after the container, so the same name on both sides does not clash', () => {
    expect(userVolumes(pod)).to.deep.equal([
      { name: 'tap-v-catalog', configMap: { name: 'default-catalog' } },
      { name: 'tap-v-out', persistentVolumeClaim: { claimName: 'tap-debug' } },
      { name: 'target-v-out', persistentVolumeClaim: { claimName: 'orders-out' } },
    ]);
    const names = (pod.spec?.volumes ?? []).map((v) => v.name);
    expect(new Set(names).size).to.equal(names.length);
  });

  it('gives the target its plugin’s defaults when step.target has no volumes', () => {
    const plain = renderPod(attempt({ plugin: 'tap-pg', target: { plugin: 'target-jsonl' } }));
    expect(userVolumes(plain).filter((v) => v.name.startsWith('target-'))).to.deep.equal([
      { name: 'target-v-out', persistentVolumeClaim: { claimName: 'default-out' } },
    ]);
  });
});

describe('user volumes: VolumeConflict', () => {
  const cases: { name: string; input: AttemptInput; expected: Partial<ConfigProblem>[] }[] = [
    {
      name: 'a step volume at one of the plugin’s writablePaths',
      input: attempt({
        plugin: 'dbt',
        volumes: [{ name: 'scratch', mountPath: '/work', persistentVolumeClaim: { claimName: 'w' } }],
      }),
      expected: [{ reason: 'VolumeConflict', part: 'step', plugin: 'dbt' }],
    },
    {
      name: 'a plugin default and a step entry of another name at one path',
      input: attempt(
        {
          plugin: 'bare',
          volumes: [{ name: 'b', mountPath: '/x', persistentVolumeClaim: { claimName: 'b' } }],
        },
        plugin('bare', {
          type: 'utility',
          image: 'example.com/bare:1',
          defaults: { volumes: [{ name: 'a', mountPath: '/x', configMap: { name: 'a' } }] },
        }),
      ),
      expected: [{ reason: 'VolumeConflict', part: 'step', plugin: 'bare' }],
    },
    {
      name: 'a target volume at the target plugin’s writablePaths',
      input: attempt({
        plugin: 'tap-pg',
        target: {
          plugin: 'target-jsonl',
          volumes: [{ name: 'tmp', mountPath: '/scratch', persistentVolumeClaim: { claimName: 'w' } }],
        },
      }),
      expected: [{ reason: 'VolumeConflict', part: 'target', plugin: 'target-jsonl' }],
    },
    {
      name: 'a plugin default at its own writablePaths',
      input: attempt(
        { plugin: 'bare' },
        plugin('bare', {
          type: 'utility',
          image: 'example.com/bare:1',
          sandbox: { writablePaths: ['/cache'] },
          defaults: { volumes: [{ name: 'cache', mountPath: '/cache', configMap: { name: 'c' } }] },
        }),
      ),
      expected: [{ reason: 'VolumeConflict', part: 'step', plugin: 'bare' }],
    },
    {
      name: 'none below a writable path, nor for the other side’s writable path',
      input: attempt({
        plugin: 'tap-pg',
        volumes: [{ name: 'x', mountPath: '/scratch', persistentVolumeClaim: { claimName: 'w' } }],
        target: {
          plugin: 'target-jsonl',
          volumes: [{ name: 'x', mountPath: '/scratch/sub', persistentVolumeClaim: { claimName: 'w' } }],
        },
      }),
      expected: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const found = problems(c.input);
      expect(found).to.have.length(c.expected.length);
      c.expected.forEach((e, i) => expect(found[i]).to.deep.include(e));
      expect(volumeProblems(c.input)).to.deep.equal(found);
    });
  }

  it('names the volume and its mountPath in the message', () => {
    const [p] = problems(
      attempt({
        plugin: 'dbt',
        volumes: [{ name: 'warehouse', mountPath: '/work', persistentVolumeClaim: { claimName: 'w' } }],
      }),
    );
    expect(p?.message).to.include('"warehouse"').and.include('/work').and.include('writablePaths');
  });
});

describe('user volumes: Pod Security "restricted"', () => {
  /** Volume types the "restricted" profile allows (https://kubernetes.io/docs/concepts/security/pod-security-standards/). */
  const ALLOWED = [
    'configMap',
    'csi',
    'downwardAPI',
    'emptyDir',
    'ephemeral',
    'persistentVolumeClaim',
    'projected',
    'secret',
  ];
  const pod = renderPod(
    attempt({
      plugin: 'tap-pg',
      volumes: [
        { name: 'state', mountPath: '/state', readOnly: true, persistentVolumeClaim: { claimName: 's' } },
      ],
      target: {
        plugin: 'target-jsonl',
        volumes: [
          { name: 'out', mountPath: '/data', subPath: 'orders', persistentVolumeClaim: { claimName: 'o' } },
          { name: 'schema', mountPath: '/schema', configMap: { name: 'schema' } },
        ],
      },
    }),
  );

  it('has only volume types the profile allows, one source each', () => {
    const volumes = pod.spec?.volumes ?? [];
    // The tap's catalog and state; the target's out (replacing its plugin's) and schema.
    expect(userVolumes(pod).map((v) => v.name)).to.deep.equal([
      'tap-v-catalog',
      'tap-v-state',
      'target-v-out',
      'target-v-schema',
    ]);
    for (const v of volumes) {
      const sources = Object.keys(v).filter((k) => k !== 'name');
      expect(sources, v.name).to.have.length(1);
      expect(ALLOWED, v.name).to.include(sources[0]);
    }
  });

  it('mounts only volumes of the Pod, each container at distinct paths', () => {
    const names = new Set((pod.spec?.volumes ?? []).map((v) => v.name));
    for (const c of pod.spec?.containers ?? []) {
      const mounts = c.volumeMounts ?? [];
      for (const m of mounts) expect(names, `${c.name}: ${m.name}`).to.include(m.name);
      const paths = mounts.map((m) => m.mountPath);
      expect(new Set(paths).size, c.name).to.equal(paths.length);
    }
  });
});

describe('volume rules (flexcore validate)', () => {
  const pvc = { claimName: 'orders-out' };
  const pipelineWith = (volumes: unknown[], where: 'step' | 'target'): unknown => ({
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPipeline',
    metadata: { name: 'p' },
    spec: {
      steps: [
        where === 'step'
          ? { name: 'a', plugin: 'tap', volumes }
          : { name: 'a', plugin: 'tap', target: { plugin: 'target', volumes } },
      ],
    },
  });
  const pluginWith = (volumes: unknown[]): unknown => ({
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPlugin',
    metadata: { name: 'x' },
    spec: { type: 'tap', image: 'x/y:1', defaults: { volumes } },
  });
  const problemsOf = (doc: unknown): { path: string; message: string }[] => {
    const v = validateManifest(doc);
    return v.kind === 'checked' ? v.problems : [];
  };

  it('accepts claims and ConfigMaps on plugin defaults, a step and a step’s target', () => {
    const volumes = [
      { name: 'out', mountPath: '/data', subPath: 'orders/v1..2', persistentVolumeClaim: pvc },
      { name: 'catalog', mountPath: '/catalog', configMap: { name: 'c', optional: true } },
      // Only /tmp and /flexcore themselves and what is below them are reserved.
      { name: 'near', mountPath: '/tmpfiles', configMap: { name: 'n' } },
      { name: 'also', mountPath: '/flexcore-data', persistentVolumeClaim: pvc },
    ];
    expect(problemsOf(pluginWith(volumes))).to.deep.equal([]);
    expect(problemsOf(pipelineWith(volumes, 'step'))).to.deep.equal([]);
    expect(problemsOf(pipelineWith(volumes, 'target'))).to.deep.equal([]);
  });

  const cases: { name: string; volumes: unknown[]; path: string; message: RegExp }[] = [
    {
      name: 'both a claim and a ConfigMap',
      volumes: [{ name: 'v', mountPath: '/d', persistentVolumeClaim: pvc, configMap: { name: 'c' } }],
      path: 'volumes[0]',
      message: /exactly one of persistentVolumeClaim or configMap/,
    },
    {
      name: 'neither a claim nor a ConfigMap',
      volumes: [{ name: 'v', mountPath: '/d' }],
      path: 'volumes[0]',
      message: /exactly one of persistentVolumeClaim or configMap/,
    },
    ...['/tmp', '/tmp/x', '/flexcore', '/flexcore/x', '/flexcore/config'].map((mountPath) => ({
      name: `mountPath ${mountPath}`,
      volumes: [{ name: 'v', mountPath, persistentVolumeClaim: pvc }],
      path: 'volumes[0].mountPath',
      message: /must not be \/tmp or \/flexcore/,
    })),
    ...['/data/', '//', '/x/../tmp', '/d/./e', '/d//e'].map((mountPath) => ({
      name: `mountPath ${mountPath} (not in normal form)`,
      volumes: [{ name: 'v', mountPath, persistentVolumeClaim: pvc }],
      path: 'volumes[0].mountPath',
      message: /absolute path without/,
    })),
    {
      name: 'a relative mountPath',
      volumes: [{ name: 'v', mountPath: 'data', persistentVolumeClaim: pvc }],
      path: 'volumes[0].mountPath',
      message: /absolute path/,
    },
    ...['..', '../etc', 'a/../../b', 'a/..'].map((subPath) => ({
      name: `subPath ${subPath}`,
      volumes: [{ name: 'v', mountPath: '/d', subPath, persistentVolumeClaim: pvc }],
      path: 'volumes[0].subPath',
      message: /\.\./,
    })),
    {
      name: 'an absolute subPath',
      volumes: [{ name: 'v', mountPath: '/d', subPath: '/etc', persistentVolumeClaim: pvc }],
      path: 'volumes[0].subPath',
      message: /relative path/,
    },
    {
      name: 'two volumes at one mountPath',
      volumes: [
        { name: 'a', mountPath: '/d', persistentVolumeClaim: pvc },
        { name: 'b', mountPath: '/d', configMap: { name: 'c' } },
      ],
      path: 'volumes',
      message: /mountPath of its own/,
    },
    {
      name: 'two volumes of one name',
      volumes: [
        { name: 'a', mountPath: '/d', persistentVolumeClaim: pvc },
        { name: 'a', mountPath: '/e', configMap: { name: 'c' } },
      ],
      path: 'volumes[1].name',
      message: /duplicate name "a"/,
    },
    {
      name: 'a hostPath (not a field)',
      volumes: [{ name: 'v', mountPath: '/d', persistentVolumeClaim: pvc, hostPath: { path: '/etc' } }],
      path: 'volumes[0].hostPath',
      message: /unknown field/,
    },
    {
      name: 'a claim name that is no DNS subdomain',
      volumes: [{ name: 'v', mountPath: '/d', persistentVolumeClaim: { claimName: 'Orders_Out' } }],
      path: 'volumes[0].persistentVolumeClaim.claimName',
      message: /DNS subdomain/,
    },
    {
      name: 'a volume name longer than 40 characters',
      volumes: [{ name: 'v'.repeat(41), mountPath: '/d', persistentVolumeClaim: pvc }],
      path: 'volumes[0].name',
      message: /40/,
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}, wherever the list is`, () => {
      const at: [unknown, string][] = [
        [pluginWith(c.volumes), `spec.defaults.${c.path}`],
        [pipelineWith(c.volumes, 'step'), `spec.steps[0].${c.path}`],
        [pipelineWith(c.volumes, 'target'), `spec.steps[0].target.${c.path}`],
      ];
      for (const [doc, path] of at) {
        const found = problemsOf(doc);
        expect(found, path).to.have.length(1);
        expect(found[0]?.path).to.equal(path);
        expect(found[0]?.message).to.match(c.message);
      }
    });
  }

  it('are in the CRDs too (CEL rules, patterns), wherever volumes appear', () => {
    type Node = {
      properties?: Record<string, Node>;
      items?: Node;
      pattern?: string;
      'x-kubernetes-validations'?: unknown[];
    };
    const crd = (file: string): Node => {
      const text = generateCrds().get(file) ?? '';
      const doc = parse(text) as { spec: { versions: { schema: { openAPIV3Schema: Node } }[] } };
      return doc.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!;
    };
    const pluginSpec = crd('flexcore.io_flexplugins.yaml');
    const step = crd('flexcore.io_flexpipelines.yaml').properties!.steps!.items!;
    const lists = [
      pluginSpec.properties!.defaults!.properties!.volumes!,
      step.properties!.volumes!,
      step.properties!.target!.properties!.volumes!,
    ];
    const messages = (n: Node): unknown[] =>
      (n['x-kubernetes-validations'] ?? []).map((r) => (r as { message: string }).message);
    for (const list of lists) {
      expect(messages(list)).to.include.members(['each volume needs a mountPath of its own']);
      expect(messages(list.items!)).to.include.members([
        'set exactly one of persistentVolumeClaim or configMap',
        'mountPath must not be /tmp or /flexcore or below them: FlexCore mounts its own volumes there',
      ]);
      // `..` in a subPath: refused by the field's pattern or by a rule of its own.
      const subPath = list.items!.properties!.subPath!;
      const byPattern = subPath.pattern !== undefined && !new RegExp(subPath.pattern).test('a/../b');
      const byRule = messages(list.items!).some((m) => String(m).includes('subPath must not contain ..'));
      expect(byPattern || byRule, 'the apiserver refuses a subPath with ..').to.equal(true);
      expect(new RegExp(subPath.pattern ?? '.*').test('orders/2026'), 'a plain subPath').to.equal(true);
      expect(list.items!.properties).to.not.have.property('hostPath');
    }
  });
});
