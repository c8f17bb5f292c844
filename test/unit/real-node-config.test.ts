import { expect } from 'chai';
import { parse } from 'yaml';
import { mountsUnder } from '../../hack/plane/node/host.js';
import {
  cniConflist,
  containerdConfig,
  kubeletConfig,
  kubeProxyConfig,
  NODE_NETWORK,
  REAL_NODE,
  type NodePaths,
} from '../../hack/plane/node/node-config.js';
import { parseBuiltImages } from '../../hack/plane/node/images.js';

const PATHS: NodePaths = {
  containerdRoot: '/c/node/containerd',
  containerdState: '/c/node/run/containerd',
  containerdSocket: '/c/node/run/containerd.sock',
  cniConfDir: '/c/node/run/cni/net.d',
  cniDataDir: '/c/node/run/cni/networks',
  cniBinDir: '/usr/lib/cni',
  runc: '/usr/sbin/runc',
  runcRoot: '/c/node/run/runc',
  kubeletRoot: '/c/node/kubelet',
};

describe('real node configuration', () => {
  it('gives containerd its own root, state, socket, runc (with a state root of its own) and CNI', () => {
    const toml = containerdConfig(PATHS, 'localhost/flexcore/pause:3.10');
    for (const line of [
      'root = "/c/node/containerd"',
      'state = "/c/node/run/containerd"',
      'address = "/c/node/run/containerd.sock"',
      'sandbox_image = "localhost/flexcore/pause:3.10"',
      'BinaryName = "/usr/sbin/runc"',
      'Root = "/c/node/run/runc"',
      'SystemdCgroup = false',
      'restrict_oom_score_adj = true',
      'conf_dir = "/c/node/run/cni/net.d"',
    ])
      expect(toml).to.contain(line);
  });

  it('puts Pods on a bridge of their own, with addresses kept under the run directory', () => {
    const conf = JSON.parse(cniConflist(PATHS)) as {
      plugins: {
        type: string;
        bridge?: string;
        ipam?: { dataDir: string; ranges: { subnet: string }[][] };
      }[];
    };
    const bridge = conf.plugins.find((p) => p.type === 'bridge')!;
    expect(bridge.bridge).to.equal(NODE_NETWORK.bridge);
    expect(bridge.ipam?.dataDir).to.equal(PATHS.cniDataDir);
    expect(bridge.ipam?.ranges[0]![0]!.subnet).to.equal(NODE_NETWORK.podCidr);
  });

  it('has the kubelet serve on the node address, register tainted and never evict', () => {
    const cfg = parse(
      kubeletConfig(PATHS, { caCert: '/ca.crt', servingCert: '/s.crt', servingKey: '/s.key' }),
    ) as Record<string, unknown>;
    expect(cfg['address']).to.equal(NODE_NETWORK.nodeIp);
    expect(cfg['containerRuntimeEndpoint']).to.equal(`unix://${PATHS.containerdSocket}`);
    expect(cfg['registerWithTaints']).to.deep.equal([REAL_NODE.taint]);
    expect(cfg['readOnlyPort']).to.equal(0);
    expect(Object.values(cfg['evictionHard'] as Record<string, string>)).to.deep.equal([
      '0%',
      '0%',
      '0%',
      '0%',
    ]);
  });

  it('runs kube-proxy in iptables mode without touching conntrack sysctls', () => {
    const cfg = parse(kubeProxyConfig('/kp.kubeconfig')) as Record<string, unknown>;
    expect(cfg['mode']).to.equal('iptables');
    expect(cfg['clusterCIDR']).to.equal(NODE_NETWORK.podCidr);
    expect(cfg['conntrack']).to.include({ maxPerCore: 0, min: 0 });
  });
});

describe('mountsUnder (what the node left mounted)', () => {
  const info = [
    '22 1 0:21 / /proc rw shared:5 - proc proc rw',
    '100 22 0:50 / /c/node/kubelet/pods/u1/volumes/kubernetes.io~secret/config rw - tmpfs tmpfs rw',
    '101 22 0:51 / /c/node/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/with\\040space rw - tmpfs tmpfs rw',
    '102 22 0:52 / /c/node/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc/rootfs rw - overlay overlay rw',
    '103 22 0:53 / /c/node-other/x rw - tmpfs tmpfs rw',
    '104 22 0:54 / /c/node/run rw - tmpfs tmpfs rw',
  ].join('\n');

  it('lists mount points at or under the directories, deepest first, unescaped', () => {
    expect(mountsUnder(['/c/node/kubelet', '/c/node/run'], info)).to.deep.equal([
      '/c/node/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc/rootfs',
      '/c/node/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/with space',
      '/c/node/kubelet/pods/u1/volumes/kubernetes.io~secret/config',
      '/c/node/run',
    ]);
  });

  it('does not take a sibling with the same prefix', () => {
    expect(mountsUnder(['/c/node'], info)).to.not.include('/c/node-other/x');
  });
});

describe('parseBuiltImages (hack/build-images.sh output)', () => {
  it('reads name, reference and id per line and skips anything else', () => {
    expect(
      parseBuiltImages(
        'debian localhost/debian:bookworm-slim abc\n\nnoise\npause localhost/flexcore/pause:3.10 def\n',
      ),
    ).to.deep.equal([
      { name: 'debian', ref: 'localhost/debian:bookworm-slim', id: 'abc' },
      { name: 'pause', ref: 'localhost/flexcore/pause:3.10', id: 'def' },
    ]);
  });
});
