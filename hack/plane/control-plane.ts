/**
 * A real Kubernetes control plane on loopback: etcd, kube-apiserver (RBAC and Pod Security
 * admission on), kube-controller-manager, kube-scheduler and kwok with one fake node. Usable
 * from mocha (start in a before hook, stop in after) and from scripts (hack/up.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ComponentStartError } from './errors.js';
import { writeKubeconfig } from './kubeconfig.js';
import { makePki, type Pki } from './pki.js';
import { assertPortFree, freePort } from './ports.js';
import { ManagedProcess, waitUntilReady } from './process.js';
import { ensureTools } from './tools.js';

const execFileP = promisify(execFile);

/** Pod annotations the kwok stages read: how a fake container ends and how long it runs. */
export const KWOK_ANNOTATIONS = {
  exitCode: 'kwok.flexcore.io/exit-code',
  duration: 'kwok.flexcore.io/duration',
} as const;

export const FAKE_NODE = 'kwok-node-0';

export interface ControlPlaneOptions {
  /** Working directory for certificates, data and logs; a fresh temp dir when unset. */
  readonly dir?: string;
  /** Keep the directory after stop (logs for debugging). */
  readonly keepDir?: boolean;
  /** Progress lines, e.g. console.error; silent when unset. */
  readonly log?: (line: string) => void;
  /** Serve kube-apiserver on this port instead of a free one. */
  readonly apiserverPort?: number;
  /** Use binaries from this directory instead of building them (tests of the harness). */
  readonly binDir?: string;
}

export class ControlPlane {
  private constructor(
    readonly dir: string,
    readonly binDir: string,
    readonly kubeconfigPath: string,
    readonly server: string,
    private readonly processes: ManagedProcess[],
    private readonly options: ControlPlaneOptions,
  ) {}

  /** Starts every component and waits until a Pod could be scheduled on the fake node. */
  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const log = options.log ?? ((): void => undefined);
    if (options.apiserverPort !== undefined) await assertPortFree(options.apiserverPort);
    const binDir = options.binDir ?? (await ensureTools());
    const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'flexcore-plane-')));
    const processes: ManagedProcess[] = [];
    const bin = (name: string): string => join(binDir, name);
    try {
      const pki = await makePki(dir);
      const [etcdPort, etcdPeer, freeApiPort, kcmPort, schedPort, kwokPort] = await Promise.all(
        Array.from({ length: 6 }, () => freePort()),
      );
      const apiPort = options.apiserverPort ?? freeApiPort;
      const server = `https://127.0.0.1:${apiPort}`;
      const kubeconfigPath = join(dir, 'admin.kubeconfig');
      await writeKubeconfig(kubeconfigPath, server, {
        caCert: pki.caCert,
        cert: pki.adminCert,
        key: pki.adminKey,
      });
      const start = (name: string, args: string[]): ManagedProcess => {
        const p = ManagedProcess.start({ name, command: bin(name), args, logPath: join(dir, `${name}.log`) });
        processes.push(p);
        return p;
      };

      log(`starting etcd on 127.0.0.1:${etcdPort}`);
      const etcd = start('etcd', etcdArgs(dir, etcdPort!, etcdPeer!));
      await waitUntilReady(etcd, () => httpOk(`http://127.0.0.1:${etcdPort}/health`), 30_000);

      log(`starting kube-apiserver on ${server}`);
      const api = start('kube-apiserver', apiserverArgs(pki, etcdPort!, apiPort!));
      await waitUntilReady(api, () => httpsOk(`${server}/readyz`, pki), 60_000, 200);

      log('starting kube-controller-manager, kube-scheduler and kwok');
      const kcm = start('kube-controller-manager', kcmArgs(pki, kubeconfigPath, kcmPort!));
      const sched = start('kube-scheduler', schedulerArgs(kubeconfigPath, schedPort!));
      const stages = fileURLToPath(new URL('kwok-stages.yaml', import.meta.url));
      const kwok = start('kwok', kwokArgs(kubeconfigPath, stages, kwokPort!));
      await Promise.all([
        waitUntilReady(kcm, () => httpsOk(`https://127.0.0.1:${kcmPort}/healthz`), 60_000, 200),
        waitUntilReady(sched, () => httpsOk(`https://127.0.0.1:${schedPort}/healthz`), 60_000, 200),
        waitUntilReady(kwok, () => httpOk(`http://127.0.0.1:${kwokPort}/healthz`), 60_000, 200),
      ]);

      const plane = new ControlPlane(dir, binDir, kubeconfigPath, server, processes, options);
      log(`registering fake node ${FAKE_NODE}`);
      await plane.addFakeNode(kwok);
      log('control plane ready');
      return plane;
    } catch (err) {
      await Promise.all(processes.map((p) => p.stop()));
      if (!options.dir && !options.keepDir && !(err instanceof ComponentStartError)) {
        await rm(dir, { recursive: true, force: true });
      }
      throw err;
    }
  }

  /** A client-node KubeConfig for the admin user. */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfigPath);
    return kc;
  }

  /** The running component named `name` (etcd, kube-apiserver, ...), for fault-injection tests. */
  component(name: string): ManagedProcess | undefined {
    return this.processes.find((p) => p.name === name);
  }

  /** Runs the plane's kubectl against it; resolves with stdout, rejects with stderr in the message. */
  async kubectl(args: string[], input?: string): Promise<string> {
    const child = execFileP(join(this.binDir, 'kubectl'), ['--kubeconfig', this.kubeconfigPath, ...args], {
      maxBuffer: 64 * 1024 * 1024,
    });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    }
    try {
      return (await child).stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`kubectl ${args.join(' ')} failed: ${e.stderr || e.message}`);
    }
  }

  /** Stops every component (SIGTERM, then SIGKILL) and removes the working directory. */
  async stop(): Promise<void> {
    for (const p of [...this.processes].reverse()) await p.stop();
    if (!this.options.dir && !this.options.keepDir) await rm(this.dir, { recursive: true, force: true });
  }

  private async addFakeNode(kwok: ManagedProcess): Promise<void> {
    const core = this.kubeConfig().makeApiClient(CoreV1Api);
    const capacity = { cpu: '1000', memory: '4Ti', pods: '10000', 'ephemeral-storage': '4Ti' };
    await core.createNode({
      body: {
        metadata: {
          name: FAKE_NODE,
          annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
          labels: {
            'kubernetes.io/hostname': FAKE_NODE,
            'kubernetes.io/os': 'linux',
            'kubernetes.io/arch': 'amd64',
            type: 'kwok',
          },
        },
        status: {
          allocatable: capacity,
          capacity,
          nodeInfo: { architecture: 'amd64', operatingSystem: 'linux' },
        } as never,
      },
    });
    // Schedulable once kwok reports Ready and the node-lifecycle controller lifts the not-ready taint.
    await waitUntilReady(
      kwok,
      async () => {
        const node = await core.readNode({ name: FAKE_NODE });
        const ready =
          node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
        const tainted = (node.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/'));
        return ready && !tainted;
      },
      60_000,
      250,
    );
  }

  /** Reads a component's log, for test diagnostics. */
  async readLog(name: string): Promise<string> {
    return readFile(join(this.dir, `${name}.log`), 'utf8');
  }

  /** Writes a file into the plane directory (kubeconfigs for other users, fixtures). */
  async writeFile(name: string, text: string): Promise<string> {
    const path = join(this.dir, name);
    await writeFile(path, text);
    return path;
  }
}

function etcdArgs(dir: string, port: number, peer: number): string[] {
  return [
    '--name=default',
    `--data-dir=${join(dir, 'etcd-data')}`,
    `--listen-client-urls=http://127.0.0.1:${port}`,
    `--advertise-client-urls=http://127.0.0.1:${port}`,
    `--listen-peer-urls=http://127.0.0.1:${peer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
    `--initial-cluster=default=http://127.0.0.1:${peer}`,
    '--unsafe-no-fsync',
    '--log-level=warn',
  ];
}

function apiserverArgs(pki: Pki, etcdPort: number, port: number): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--tls-cert-file=${pki.serverCert}`,
    `--tls-private-key-file=${pki.serverKey}`,
    `--client-ca-file=${pki.caCert}`,
    '--authorization-mode=RBAC',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    '--allow-privileged=false',
    '--profiling=false',
    '--v=1',
  ];
}

function kcmArgs(pki: Pki, kubeconfig: string, port: number): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    '--leader-elect=false',
    `--service-account-private-key-file=${pki.serviceAccountKey}`,
    `--root-ca-file=${pki.caCert}`,
    `--cluster-signing-cert-file=${pki.caCert}`,
    `--cluster-signing-key-file=${pki.caKey}`,
    '--node-monitor-period=1s',
    '--kube-api-qps=200',
    '--kube-api-burst=400',
    '--profiling=false',
    '--v=1',
  ];
}

function schedulerArgs(kubeconfig: string, port: number): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    '--leader-elect=false',
    '--profiling=false',
    '--v=1',
  ];
}

function kwokArgs(kubeconfig: string, stages: string, port: number): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--config=${stages}`,
    '--manage-all-nodes=false',
    '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
    `--server-address=127.0.0.1:${port}`,
    '--node-ip=10.200.0.1',
    '--cidr=10.244.0.0/16',
  ];
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return res.ok;
}

/** GET over TLS; with `pki` as the admin client against our CA, otherwise trusting any certificate. */
async function httpsOk(url: string, pki?: Pki): Promise<boolean> {
  const tls = pki
    ? {
        ca: await readFile(pki.caCert),
        cert: await readFile(pki.adminCert),
        key: await readFile(pki.adminKey),
      }
    : { rejectUnauthorized: false };
  return new Promise((resolve) => {
    const req = request(url, { ...tls, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
