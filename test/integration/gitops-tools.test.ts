/**
 * The GitOps tools built by `hack/build-tools.sh --gitops` really work, offline: helm (stamped
 * version and Kubernetes version), helm-unittest as a helm plugin, kubeconform against local
 * schemas only, kstatus and argo-health. Every check has a case that must fail, so a tool that
 * always says yes would not pass.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { gitopsTools, type GitopsTools } from '../../hack/plane/tools.js';

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function run(
  bin: string,
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: { ...process.env, ...opts.env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out, err }));
    child.stdin.end(opts.input ?? '');
  });
}

async function write(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}

/** A dead proxy: any attempt to fetch something over HTTP(S) fails instead of reaching out. */
const offline = { HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9' };

describe('GitOps tools (hack/build-tools.sh --gitops)', function () {
  this.timeout(1_200_000); // the first build on a fresh machine; seconds once cached
  let tools: GitopsTools;
  let tmp: string;
  before(async () => {
    tools = await gitopsTools();
    tmp = await mkdtemp(join(tmpdir(), 'flexcore-gitops-'));
  });
  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  describe('helm and helm-unittest', () => {
    let chart: string;
    let helmEnv: NodeJS.ProcessEnv;
    before(async () => {
      chart = join(tmp, 'tiny');
      helmEnv = {
        ...offline,
        HELM_PLUGINS: tools.helmPlugins,
        HELM_CACHE_HOME: join(tmp, 'helm/cache'),
        HELM_CONFIG_HOME: join(tmp, 'helm/config'),
        HELM_DATA_HOME: join(tmp, 'helm/data'),
      };
      // kubeVersion fails against an unstamped helm, which assumes Kubernetes v1.20.
      await write(
        join(chart, 'Chart.yaml'),
        'apiVersion: v2\nname: tiny\nversion: 0.1.0\nkubeVersion: ">=1.30.0-0"\n',
      );
      await write(join(chart, 'values.yaml'), 'replicas: 2\n');
      await write(
        join(chart, 'templates/deployment.yaml'),
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n' +
          'spec:\n  replicas: {{ .Values.replicas }}\n',
      );
      for (const [name, replicas] of [
        ['pass', 2],
        ['fail', 3],
      ] as const) {
        await write(
          join(chart, `tests/${name}_test.yaml`),
          stringify({
            suite: name,
            templates: ['templates/deployment.yaml'],
            tests: [
              { it: 'sets replicas', asserts: [{ equal: { path: 'spec.replicas', value: replicas } }] },
            ],
          }),
        );
      }
    });

    it('helm version reports v3.22.0', async () => {
      const r = await run(tools.helm, ['version', '--template', '{{ .Version }}'], { env: helmEnv });
      expect(r.code, r.err).to.equal(0);
      expect(r.out.trim()).to.equal('v3.22.0');
    });

    it('helm template honours kubeVersion with the stamped Kubernetes version', async () => {
      const r = await run(tools.helm, ['template', 'web', chart], { env: helmEnv });
      expect(r.code, r.err).to.equal(0);
      expect(r.out).to.contain('replicas: 2');
    });

    it('helm unittest passes a true assertion', async () => {
      const r = await run(tools.helm, ['unittest', '-f', 'tests/pass_test.yaml', chart], {
        env: helmEnv,
      });
      expect(r.code, r.out + r.err).to.equal(0);
      expect(r.out).to.match(/Tests:\s+1 passed, 1 total/);
    });

    it('helm unittest fails a false assertion', async () => {
      const r = await run(tools.helm, ['unittest', '-f', 'tests/fail_test.yaml', chart], {
        env: helmEnv,
      });
      expect(r.code, r.out + r.err).to.not.equal(0);
      expect(r.out).to.match(/Tests:\s+1 failed, 0 passed, 1 total/);
    });
  });

  describe('kubeconform with local schemas only', () => {
    let schemas: string;
    const deployment = (replicas: unknown): string =>
      stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: {} },
      });
    const kubeconform = (file: string): Promise<Run> =>
      // Any -schema-location replaces the default (remote) one; there is no other switch.
      run(tools.kubeconform, ['-summary', '-schema-location', schemas, file], { env: offline });

    before(async () => {
      const root = join(tmp, 'schemas');
      schemas = join(root, '{{ .ResourceKind }}{{ .KindSuffix }}.json');
      await write(
        join(root, 'deployment-apps-v1.json'),
        JSON.stringify({
          type: 'object',
          required: ['apiVersion', 'kind', 'metadata', 'spec'],
          properties: {
            spec: {
              type: 'object',
              required: ['selector', 'template'],
              properties: { replicas: { type: 'integer', minimum: 0 } },
            },
          },
        }),
      );
      await write(join(tmp, 'manifests/valid.yaml'), deployment(2));
      await write(join(tmp, 'manifests/invalid.yaml'), deployment('three'));
      await write(
        join(tmp, 'manifests/no-schema.yaml'),
        stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }),
      );
    });

    it('accepts a valid Deployment', async () => {
      const r = await kubeconform(join(tmp, 'manifests/valid.yaml'));
      expect(r.code, r.out + r.err).to.equal(0);
      expect(r.out).to.match(/Valid: 1, Invalid: 0, Errors: 0/);
    });

    it('rejects an invalid Deployment', async () => {
      const r = await kubeconform(join(tmp, 'manifests/invalid.yaml'));
      expect(r.code).to.equal(1);
      expect(r.out)
        .to.contain('replicas')
        .and.match(/Invalid: 1/);
    });

    it('does not fetch a schema it does not have', async () => {
      const r = await kubeconform(join(tmp, 'manifests/no-schema.yaml'));
      expect(r.code).to.equal(1);
      expect(r.out).to.contain('could not find schema for ConfigMap');
    });
  });

  describe('kstatus', () => {
    const deploy = (name: string, generation: number, observed: number): object => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: 'ns', generation },
      spec: { replicas: 1 },
      status: {
        observedGeneration: observed,
        replicas: 1,
        updatedReplicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
        conditions: [
          { type: 'Available', status: 'True' },
          { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
        ],
      },
    });

    it('reports Current, InProgress and Terminating from multi-document YAML', async () => {
      const gone = {
        ...deploy('gone', 1, 1),
        metadata: { name: 'gone', namespace: 'ns', deletionTimestamp: '2026-01-01T00:00:00Z' },
      };
      const input = [deploy('web', 2, 2), deploy('stale', 3, 2), gone].map((o) => stringify(o)).join('---\n');
      const r = await run(tools.kstatus, [], { input });
      expect(r.code, r.err).to.equal(0);
      const lines = r.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { name: string; status: string });
      expect(lines.map((l) => [l.name, l.status])).to.deep.equal([
        ['web', 'Current'],
        ['stale', 'InProgress'],
        ['gone', 'Terminating'],
      ]);
    });

    it('reads a JSON List and exits 2 on unreadable input', async () => {
      const list = { apiVersion: 'v1', kind: 'List', items: [deploy('web', 1, 1)] };
      const ok = await run(tools.kstatus, [], { input: JSON.stringify(list) });
      expect(ok.code, ok.err).to.equal(0);
      expect(JSON.parse(ok.out)).to.include({ kind: 'Deployment', name: 'web', status: 'Current' });
      const bad = await run(tools.kstatus, [], { input: 'items: [' });
      expect(bad.code).to.equal(2);
      expect(bad.err).to.contain('kstatus: cannot read');
    });
  });

  describe('argo-health', () => {
    let dir: string;
    const testFile = (message: string): string =>
      stringify({
        tests: [
          { healthStatus: { status: 'Healthy', message }, inputPath: 'testdata/ready.yaml' },
          {
            healthStatus: { status: 'Progressing', message: 'Waiting for the pipeline' },
            inputPath: 'testdata/new.yaml',
          },
        ],
      });

    before(async () => {
      dir = join(tmp, 'health');
      await write(
        join(dir, 'health.lua'),
        [
          'local hs = { status = "Progressing", message = "Waiting for the pipeline" }',
          'if obj.status ~= nil and obj.status.conditions ~= nil then',
          '  for _, c in ipairs(obj.status.conditions) do',
          '    if c.type == "Ready" and c.status == "True" then',
          '      hs.status = "Healthy"',
          '      hs.message = "Ready after " .. obj.status.runs .. " runs"',
          '    end',
          '  end',
          'end',
          'return hs',
          '',
        ].join('\n'),
      );
      const meta = { apiVersion: 'flexcore.io/v1alpha1', kind: 'FlexPipeline', metadata: { name: 'p' } };
      await write(
        join(dir, 'testdata/ready.yaml'),
        stringify({ ...meta, status: { runs: 3, conditions: [{ type: 'Ready', status: 'True' }] } }),
      );
      await write(join(dir, 'testdata/new.yaml'), stringify(meta));
    });

    it('run prints the status and message the script returns', async () => {
      const r = await run(tools.argoHealth, [
        'run',
        join(dir, 'health.lua'),
        join(dir, 'testdata/ready.yaml'),
      ]);
      expect(r.code, r.err).to.equal(0);
      expect(JSON.parse(r.out)).to.deep.equal({ status: 'Healthy', message: 'Ready after 3 runs' });
    });

    it('test passes when every case matches', async () => {
      await writeFile(join(dir, 'health_test.yaml'), testFile('Ready after 3 runs'));
      const r = await run(tools.argoHealth, ['test', dir]);
      expect(r.code, r.out + r.err).to.equal(0);
      expect(r.out).to.contain('2 passed, 0 failed');
    });

    it('test exits 1 when an expected message differs', async () => {
      await writeFile(join(dir, 'health_test.yaml'), testFile('Ready after 4 runs'));
      const r = await run(tools.argoHealth, ['test', dir]);
      expect(r.code).to.equal(1);
      expect(r.out).to.contain('FAIL testdata/ready.yaml').and.contain('1 passed, 1 failed');
    });

    it('gives scripts only the libraries Argo CD gives custom health checks', async () => {
      await write(join(dir, 'string.lua'), 'return { status = "Healthy", message = string.upper("x") }\n');
      const strict = await run(tools.argoHealth, [
        'run',
        join(dir, 'string.lua'),
        join(dir, 'testdata/new.yaml'),
      ]);
      expect(strict.code).to.equal(1);
      const open = await run(tools.argoHealth, [
        '-open-libs',
        'run',
        join(dir, 'string.lua'),
        join(dir, 'testdata/new.yaml'),
      ]);
      expect(open.code, open.err).to.equal(0);
      expect(JSON.parse(open.out)).to.deep.equal({ status: 'Healthy', message: 'X' });
    });
  });
});
