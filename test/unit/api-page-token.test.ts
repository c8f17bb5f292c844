import { expect } from 'chai';
import { decodePageToken, encodePageToken, filterHash } from '../../controller/server/page-token.js';
import { ApiProblem } from '../../controller/server/problem.js';

describe('page tokens', () => {
  const query = { phase: ['Failed'], order: 'desc', limit: 50, namespace: 'a' };

  it('round-trips a keyset position for the same filters, whatever the page size', () => {
    const token = encodePageToken(['1700000000000000', 'g3-1a2b3c4d'], query);
    expect(decodePageToken(token, { ...query, limit: 10, pageToken: token }, 2)).to.deep.equal([
      '1700000000000000',
      'g3-1a2b3c4d',
    ]);
  });

  it('refuses a token used with other filters, naming pageToken', () => {
    const token = encodePageToken(['1', 'x'], query);
    const err = (() => {
      try {
        decodePageToken(token, { ...query, phase: ['Succeeded'] }, 2);
      } catch (e) {
        return e as ApiProblem;
      }
      return undefined;
    })();
    expect(err).to.be.instanceOf(ApiProblem);
    expect(err!.status).to.equal(400);
    expect(err!.document().invalidParams?.[0]?.name).to.equal('pageToken');
  });

  for (const junk of [
    '',
    'x',
    Buffer.from('{"v":2,"k":["1","x"],"f":"y"}').toString('base64url'),
    Buffer.from('[1]').toString('base64url'),
  ]) {
    it(`refuses junk ${JSON.stringify(junk)}`, () => {
      expect(() => decodePageToken(junk, query, 2)).to.throw(ApiProblem);
    });
  }

  it('ignores the order of filter keys and the paging parameters', () => {
    expect(filterHash({ b: 1, a: 2, limit: 5 })).to.equal(filterHash({ a: 2, b: 1, pageToken: 'z' }));
    expect(filterHash({ a: 1 })).to.not.equal(filterHash({ a: 2 }));
  });
});
