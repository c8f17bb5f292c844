import { expect } from 'chai';
import { auditRecords, compareRbac, grantKey, grantsOf } from '../../test/e2e/support/rbac-audit.js';

const SA = { namespace: 'flexcore-system', name: 'flexcore' };
const USER = 'system:serviceaccount:flexcore-system:flexcore';

const event = (verb: string, ref: Record<string, string>, code = 200, username = USER): string =>
  JSON.stringify({
    stage: 'ResponseComplete',
    user: { username },
    verb,
    objectRef: ref,
    responseStatus: { code },
  });

const objects = [
  {
    kind: 'ClusterRole',
    metadata: { name: 'ctl' },
    rules: [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['list', 'get'] }],
  },
  {
    kind: 'ClusterRoleBinding',
    metadata: { name: 'ctl' },
    roleRef: { kind: 'ClusterRole', name: 'ctl' },
    subjects: [{ kind: 'ServiceAccount', name: 'flexcore', namespace: 'flexcore-system' }],
  },
  {
    kind: 'Role',
    metadata: { name: 'le', namespace: 'flexcore-system' },
    rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get'] }],
  },
  {
    kind: 'RoleBinding',
    metadata: { name: 'le', namespace: 'flexcore-system' },
    roleRef: { kind: 'Role', name: 'le' },
    subjects: [{ kind: 'ServiceAccount', name: 'flexcore', namespace: 'flexcore-system' }],
  },
  {
    kind: 'RoleBinding',
    metadata: { name: 'other', namespace: 'x' },
    roleRef: { kind: 'Role', name: 'le' },
    subjects: [{ kind: 'ServiceAccount', name: 'someone-else', namespace: 'x' }],
  },
];

describe('RBAC audit comparison', () => {
  it('expands the bound roles into grants, scoped by the binding', () => {
    expect(grantsOf(objects, SA).map(grantKey).sort()).to.deep.equal([
      'get coordination.k8s.io/leases in flexcore-system',
      'get core/pods in *',
      'get core/pods/log in *',
      'list core/pods in *',
      'list core/pods/log in *',
    ]);
  });

  it('reads only the account’s completed requests, with subresources', () => {
    const log = [
      event('get', { resource: 'pods', subresource: 'log', namespace: 'a', name: 'p' }),
      JSON.stringify({
        stage: 'RequestReceived',
        user: { username: USER },
        verb: 'get',
        objectRef: { resource: 'pods' },
      }),
      event('list', { resource: 'pods' }, 200, 'system:admin'),
      '',
    ].join('\n');
    expect(auditRecords(log, USER)).to.deep.equal([
      { namespace: 'a', group: '', resource: 'pods/log', verb: 'get', code: 200, name: 'p' },
    ]);
  });

  it('counts a watch still open (ResponseStarted) as used', () => {
    const log = JSON.stringify({
      stage: 'ResponseStarted',
      user: { username: USER },
      verb: 'watch',
      objectRef: { resource: 'pods', namespace: 'a' },
      responseStatus: { code: 200 },
    });
    expect(auditRecords(log, USER).map(grantKey)).to.deep.equal(['watch core/pods in a']);
  });

  it('counts a server-side apply that created (a patch answered 201) as a create too', () => {
    const log = event(
      'patch',
      { apiGroup: 'networking.k8s.io', resource: 'networkpolicies', namespace: 'a' },
      201,
    );
    expect(auditRecords(log, USER).map(grantKey)).to.deep.equal([
      'patch networking.k8s.io/networkpolicies in a',
      'create networking.k8s.io/networkpolicies in a',
    ]);
  });

  it('finds unused grants, denials and requests outside the grants', () => {
    const records = auditRecords(
      [
        event('list', { resource: 'pods' }),
        event('get', { resource: 'pods', subresource: 'log', namespace: 'a' }),
        event('get', { apiGroup: 'coordination.k8s.io', resource: 'leases', namespace: 'other' }, 403),
      ].join('\n'),
      USER,
    );
    const result = compareRbac(grantsOf(objects, SA), records);
    expect(result.unused.map(grantKey).sort()).to.deep.equal([
      'get coordination.k8s.io/leases in flexcore-system',
      'get core/pods in *',
      'list core/pods/log in *',
    ]);
    expect(result.denied.map(grantKey)).to.deep.equal(['get coordination.k8s.io/leases in other']);
    expect(result.uncovered.map(grantKey)).to.deep.equal(['get coordination.k8s.io/leases in other']);
  });
});
