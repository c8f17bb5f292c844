/**
 * The Helm chart, offline: `helm lint --strict` and helm-unittest pass; every values file in
 * charts/flexcore/ci/ renders and passes kubeconform -strict against the Kubernetes schemas of
 * the test plane's own version (made from its OpenAPI document) and our CRD schemas; a bad
 * values file fails naming the field; rendering is deterministic (no lookup, no random values).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gitopsTools, type GitopsTools } from '../../hack/plane/tools.js';
import { Helm } from '../e2e/support/helm.js';
import { writeKubeJsonSchemas } from './support/kube-json-schemas.js';
import { sharedPlane } from './support/plane.js';

const execFileP = promisify(execFile);
const CHART = fileURLToPath(new URL('../../charts/flexcore', import.meta.url));
const CI_VALUES = join(CHART, 'ci');
const CLI = fileURLToPath(new URL('../../controller/cli/flexcore.mjs', import.meta.url));
const SAMPLES = fileURLToPath(new URL('../../docs/samples/pipelines.yaml', import.meta.url));

describe('the Helm chart, offline', function () {
  this.timeout(300_000);
  let tools: GitopsTools;
  let helm: Helm;
  let dir: string;
  let kubeVersion: string;

  before(async () => {
    tools = await gitopsTools();
    helm = await Helm.create(tools.helm, undefined, tools.helmPlugins);
    dir = await mkdtemp(join(tmpdir(), 'flexcore-chart-'));
    // The Kubernetes schemas of the version users of this plane run, from its own OpenAPI document.
    const plane = await sharedPlane();
    const version = JSON.parse(await plane.kubectl(['version', '-o', 'json'])) as {
      serverVersion: { gitVersion: string };
    };
    kubeVersion = version.serverVersion.gitVersion.replace(/^v/, '');
    const openapi = JSON.parse(await plane.kubectl(['get', '--raw', '/openapi/v2'])) as {
      definitions: Record<string, Record<string, unknown>>;
    };
    expect(await writeKubeJsonSchemas(join(dir, 'kube'), kubeVersion, openapi)).to.be.greaterThan(100);
    await execFileP(process.execPath, [CLI, 'schemas', join(dir, 'crds')]);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const valuesFiles = async (): Promise<string[]> =>
    (await readdir(CI_VALUES)).filter((f) => f.endsWith('.yaml')).sort();

  const kubeconform = async (file: string): Promise<{ code: number; out: string }> => {
    const args = [
      '-strict',
      '-summary',
      '-output',
      'text',
      '-kubernetes-version',
      kubeVersion,
      '-schema-location',
      join(dir, 'kube'),
      '-schema-location',
      `${join(dir, 'crds')}/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`,
      // The Prometheus Operator's CRDs are not on this plane: their schemas are not available offline.
      '-skip',
      'ServiceMonitor,PrometheusRule',
      file,
    ];
    try {
      const { stdout } = await execFileP(tools.kubeconform, args);
      return { code: 0, out: stdout };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  };

  it('passes helm lint --strict with every values file in ci/', async () => {
    const files = await valuesFiles();
    expect(files).to.include.members([
      'default-values.yaml',
      'evaluation-values.yaml',
      'namespaced-values.yaml',
    ]);
    for (const f of files) {
      const out = await helm.run(['lint', '--strict', CHART, '-f', join(CI_VALUES, f)]);
      expect(out, f).to.contain('0 chart(s) failed');
    }
  });

  it('passes its helm-unittest suites', async () => {
    const out = await helm.run(['unittest', '--color=false', CHART]);
    expect(out).to.match(/Tests:\s+\d+ passed/);
    expect(out).to.not.match(/failed/i);
  });

  it('renders every values file in ci/ into manifests kubeconform -strict accepts', async () => {
    for (const f of await valuesFiles()) {
      const rendered = join(dir, `${f}.rendered.yaml`);
      await writeFile(
        rendered,
        await helm.run(['template', 'flexcore', CHART, '-n', 'flexcore-system', '-f', join(CI_VALUES, f)]),
      );
      const { code, out } = await kubeconform(rendered);
      expect(code, `${f}:\n${out}`).to.equal(0);
      expect(out).to.match(/Invalid: 0, Errors: 0/);
    }
  });

  it('kubeconform with these schemas does refuse what the apiserver would (the check can fail)', async () => {
    const rendered = await helm.run([
      'template',
      'flexcore',
      CHART,
      '-f',
      join(CI_VALUES, 'default-values.yaml'),
    ]);
    const broken = join(dir, 'broken.yaml');
    await writeFile(
      broken,
      rendered.replace('terminationGracePeriodSeconds: 30', 'terminationGracePeriod: 30'),
    );
    const { code, out } = await kubeconform(broken);
    expect(code).to.not.equal(0);
    expect(out).to.contain("additional properties 'terminationGracePeriod' not allowed");
    // Our CRD schemas too: the sample pipelines pass, a misspelt field does not.
    expect((await kubeconform(SAMPLES)).code, 'docs/samples').to.equal(0);
    const sample = join(dir, 'sample.yaml');
    await writeFile(sample, (await readFile(SAMPLES, 'utf8')).replace(/dependsOn:/, 'dependOn:'));
    const refused = await kubeconform(sample);
    expect(refused.code).to.not.equal(0);
    expect(refused.out).to.contain('dependOn');
  });

  it('refuses a bad values file, naming the field', async () => {
    const db = ['--set', 'database.existingSecret=db'];
    const typo = join(dir, 'typo.yaml');
    await writeFile(typo, 'replicas: 2\nimage:\n  tags: latest\n');
    const typoOut = await helm.failure(['template', 'x', CHART, ...db, '-f', typo]);
    expect(typoOut).to.contain("additional properties 'replicas' not allowed");
    expect(typoOut).to.contain("at '/image': additional properties 'tags' not allowed");
    const typeOut = await helm.failure(['template', 'x', CHART, ...db, '--set', 'replicaCount=two']);
    expect(typeOut).to.contain("at '/replicaCount': got string, want integer");
    const enumOut = await helm.failure(['template', 'x', CHART, ...db, '--set', 'api.auth=basic']);
    expect(enumOut).to.contain('/api/auth');
    const noDb = await helm.failure(['template', 'x', CHART]);
    expect(noDb).to.contain('database.existingSecret: name the Secret holding the PostgreSQL URL');
  });

  it('renders deterministically: no lookup, no random or time functions', async () => {
    const templates = join(CHART, 'templates');
    const names = await readdir(templates, { recursive: true });
    for (const name of names.filter((n) => /\.(ya?ml|tpl|txt)$/.test(n))) {
      const text = await readFile(join(templates, name), 'utf8');
      // Template actions only: comments and the YAML around them may say these words.
      const actions = [...text.matchAll(/\{\{-?\s*(?!\/\*)([\s\S]*?)-?\}\}/g)].map((m) => m[1]!);
      expect(actions.length, name).to.be.greaterThan(0);
      for (const action of actions)
        expect(action, name).to.not.match(
          /\b(lookup|rand\w*|uuidv4|now|genCA|genPrivateKey|genSelfSignedCert)\b/,
        );
    }
    const args = ['template', 'flexcore', CHART, '-f', join(CI_VALUES, 'full-values.yaml')];
    expect(await helm.run(args)).to.equal(await helm.run(args));
  });
});
