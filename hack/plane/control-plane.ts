/**
 * A real Kubernetes control plane on loopback: etcd, kube-apiserver (RBAC and Pod Security
 * admission on), kube-controller-manager, kube-scheduler and kwok with one fake node. Usable
 * from mocha (start in a before hook, stop in after) and from scripts (hack/up.ts). Tests can
 * restart a component (fault injection) and choose what a fake Pod's containers logged.
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
import { Components, readiness, type RestartOptions } from './components.js';
import { createLogsCrd, KWOK_LOGS_CONFIG, PodLogs } from './pod-logs.js';
import { waitUntilReady, type ManagedProcess } from './process.js';
import { ensureTools } from './tools.js';
import { isSchedulable } from './node-ready.js';
import { addNodeAddress } from './node/host.js';
import { checkHostTools } from './node/prerequisites.js';
import { NODE_NETWORK, RealNode } from './node/real-node.js';

const execFileP = promisify(execFile);

/** Pod annotations the kwok stages read: how a fake container ends and how long it runs. */
export const KWOK_ANNOTATIONS = {
  exitCode: 'kwok.flexcore.io/exit-code',
  duration: 'kwok.flexcore.io/duration',
  /** The Pod never starts: its containers wait with this reason (e.g. ErrImageNeverPull). */
  waitingReason: 'kwok.flexcore.io/waiting-reason',
} as const;

/** The fake node kwok plays the kubelet for. */
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
  /**
   * Also start a real node (containerd, runc, kubelet, kube-proxy; needs root and the packages
   * hack/install-node.sh installs). It is tainted `flexcore.io/real-node=true:NoSchedule`, so
   * only Pods that tolerate it (and select it) run there; everything else stays on kwok.
   */
  readonly realNode?: boolean;
  /** How long to wait when another process runs this machine's real node (0: fail at once). */
  readonly nodeLockWaitMs?: number;
  /**
   * An audit policy (a kube-apiserver `audit.k8s.io/v1` Policy, as YAML): the apiserver then
   * writes JSON audit events to `<dir>/audit.log` (`auditLogPath`), e.g. to see which requests
   * a service account made.
   */
  readonly auditPolicy?: string;
}

export type { RestartOptions } from './components.js';

/** A started plane: its kubeconfig, components and test hooks; stop() ends it. */
export class ControlPlane {
  private constructor(
    readonly dir: string,
    readonly binDir: string,
    readonly kubeconfigPath: string,
    readonly server: string,
    private readonly components: Components,
    private readonly podLogs: PodLogs,
    private readonly options: ControlPlaneOptions,
  ) {}

  private node: RealNode | undefined;

  /** The real node, when the plane was started with `realNode`. */
  get realNode(): RealNode | undefined {
    return this.node;
  }

  /** Starts every component and waits until a Pod could be scheduled on the fake node. */
  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const log = options.log ?? ((): void => undefined);
    if (options.apiserverPort !== undefined) await assertPortFree(options.apiserverPort);
    // Fail before anything starts when the machine cannot have a real node.
    if (options.realNode) await checkHostTools();
    const binDir = options.binDir ?? (await ensureTools());
    const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'flexcore-plane-')));
    const components = new Components(binDir, dir);
    try {
      const pki = await makePki(dir);
      const ports = await pickPorts(options.apiserverPort);
      const server = `https://127.0.0.1:${ports.api}`;
      const kubeconfigPath = join(dir, 'admin.kubeconfig');
      await writeKubeconfig(kubeconfigPath, server, {
        caCert: pki.caCert,
        cert: pki.adminCert,
        key: pki.adminKey,
      });
      const realNode = options.realNode ?? false;
      if (realNode) await addNodeAddress(); // the apiserver advertises it
      const audit = await auditArgs(dir, options.auditPolicy);
      const kc = await startComponents(components, { dir, pki, ports, kubeconfigPath, log, realNode, audit });
      const podLogs = new PodLogs(dir, kc, `https://127.0.0.1:${ports.kwok}`, pki.caCert);
      const plane = new ControlPlane(dir, binDir, kubeconfigPath, server, components, podLogs, options);
      log(`registering fake node ${FAKE_NODE}`);
      await plane.addFakeNode(components.get('kwok')!);
      if (realNode) {
        plane.node = await RealNode.start({
          planeDir: dir,
          pki,
          server,
          adminKubeConfig: kc,
          log,
          lockWaitMs: options.nodeLockWaitMs,
        });
      }
      log('control plane ready');
      return plane;
    } catch (err) {
      await Promise.all(components.all().map((p) => p.stop()));
      if (!options.dir && !options.keepDir && !(err instanceof ComponentStartError)) {
        await rm(dir, { recursive: true, force: true });
      }
      throw err;
    }
  }

  /** Where the apiserver writes audit events, when started with `auditPolicy`. */
  get auditLogPath(): string | undefined {
    return this.options.auditPolicy === undefined ? undefined : join(this.dir, 'audit.log');
  }

  /** A client-node KubeConfig for the admin user. */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfigPath);
    return kc;
  }

  /** The running component named `name` (etcd, kube-apiserver, ...), for fault-injection tests. */
  component(name: string): ManagedProcess | undefined {
    return this.components.get(name);
  }

  /**
   * Stops component `name` (SIGTERM, or SIGKILL with `kill`), stays down `downMs`, starts it
   * again with the same command, arguments, ports and log file (appended to) and waits until
   * it is ready as at start. Resolves with the new process, which component(name) returns from
   * then on. Works on a component that already died, too.
   */
  async restart(name: string, options: RestartOptions = {}): Promise<ManagedProcess> {
    return this.components.restart(name, options);
  }

  /**
   * Makes container `container` of Pod `namespace/pod` log `text`, read through the API
   * (`kubectl logs`, readNamespacedPodLog) once the Pod is bound to the fake node, in any
   * phase. Call it before or after the Pod exists (the namespace must exist); calling it
   * again replaces the text. Containers nobody set read as empty.
   */
  async setPodLogs(namespace: string, pod: string, container: string, text: string): Promise<void> {
    await this.podLogs.set(namespace, pod, container, text);
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
    await this.node?.stop();
    for (const p of [...this.components.all()].reverse()) await p.stop();
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
          // The apiserver reaches kwok's kubelet endpoint (pod logs) here; kwok sets the port.
          addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
          allocatable: capacity,
          capacity,
          nodeInfo: { architecture: 'amd64', operatingSystem: 'linux' },
        } as never,
      },
    });
    // Schedulable once kwok reports Ready and the node-lifecycle controller lifts the not-ready taint.
    await waitUntilReady(
      kwok,
      async () => isSchedulable(await core.readNode({ name: FAKE_NODE })),
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

interface Ports {
  readonly etcd: number;
  readonly etcdPeer: number;
  readonly api: number;
  readonly kcm: number;
  readonly scheduler: number;
  readonly kwok: number;
}

/** Free loopback ports for every component; `api` when given for kube-apiserver. */
async function pickPorts(api?: number): Promise<Ports> {
  const [etcd, etcdPeer, free, kcm, scheduler, kwok] = await Promise.all(
    Array.from({ length: 6 }, () => freePort()),
  );
  return {
    etcd: etcd!,
    etcdPeer: etcdPeer!,
    api: api ?? free!,
    kcm: kcm!,
    scheduler: scheduler!,
    kwok: kwok!,
  };
}

interface StartContext {
  readonly dir: string;
  readonly pki: Pki;
  readonly ports: Ports;
  readonly kubeconfigPath: string;
  readonly log: (line: string) => void;
  readonly realNode: boolean;
  /** kube-apiserver flags for the audit log, if any. */
  readonly audit: readonly string[];
}

/** Writes the policy beside the plane's other files; the flags that make the apiserver use it. */
async function auditArgs(dir: string, policy: string | undefined): Promise<string[]> {
  if (policy === undefined) return [];
  const file = join(dir, 'audit-policy.yaml');
  await writeFile(file, policy);
  return [
    `--audit-policy-file=${file}`,
    `--audit-log-path=${join(dir, 'audit.log')}`,
    '--audit-log-format=json',
    // Written as requests complete, so a test reads every event once the calls return.
    '--audit-log-mode=blocking',
    '--audit-log-maxsize=0',
  ];
}

/**
 * Starts etcd, then kube-apiserver, then kube-controller-manager, kube-scheduler and kwok side
 * by side with kwok's Logs CRD; resolves with the admin KubeConfig once all are ready.
 */
async function startComponents(components: Components, ctx: StartContext): Promise<KubeConfig> {
  const { dir, pki, ports, kubeconfigPath, log, realNode, audit } = ctx;
  log(`starting etcd on 127.0.0.1:${ports.etcd}`);
  const etcdUp = (): Promise<boolean> => httpOk(`http://127.0.0.1:${ports.etcd}/health`);
  await components.start('etcd', etcdArgs(dir, ports.etcd, ports.etcdPeer), readiness(etcdUp, 30_000, 100));

  log(`starting kube-apiserver on https://127.0.0.1:${ports.api}`);
  const apiUp = (): Promise<boolean> => httpsOk(`https://127.0.0.1:${ports.api}/readyz`, pki);
  await components.start(
    'kube-apiserver',
    [...apiserverArgs(pki, ports.etcd, ports.api, realNode), ...audit],
    readiness(apiUp),
  );
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);

  log('starting kube-controller-manager, kube-scheduler and kwok');
  const kcmUp = (): Promise<boolean> => httpsOk(`https://127.0.0.1:${ports.kcm}/healthz`);
  const schedulerUp = (): Promise<boolean> => httpsOk(`https://127.0.0.1:${ports.scheduler}/healthz`);
  const kwokUp = (): Promise<boolean> => httpOk(`http://127.0.0.1:${ports.kwok}/healthz`);
  const kwokConfigs = [fileURLToPath(new URL('kwok-stages.yaml', import.meta.url)), KWOK_LOGS_CONFIG];
  await Promise.all([
    // Served within a few hundred ms; kwok retries its list of Logs objects until then.
    createLogsCrd(kc),
    components.start('kube-controller-manager', kcmArgs(pki, kubeconfigPath, ports.kcm), readiness(kcmUp)),
    components.start(
      'kube-scheduler',
      schedulerArgs(kubeconfigPath, ports.scheduler),
      readiness(schedulerUp),
    ),
    components.start('kwok', kwokArgs(kubeconfigPath, kwokConfigs, pki, ports.kwok), readiness(kwokUp)),
  ]);
  return kc;
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

function apiserverArgs(pki: Pki, etcdPort: number, port: number, realNode: boolean): string[] {
  // With a real node, Pods reach the apiserver through the `kubernetes` Service, whose
  // endpoint is the advertised address: the node's, as a Pod cannot be sent to loopback.
  const address = realNode
    ? ['--bind-address=0.0.0.0', `--advertise-address=${NODE_NETWORK.nodeIp}`]
    : ['--bind-address=127.0.0.1', '--advertise-address=127.0.0.1'];
  return [
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    ...address,
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
    // On SIGTERM, end open watches instead of waiting for their clients (which never leave).
    '--shutdown-watch-termination-grace-period=2s',
    // Pod logs: kwok's kubelet endpoint on the node's InternalIP, with a certificate from our CA.
    '--kubelet-preferred-address-types=InternalIP',
    `--kubelet-certificate-authority=${pki.caCert}`,
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

function kwokArgs(kubeconfig: string, configs: string[], pki: Pki, port: number): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    ...configs.map((c) => `--config=${c}`),
    '--enable-crds=Logs',
    '--manage-all-nodes=false',
    '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
    // One port for both: HTTPS (the kubelet API the node advertises, serving pod logs) and
    // HTTP (healthz). The apiserver's certificate fits: 127.0.0.1, signed by the plane's CA.
    `--server-address=127.0.0.1:${port}`,
    `--node-port=${port}`,
    `--tls-cert-file=${pki.serverCert}`,
    `--tls-private-key-file=${pki.serverKey}`,
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
