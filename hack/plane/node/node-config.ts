/**
 * The configuration files of the real node, as pure functions of where things live: containerd
 * (CRI with runc), the CNI network, the kubelet and kube-proxy. Why each unusual setting is
 * there: docs/testbed.md ("The real node").
 */
import { stringify } from 'yaml';

/** The node's network: an address on `lo` that Pods can reach, and a bridge with its own /24. */
export const NODE_NETWORK = {
  /** Not loopback: Pods reach the apiserver, PostgreSQL and Services' endpoints here. */
  nodeIp: '10.86.0.1',
  bridge: 'flexcore0',
  podCidr: '10.86.1.0/24',
  cniNetwork: 'flexcore',
} as const;

/** The real node's name and the label and taint that keep other Pods off it. */
export const REAL_NODE = {
  name: 'flexcore-node-0',
  label: { key: 'flexcore.io/node', value: 'real' },
  taint: { key: 'flexcore.io/real-node', value: 'true', effect: 'NoSchedule' },
} as const;

/** Pod placement that puts a step on the real node: its label, and a toleration of its taint. */
export const REAL_NODE_PLACEMENT = {
  nodeSelector: { [REAL_NODE.label.key]: REAL_NODE.label.value },
  tolerations: [{ key: REAL_NODE.taint.key, operator: 'Exists', effect: 'NoSchedule' }],
} as const;

/** Where the node's files live; see RealNode for which survive a restart. */
export interface NodePaths {
  /** containerd's content store and snapshots: kept, so imported images stay. */
  readonly containerdRoot: string;
  /** containerd's state (tasks, sockets, Pod network namespaces): wiped at every start. */
  readonly containerdState: string;
  readonly containerdSocket: string;
  readonly cniConfDir: string;
  /** host-local IPAM's allocations. */
  readonly cniDataDir: string;
  readonly cniBinDir: string;
  readonly runc: string;
  /** runc's state (--root): where a crashed run's containers are found again. */
  readonly runcRoot: string;
  readonly kubeletRoot: string;
}

/** The containerd configuration (version 2) for one node on this machine. */
export function containerdConfig(paths: NodePaths, sandboxImage: string): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = ${JSON.stringify(paths.containerdRoot)}
state = ${JSON.stringify(paths.containerdState)}
# Snapshotters that need kernel features or tools this machine lacks only log noise.
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = ${JSON.stringify(paths.containerdSocket)}

[ttrpc]
  address = ${JSON.stringify(`${paths.containerdSocket}.ttrpc`)}

[${cri}]
  sandbox_image = ${JSON.stringify(sandboxImage)}
  # No CAP_SYS_RESOURCE here: containerd may only raise oom_score_adj, never lower it.
  restrict_oom_score_adj = true
  disable_apparmor = true
  disable_hugetlb_controller = true
  tolerate_missing_hugetlb_controller = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  netns_mounts_under_state_dir = true

  [${cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    # runc, never crun: crun refuses this machine's hybrid cgroup layout.
    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [${cri}.containerd.runtimes.runc.options]
        BinaryName = ${JSON.stringify(paths.runc)}
        Root = ${JSON.stringify(paths.runcRoot)}
        SystemdCgroup = false

  [${cri}.cni]
    bin_dir = ${JSON.stringify(paths.cniBinDir)}
    conf_dir = ${JSON.stringify(paths.cniConfDir)}
    max_conf_num = 1
`;
}

/** One CNI network: a bridge with host-local addresses, masquerading out, ports mapped. */
export function cniConflist(paths: NodePaths): string {
  const config = {
    cniVersion: '1.0.0',
    name: NODE_NETWORK.cniNetwork,
    plugins: [
      {
        type: 'bridge',
        bridge: NODE_NETWORK.bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          dataDir: paths.cniDataDir,
          ranges: [[{ subnet: NODE_NETWORK.podCidr }]],
          routes: [{ dst: '0.0.0.0/0' }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
      { type: 'loopback' },
    ],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** What the kubelet's configuration needs to know. */
export interface KubeletFiles {
  readonly caCert: string;
  readonly servingCert: string;
  readonly servingKey: string;
}

/** The KubeletConfiguration: a node that runs Pods as a real one does, minus host management. */
export function kubeletConfig(paths: NodePaths, files: KubeletFiles): string {
  const zero = '0%';
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: NODE_NETWORK.nodeIp,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: NODE_NETWORK.nodeIp,
    healthzPort: 10248,
    containerRuntimeEndpoint: `unix://${paths.containerdSocket}`,
    // The machine's cgroups are not the node's to manage: no QoS hierarchy, no reservations.
    cgroupDriver: 'cgroupfs',
    cgroupsPerQOS: false,
    enforceNodeAllocatable: [],
    failSwapOn: false,
    failCgroupV1: false,
    tlsCertFile: files.servingCert,
    tlsPrivateKeyFile: files.servingKey,
    // The apiserver has no kubelet client certificate: logs and exec arrive anonymous. The
    // node listens on its private address only.
    authentication: {
      anonymous: { enabled: true },
      webhook: { enabled: false },
      x509: { clientCAFile: files.caCert },
    },
    authorization: { mode: 'AlwaysAllow' },
    // A shared machine's disk and memory are not the node's: never evict, never GC images.
    evictionHard: {
      'memory.available': zero,
      'nodefs.available': zero,
      'nodefs.inodesFree': zero,
      'imagefs.available': zero,
    },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    nodeStatusUpdateFrequency: '2s',
    makeIPTablesUtilChains: false,
    serializeImagePulls: false,
    registerWithTaints: [REAL_NODE.taint],
    maxPods: 50,
  });
}

/** The KubeProxyConfiguration: iptables mode, and no sysctl changes the machine may refuse. */
export function kubeProxyConfig(kubeconfig: string): string {
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    clientConnection: { kubeconfig },
    hostnameOverride: REAL_NODE.name,
    bindAddress: NODE_NETWORK.nodeIp,
    healthzBindAddress: `${NODE_NETWORK.nodeIp}:10256`,
    metricsBindAddress: `${NODE_NETWORK.nodeIp}:10249`,
    clusterCIDR: NODE_NETWORK.podCidr,
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    iptables: { syncPeriod: '10s', minSyncPeriod: '0s' },
  });
}
