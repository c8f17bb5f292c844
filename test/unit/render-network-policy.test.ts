import { expect } from 'chai';
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import { FlexPipeline, FlexPlugin } from '../../api/v1alpha1/index.js';
import {
  denyAllPolicyName,
  egressPolicyName,
  renderNetworkPolicies,
} from '../../controller/pipeline/render/network-policy.js';

const UID = '5e0f8d6a-1111-4222-8333-444455556666';

function plugin(name: string, sandbox?: Record<string, unknown>): FlexPlugin {
  return FlexPlugin.parse({
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPlugin',
    metadata: { name },
    spec: { type: name.startsWith('target') ? 'target' : 'tap', image: 'x/y:1', command: [name], sandbox },
  });
}

const PLUGINS = new Map(
  [
    plugin('tap-db', { egress: [{ cidr: '10.0.0.0/8', ports: [{ port: 5432 }] }] }),
    plugin('tap-api', { egress: [{ cidr: '203.0.113.0/24' }], allowDNS: false }),
    plugin('tap-offline'),
    plugin('target-s3', {
      egress: [{ cidr: '2001:db8::/32', ports: [{ port: 443 }, { port: 8443, protocol: 'UDP' }] }],
    }),
    plugin('target-local', { writablePaths: ['/data'] }),
  ].map((p) => [p.metadata.name ?? '', p]),
);

function pipeline(steps: Record<string, unknown>[], name = 'orders'): FlexPipeline {
  return FlexPipeline.parse({
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPipeline',
    metadata: { name, namespace: 'data', uid: UID },
    spec: { steps },
  });
}

const DNS = {
  ports: [
    { protocol: 'UDP', port: 53 },
    { protocol: 'TCP', port: 53 },
  ],
};

/** The egress rules of each step policy, by name. */
function egressByName(policies: V1NetworkPolicy[]): Record<string, unknown> {
  return Object.fromEntries(policies.slice(1).map((p) => [p.metadata?.name ?? '', p.spec?.egress]));
}

describe('renderNetworkPolicies', () => {
  const cases: { name: string; steps: Record<string, unknown>[]; egress: Record<string, unknown> }[] = [
    { name: 'no egress anywhere: only deny-all', steps: [{ name: 'a', plugin: 'tap-offline' }], egress: {} },
    {
      name: 'a step with egress, plus DNS',
      steps: [{ name: 'extract', plugin: 'tap-db' }],
      egress: {
        'orders.extract.egress': [
          { to: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ protocol: 'TCP', port: 5432 }] },
          DNS,
        ],
      },
    },
    {
      name: 'all ports when none are listed; no DNS when the plugin turns it off',
      steps: [{ name: 'api', plugin: 'tap-api' }],
      egress: { 'orders.api.egress': [{ to: [{ ipBlock: { cidr: '203.0.113.0/24' } }] }] },
    },
    {
      name: 'a Singer pair gets both plugins’ egress (DNS from the one that allows it)',
      steps: [{ name: 'load', plugin: 'tap-api', target: { plugin: 'target-s3' } }],
      egress: {
        'orders.load.egress': [
          { to: [{ ipBlock: { cidr: '203.0.113.0/24' } }] },
          {
            to: [{ ipBlock: { cidr: '2001:db8::/32' } }],
            ports: [
              { protocol: 'TCP', port: 443 },
              { protocol: 'UDP', port: 8443 },
            ],
          },
          DNS,
        ],
      },
    },
    {
      name: 'a pair where only the tap has egress; steps without egress get no policy',
      steps: [
        { name: 'load', plugin: 'tap-db', target: { plugin: 'target-local' } },
        { name: 'local', plugin: 'tap-offline', dependsOn: ['load'] },
      ],
      egress: {
        'orders.load.egress': [
          { to: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ protocol: 'TCP', port: 5432 }] },
          DNS,
        ],
      },
    },
    {
      name: 'an unknown plugin grants nothing',
      steps: [{ name: 'ghost', plugin: 'not-installed', target: { plugin: 'target-local' } }],
      egress: {},
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const policies = renderNetworkPolicies(pipeline(c.steps), PLUGINS);
      expect(policies[0]?.metadata?.name).to.equal('orders.deny-all');
      expect(egressByName(policies)).to.deep.equal(c.egress);
    });
  }

  it('denies everything in and out of every Pod of the pipeline', () => {
    const [denyAll] = renderNetworkPolicies(pipeline([{ name: 'a', plugin: 'tap-offline' }]), PLUGINS);
    expect(denyAll).to.deep.equal({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name: 'orders.deny-all',
        namespace: 'data',
        labels: {
          'app.kubernetes.io/managed-by': 'flexcore',
          'flexcore.io/pipeline': 'orders',
          'flexcore.io/pipeline-uid': UID,
        },
        ownerReferences: [
          {
            apiVersion: 'flexcore.io/v1alpha1',
            kind: 'FlexPipeline',
            name: 'orders',
            uid: UID,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        podSelector: {
          matchLabels: { 'app.kubernetes.io/managed-by': 'flexcore', 'flexcore.io/pipeline-uid': UID },
        },
        policyTypes: ['Ingress', 'Egress'],
      },
    });
  });

  it('selects only the step’s Pods with a step policy, which only adds egress', () => {
    const [, step] = renderNetworkPolicies(pipeline([{ name: 'extract', plugin: 'tap-db' }]), PLUGINS);
    expect(step?.spec?.podSelector).to.deep.equal({
      matchLabels: {
        'app.kubernetes.io/managed-by': 'flexcore',
        'flexcore.io/pipeline-uid': UID,
        'flexcore.io/step': 'extract',
      },
    });
    expect(step?.spec?.policyTypes).to.deep.equal(['Egress']);
    expect(step?.spec).to.not.have.property('ingress');
    expect(step?.metadata?.labels?.['flexcore.io/step']).to.equal('extract');
    expect(step?.metadata?.ownerReferences?.[0]?.uid).to.equal(UID);
  });

  it('keeps policies in step order and is deterministic', () => {
    const p = pipeline([
      { name: 'b', plugin: 'tap-db' },
      { name: 'a', plugin: 'tap-api' },
    ]);
    const names = renderNetworkPolicies(p, PLUGINS).map((x) => x.metadata?.name);
    expect(names).to.deep.equal(['orders.deny-all', 'orders.b.egress', 'orders.a.egress']);
    expect(renderNetworkPolicies(p, PLUGINS)).to.deep.equal(renderNetworkPolicies(p, PLUGINS));
  });

  describe('names never collide within a namespace', () => {
    const cases: [string, string][] = [
      // pipeline "a-b" vs. step "b" of pipeline "a": the naive <pipeline> / <pipeline>-<step> collide.
      [denyAllPolicyName('a-b'), egressPolicyName('a', 'b')],
      // a dotted pipeline name vs. a step of a shorter one.
      [denyAllPolicyName('a.b.egress'), egressPolicyName('a', 'b')],
      [denyAllPolicyName('a'), egressPolicyName('a', 'deny-all')],
    ];
    for (const [x, y] of cases) it(`${x} ≠ ${y}`, () => expect(x).to.not.equal(y));

    it('fits a DNS subdomain at the longest pipeline and step names', () => {
      const name = egressPolicyName('p'.repeat(63), 's'.repeat(40));
      expect(name.length).to.be.at.most(253);
      expect(name).to.match(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
    });
  });
});
