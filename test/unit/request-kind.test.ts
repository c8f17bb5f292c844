import { expect } from 'chai';
import { requestKind } from '../../controller/apply/request-kind.js';

describe('requestKind', () => {
  const cases: [string, string, string | undefined, string, string][] = [
    [
      'GET',
      '/api/v1/namespaces/a/pods/p-1/log?container=plugin&tailLines=2000',
      undefined,
      'get',
      'pods/log',
    ],
    ['GET', '/api/v1/namespaces/a/secrets/s', undefined, 'get', 'secrets'],
    [
      'GET',
      '/apis/networking.k8s.io/v1/namespaces/a/networkpolicies?labelSelector=x',
      undefined,
      'list',
      'networkpolicies',
    ],
    ['GET', '/api/v1/pods?watch=true', undefined, 'watch', 'pods'],
    ['POST', '/api/v1/namespaces/a/pods', 'application/json', 'create', 'pods'],
    ['POST', '/apis/events.k8s.io/v1/namespaces/a/events', 'application/json', 'create', 'events'],
    [
      'PATCH',
      '/apis/flexcore.io/v1alpha1/namespaces/a/flexpipelines/p/status',
      'application/json-patch+json',
      'patch',
      'flexpipelines/status',
    ],
    [
      'PATCH',
      '/apis/networking.k8s.io/v1/namespaces/a/networkpolicies/n?fieldManager=flexcore&force=true',
      'application/apply-patch+yaml',
      'apply',
      'networkpolicies',
    ],
    ['PUT', '/apis/coordination.k8s.io/v1/namespaces/a/leases/l', 'application/json', 'update', 'leases'],
    ['DELETE', '/api/v1/namespaces/a/pods/p', 'application/json', 'delete', 'pods'],
    ['DELETE', '/api/v1/namespaces/a/pods', 'application/json', 'deletecollection', 'pods'],
    ['POST', '/apis/authentication.k8s.io/v1/tokenreviews', 'application/json', 'create', 'tokenreviews'],
    ['GET', '/api/v1/namespaces/a', undefined, 'get', 'namespaces'],
    ['GET', '/version', undefined, 'get', 'other'],
  ];
  for (const [method, path, type, verb, resource] of cases) {
    it(`${method} ${path} is ${verb} ${resource}`, () => {
      expect(requestKind(method, path, type)).to.deep.equal({ verb, resource });
    });
  }
});
