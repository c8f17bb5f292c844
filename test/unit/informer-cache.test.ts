import { expect } from 'chai';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { apiStatusError, ApiStatusError, isGone } from '../../controller/kube/api-status-error.js';
import { deepFreeze } from '../../controller/kube/deep-freeze.js';
import { resourceLabel } from '../../controller/kube/informer-metrics.js';
import { ObjectCache } from '../../controller/kube/object-cache.js';
import { objectKey, splitObjectKey } from '../../controller/kube/object-key.js';
import { compareResourceVersions, isNewerOrUnknown } from '../../controller/kube/resource-version.js';

function cm(
  name: string,
  resourceVersion: string,
  data: Record<string, string> = {},
  namespace = 'ns',
): V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, resourceVersion }, data };
}

describe('informer cache', () => {
  describe('ObjectCache.replace', () => {
    it('adds everything on the first list', () => {
      const cache = new ObjectCache<V1ConfigMap>();
      const changes = cache.replace([cm('a', '1'), cm('b', '2')]);
      expect(changes.map((c) => `${c.type} ${c.object.metadata?.name}`)).to.deep.equal(['add a', 'add b']);
      expect(cache.size).to.equal(2);
      expect(cache.get('ns/a')?.metadata?.resourceVersion).to.equal('1');
    });

    it('emits the difference on a relist: deletes for vanished keys, updates for new versions only', () => {
      const cache = new ObjectCache<V1ConfigMap>();
      cache.replace([cm('keep', '1'), cm('change', '2'), cm('gone', '3')]);
      const changes = cache.replace([cm('keep', '1'), cm('change', '7', { v: '2' }), cm('new', '8')]);
      expect(changes.map((c) => `${c.type} ${c.object.metadata?.name}`)).to.deep.equal([
        'delete gone',
        'update change',
        'add new',
      ]);
      const update = changes.find((c) => c.type === 'update');
      expect(update?.type === 'update' && update.old.metadata?.resourceVersion).to.equal('2');
      expect(cache.list().map((o) => o.metadata?.name)).to.have.members(['keep', 'change', 'new']);
      expect(cache.get('ns/gone')).to.equal(undefined);
    });

    it('keeps the cached instance of an unchanged object', () => {
      const cache = new ObjectCache<V1ConfigMap>();
      cache.replace([cm('a', '1')]);
      const before = cache.get('ns/a');
      expect(cache.replace([cm('a', '1')])).to.deep.equal([]);
      expect(cache.get('ns/a')).to.equal(before);
    });

    it('skips objects without a name', () => {
      const cache = new ObjectCache<V1ConfigMap>();
      expect(cache.replace([{ metadata: { resourceVersion: '1' } }, cm('a', '2')])).to.have.length(1);
      expect(cache.size).to.equal(1);
    });
  });

  describe('ObjectCache.apply', () => {
    it('adds, updates and deletes', () => {
      const cache = new ObjectCache<V1ConfigMap>();
      expect(cache.apply('ADDED', cm('a', '5'))?.type).to.equal('add');
      const update = cache.apply('MODIFIED', cm('a', '6', { k: 'v' }));
      expect(update?.type).to.equal('update');
      expect(update?.type === 'update' && update.old.metadata?.resourceVersion).to.equal('5');
      expect(cache.get('ns/a')?.data).to.deep.equal({ k: 'v' });
      const del = cache.apply('DELETED', cm('a', '7'));
      expect(del?.type).to.equal('delete');
      expect(del?.object.metadata?.resourceVersion).to.equal('7');
      expect(cache.size).to.equal(0);
    });

    it('never goes back in time: an older or equal version changes nothing', () => {
      const cache = new ObjectCache<V1ConfigMap>();
      cache.apply('ADDED', cm('a', '10', { v: 'new' }));
      expect(cache.apply('MODIFIED', cm('a', '9', { v: 'old' }))).to.equal(undefined);
      expect(cache.apply('MODIFIED', cm('a', '10', { v: 'same' }))).to.equal(undefined);
      expect(cache.apply('ADDED', cm('a', '3'))).to.equal(undefined);
      expect(cache.apply('DELETED', cm('a', '8'))).to.equal(undefined);
      expect(cache.get('ns/a')?.data).to.deep.equal({ v: 'new' });
    });

    it('compares versions as numbers, not as strings', () => {
      const cache = new ObjectCache<V1ConfigMap>();
      cache.apply('ADDED', cm('a', '9'));
      expect(cache.apply('MODIFIED', cm('a', '10'))?.type).to.equal('update');
    });

    it('treats MODIFIED of an unknown key as an add and ignores DELETED of one', () => {
      const cache = new ObjectCache<V1ConfigMap>();
      expect(cache.apply('MODIFIED', cm('a', '1'))?.type).to.equal('add');
      expect(cache.apply('DELETED', cm('b', '2'))).to.equal(undefined);
    });

    it('accepts versions it cannot compare', () => {
      const cache = new ObjectCache<V1ConfigMap>();
      cache.apply('ADDED', cm('a', 'opaque-2'));
      expect(cache.apply('MODIFIED', cm('a', 'opaque-1'))?.type).to.equal('update');
    });

    it('hands out frozen objects, deep', () => {
      const cache = new ObjectCache<V1ConfigMap>();
      cache.apply('ADDED', cm('a', '1', { k: 'v' }));
      const obj = cache.get('ns/a')!;
      expect(() => ((obj.metadata as { name: string }).name = 'x')).to.throw(TypeError);
      expect(() => ((obj.data as Record<string, string>).k = 'changed')).to.throw(TypeError);
      expect(cache.get('ns/a')?.data?.k).to.equal('v');
    });
  });

  describe('keys, versions, labels, errors', () => {
    it('keys namespaced objects as namespace/name and cluster-scoped ones as name', () => {
      expect(objectKey({ metadata: { namespace: 'ns', name: 'a' } })).to.equal('ns/a');
      expect(objectKey({ metadata: { name: 'node-1' } })).to.equal('node-1');
      expect(() => objectKey({ metadata: {} })).to.throw(TypeError, /no metadata.name/);
      expect(splitObjectKey('ns/a')).to.deep.equal({ namespace: 'ns', name: 'a' });
      expect(splitObjectKey('node-1')).to.deep.equal({ name: 'node-1' });
    });

    it('orders decimal resourceVersions numerically and leaves others unordered', () => {
      expect(compareResourceVersions('9', '10')).to.be.lessThan(0);
      expect(compareResourceVersions('123456789012345678901', '123456789012345678900')).to.be.greaterThan(0);
      expect(compareResourceVersions('7', '7')).to.equal(0);
      expect(compareResourceVersions('abc', '7')).to.equal(undefined);
      expect(compareResourceVersions(undefined, '7')).to.equal(undefined);
      expect(isNewerOrUnknown('8', '7')).to.equal(true);
      expect(isNewerOrUnknown('7', '7')).to.equal(false);
      expect(isNewerOrUnknown('6', '7')).to.equal(false);
      expect(isNewerOrUnknown('6', '')).to.equal(true);
    });

    it('freezes nested arrays and objects', () => {
      const value = deepFreeze({ a: [{ b: 1 }], c: { d: 'x' } });
      expect(Object.isFrozen(value.a)).to.equal(true);
      expect(Object.isFrozen(value.a[0])).to.equal(true);
      expect(Object.isFrozen(value.c)).to.equal(true);
    });

    const labels: [string, string][] = [
      ['/api/v1/pods', 'pods'],
      ['/api/v1/namespaces/team-a/configmaps', 'configmaps'],
      ['/apis/flexcore.io/v1alpha1/flexpipelines', 'flexpipelines.flexcore.io'],
      ['/apis/flexcore.io/v1alpha1/namespaces/x/flexplugins', 'flexplugins.flexcore.io'],
      ['/apis/apps/v1/deployments/', 'deployments.apps'],
    ];
    for (const [path, label] of labels) {
      it(`labels ${path} as ${label}`, () => expect(resourceLabel(path)).to.equal(label));
    }

    it('reads code and reason from a Status, and knows 410 when it sees it', () => {
      const expired = apiStatusError(
        {
          kind: 'Status',
          status: 'Failure',
          message: 'too old resource version: 1 (270)',
          reason: 'Expired',
          code: 410,
        },
        500,
      );
      expect(expired).to.be.instanceOf(ApiStatusError);
      expect(expired).to.include({ code: 410, reason: 'Expired', name: 'ApiStatusError' });
      expect(expired.message).to.equal('too old resource version: 1 (270)');
      expect(isGone(expired)).to.equal(true);
      const noBody = apiStatusError(undefined, 503);
      expect(noBody.code).to.equal(503);
      expect(isGone(noBody)).to.equal(false);
      expect(isGone(new Error('Gone'))).to.equal(false);
      const lookalike = Object.assign(new Error('x'), { name: 'ApiStatusError', code: 410 });
      expect(isGone(lookalike)).to.equal(true);
    });
  });
});
