/**
 * A real node in the test plane: containerd (CRI, runc, CNI bridge), the kubelet and
 * kube-proxy in iptables mode, started beside the kwok node. Pods bound to it really run,
 * hardened as the Pod asks, with real networking, volumes, limits and logs.
 *
 * One per machine (kube-proxy's rules are machine-wide): its directories are fixed under the
 * cache so a run that crashed is cleaned up by the next one. containerd's root (images and
 * layers) is kept between runs; its state, the kubelet's directory and the CNI state are not.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { Components, readiness } from '../components.js';
import { writeKubeconfig } from '../kubeconfig.js';
import { issueLeaf, type Pki } from '../pki.js';
import { waitUntilReady } from '../process.js';
import { isSchedulable } from '../node-ready.js';
import {
  addNodeAddress,
  host,
  hostQuiet,
  killProcessesMentioning,
  removeBridge,
  removeKubeletChains,
  removeDir,
  runcInitPids,
  takeNodeLock,
  unmountUnder,
} from './host.js';
import {
  cniConflist,
  containerdConfig,
  kubeletConfig,
  kubeProxyConfig,
  NODE_NETWORK,
  REAL_NODE,
  type NodePaths,
} from './node-config.js';
import { checkHostTools, type HostTools } from './prerequisites.js';
import { ensureNodeTools } from '../tools.js';
import { ImageStore, PAUSE_IMAGE } from './images.js';

export { NODE_NETWORK, REAL_NODE, REAL_NODE_PLACEMENT } from './node-config.js';

/** What the node needs from the plane it joins. */
export interface NodeContext {
  /** The plane's directory: certificates, kubeconfigs and component logs go here. */
  readonly planeDir: string;
  readonly pki: Pki;
  readonly server: string;
  readonly adminKubeConfig: KubeConfig;
  readonly log: (line: string) => void;
  /** How long to wait for another process's real node to go (0: fail at once). */
  readonly lockWaitMs?: number;
}

/** The node's fixed directories under the cache (one node per machine). */
export function nodeBaseDir(): string {
  const cache =
    process.env['FLEXCORE_CACHE_DIR'] ?? process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache');
  return join(process.env['FLEXCORE_CACHE_DIR'] ? cache : join(cache, 'flexcore'), 'node');
}

function pathsUnder(base: string, tools: HostTools): NodePaths {
  const run = join(base, 'run');
  return {
    containerdRoot: join(base, 'containerd'),
    containerdState: join(run, 'containerd'),
    containerdSocket: join(run, 'containerd.sock'),
    cniConfDir: join(run, 'cni', 'net.d'),
    cniDataDir: join(run, 'cni', 'networks'),
    cniBinDir: tools.cniBinDir,
    runc: tools.runc,
    runcRoot: join(run, 'runc'),
    kubeletRoot: join(base, 'kubelet'),
  };
}

/** A started real node; stop() removes every trace but the image store. */
export class RealNode {
  private constructor(
    private readonly components: Components,
    private readonly binDir: string,
    private readonly tools: HostTools,
    private readonly paths: NodePaths,
    private readonly base: string,
    private readonly ctx: NodeContext,
    private readonly unlock: () => Promise<void>,
    readonly images: ImageStore,
  ) {}

  /** The node's name in the API. */
  readonly name = REAL_NODE.name;

  /**
   * Checks the machine, cleans what a crashed run left, starts containerd, imports the pause
   * image, starts the kubelet and kube-proxy and waits until the node is Ready.
   */
  static async start(ctx: NodeContext): Promise<RealNode> {
    const tools = await checkHostTools();
    const binDir = await ensureNodeTools();
    const base = nodeBaseDir();
    const paths = pathsUnder(base, tools);
    const unlock = await takeNodeLock(join(base, 'node.lock'), ctx.lockWaitMs ?? 0, ctx.log);
    const components = new Components(binDir, ctx.planeDir);
    const images = new ImageStore(
      tools.ctr,
      paths.containerdSocket,
      join(paths.containerdRoot, 'flexcore-imported'),
      ctx.log,
    );
    const node = new RealNode(components, binDir, tools, paths, base, ctx, unlock, images);
    try {
      await node.cleanLeftovers();
      await addNodeAddress();
      await node.startContainerd();
      await images.ensure(['pause']);
      await node.startKubelet();
      await node.startKubeProxy();
      await node.waitReady();
      return node;
    } catch (err) {
      await node.stop();
      throw err;
    }
  }

  /**
   * Deletes the Pods bound to the node and lets the kubelet tear them down (CNI DEL, volume
   * unmounts), then stops kube-proxy, the kubelet and containerd and removes what is left.
   */
  async stop(): Promise<void> {
    await this.drain().catch((err: unknown) => this.ctx.log(`real node: drain failed: ${String(err)}`));
    for (const p of [...this.components.all()].reverse()) await p.stop();
    await this.cleanLeftovers();
    await this.unlock();
  }

  /** Imports images built by hack/build-images.sh into the node's containerd (cached). */
  async ensureImages(names: readonly string[]): Promise<Map<string, string>> {
    return this.images.ensure(names);
  }

  private async drain(): Promise<void> {
    const core = this.ctx.adminKubeConfig.makeApiClient(CoreV1Api);
    const pods = await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${this.name}` });
    await Promise.all(
      pods.items.map((p) =>
        core
          .deleteNamespacedPod({
            name: p.metadata!.name!,
            namespace: p.metadata!.namespace!,
            gracePeriodSeconds: 0,
          })
          .catch(() => undefined),
      ),
    );
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const tasks = await host(this.tools.ctr, [
        '-a',
        this.paths.containerdSocket,
        '-n',
        'k8s.io',
        'tasks',
        'ls',
        '-q',
      ]).catch(() => '');
      if (tasks.trim() === '') return;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Removes what a previous node left on this machine (after a crash) or this one did. */
  private async cleanLeftovers(): Promise<void> {
    for (const pid of runcInitPids(join(this.paths.runcRoot, 'k8s.io'))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    // containerd, the kubelet, kube-proxy and the shims of a run that died all name the base
    // directory on their command lines (configs live under it).
    killProcessesMentioning(this.base);
    await hostQuiet(join(this.binDir, 'kube-proxy'), ['--cleanup']);
    await removeKubeletChains();
    await removeBridge();
    await unmountUnder([this.paths.kubeletRoot, join(this.base, 'run'), this.paths.containerdRoot]);
    await removeDir(this.paths.kubeletRoot);
    await removeDir(join(this.base, 'run'));
  }

  private async startContainerd(): Promise<void> {
    const p = this.paths;
    await mkdir(p.containerdRoot, { recursive: true });
    await mkdir(p.cniConfDir, { recursive: true });
    await mkdir(p.cniDataDir, { recursive: true });
    const config = join(this.base, 'run', 'containerd.toml');
    await writeFile(config, containerdConfig(p, PAUSE_IMAGE));
    await writeFile(join(p.cniConfDir, '10-flexcore.conflist'), cniConflist(p));
    this.ctx.log('real node: starting containerd');
    const up = async (): Promise<boolean> => {
      await host(this.tools.ctr, ['-a', p.containerdSocket, 'version']);
      return true;
    };
    await this.components.start(
      'containerd',
      ['--config', config],
      readiness(up, 30_000, 200),
      this.tools.containerd,
    );
    // Containers of a run that crashed: their tasks are gone; containerd's GC then frees their
    // snapshots. The CRI plugin rebuilds its Pod list from these, so the kubelet starts clean.
    const ids = await host(this.tools.ctr, [
      '-a',
      p.containerdSocket,
      '-n',
      'k8s.io',
      'containers',
      'ls',
      '-q',
    ]);
    for (const id of ids.split('\n').filter(Boolean)) {
      await hostQuiet(this.tools.ctr, ['-a', p.containerdSocket, '-n', 'k8s.io', 'containers', 'rm', id]);
    }
  }

  private async startKubelet(): Promise<void> {
    const dir = join(this.ctx.planeDir, 'kubelet');
    await mkdir(dir, { recursive: true });
    const ip = NODE_NETWORK.nodeIp;
    const ca = { cert: this.ctx.pki.caCert, key: this.ctx.pki.caKey };
    const usage = [
      'basicConstraints = critical,CA:FALSE',
      'keyUsage = critical,digitalSignature,keyEncipherment',
    ];
    const [servingCert, servingKey] = await issueLeaf(
      dir,
      'kubelet-serving',
      `/CN = ${this.name}`,
      [...usage, 'extendedKeyUsage = serverAuth', `subjectAltName = IP:${ip},DNS:${this.name}`],
      ca,
    );
    const [clientCert, clientKey] = await issueLeaf(
      dir,
      'kubelet-client',
      `/CN = system:node:${this.name}/O = system:nodes`,
      [...usage, 'extendedKeyUsage = clientAuth'],
      ca,
    );
    const kubeconfig = join(dir, 'kubelet.kubeconfig');
    await writeKubeconfig(kubeconfig, this.ctx.server, { caCert: ca.cert, cert: clientCert, key: clientKey });
    await this.bindNodeRole();
    const config = join(dir, 'kubelet-config.yaml');
    await writeFile(config, kubeletConfig(this.paths, { caCert: ca.cert, servingCert, servingKey }));
    this.ctx.log(`real node: starting the kubelet as ${this.name} on ${ip}`);
    const args = [
      `--config=${config}`,
      `--kubeconfig=${kubeconfig}`,
      `--root-dir=${this.paths.kubeletRoot}`,
      `--cert-dir=${join(dir, 'pki')}`,
      `--hostname-override=${this.name}`,
      `--node-ip=${ip}`,
      `--node-labels=${REAL_NODE.label.key}=${REAL_NODE.label.value}`,
      '--v=1',
    ];
    const healthy = async (): Promise<boolean> => (await fetch(`http://${ip}:10248/healthz`)).ok;
    await this.components.start(
      'kubelet',
      args,
      readiness(healthy, 60_000, 250),
      join(this.binDir, 'kubelet'),
    );
  }

  /**
   * The plane runs RBAC without the Node authorizer, so nodes get the `system:node` role by
   * a binding (what kubeadm did before the Node authorizer existed).
   */
  private async bindNodeRole(): Promise<void> {
    const rbac = this.ctx.adminKubeConfig.makeApiClient(RbacAuthorizationV1Api);
    const name = 'flexcore-test-nodes';
    await rbac
      .createClusterRoleBinding({
        body: {
          metadata: { name },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node' },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:nodes' }],
        },
      })
      .catch((err: unknown) => {
        if ((err as { code?: number }).code !== 409) throw err;
      });
  }

  private async startKubeProxy(): Promise<void> {
    const dir = join(this.ctx.planeDir, 'kubelet');
    const ca = { cert: this.ctx.pki.caCert, key: this.ctx.pki.caKey };
    // system:kube-proxy is bound to system:node-proxier by the apiserver's default policy.
    const [cert, key] = await issueLeaf(
      dir,
      'kube-proxy',
      '/CN = system:kube-proxy',
      [
        'basicConstraints = critical,CA:FALSE',
        'keyUsage = critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage = clientAuth',
      ],
      ca,
    );
    const kubeconfig = join(dir, 'kube-proxy.kubeconfig');
    await writeKubeconfig(kubeconfig, this.ctx.server, { caCert: ca.cert, cert, key });
    const config = join(this.base, 'run', 'kube-proxy-config.yaml');
    await writeFile(config, kubeProxyConfig(kubeconfig));
    this.ctx.log('real node: starting kube-proxy (iptables)');
    const healthy = async (): Promise<boolean> =>
      (await fetch(`http://${NODE_NETWORK.nodeIp}:10256/healthz`)).status < 500;
    await this.components.start(
      'kube-proxy',
      [`--config=${config}`, '--v=1'],
      readiness(healthy, 60_000, 250),
    );
  }

  private async waitReady(): Promise<void> {
    const core = this.ctx.adminKubeConfig.makeApiClient(CoreV1Api);
    const kubelet = this.components.get('kubelet')!;
    await waitUntilReady(
      kubelet,
      async () => isSchedulable(await core.readNode({ name: this.name })),
      90_000,
      250,
    );
    this.ctx.log(`real node: ${this.name} is Ready`);
  }
}
