import { expect } from 'chai';
import { storeConfigFromEnv } from '../../controller/store/connection.js';
import { FEED_START, formatCursor, parseCursor } from '../../controller/store/cursor.js';
import {
  classify,
  isUnavailable,
  StoreConfigError,
  StoreUnavailableError,
} from '../../controller/store/errors.js';
import { deterministicEventId } from '../../controller/store/event-store.js';
import { boundLogTail, MAX_LOG_TAIL_BYTES } from '../../controller/store/event-types.js';
import { checkEventData } from '../../controller/store/projector.js';

describe('event store: pure parts', () => {
  describe('deterministicEventId', () => {
    it('is a stable RFC 4122 version-5-shaped UUID of its parts', () => {
      const id = deterministicEventId('run-1', 'extract', 2, 'Started');
      expect(id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(deterministicEventId('run-1', 'extract', 2, 'Started')).to.equal(id);
    });
    it('separates parts, so ("a","bc") and ("ab","c") differ', () => {
      expect(deterministicEventId('a', 'bc')).to.not.equal(deterministicEventId('ab', 'c'));
      expect(deterministicEventId('run-1', 1)).to.equal(deterministicEventId('run-1', '1'));
    });
  });

  describe('feed cursors', () => {
    it('round-trip', () => {
      const c = { txId: '123456789012', position: 42 };
      expect(parseCursor(formatCursor(c))).to.deep.equal(c);
      expect(formatCursor(FEED_START)).to.equal('0.0');
    });
    for (const bad of ['', '1', '1.', '.1', 'a.1', '1.-2', '1.2.3', '1.99999999999999999999']) {
      it(`rejects ${JSON.stringify(bad)}`, () => expect(parseCursor(bad)).to.equal(undefined));
    }
  });

  describe('storeConfigFromEnv', () => {
    it('defaults to the embedded store, 10 connections, no TLS', () => {
      expect(storeConfigFromEnv({})).to.deep.equal({
        url: undefined,
        poolSize: 10,
        tls: 'disable',
        caFile: undefined,
      });
    });
    it('reads DATABASE_URL, pool size, TLS mode and CA file', () => {
      const c = storeConfigFromEnv({
        DATABASE_URL: 'postgresql://u:p@db:5432/flexcore',
        DATABASE_POOL_SIZE: '25',
        DATABASE_TLS: 'verify-full',
        DATABASE_CA_FILE: '/etc/ca.pem',
      });
      expect(c).to.deep.equal({
        url: 'postgresql://u:p@db:5432/flexcore',
        poolSize: 25,
        tls: 'verify-full',
        caFile: '/etc/ca.pem',
      });
    });
    const bad: [NodeJS.ProcessEnv, RegExp][] = [
      [{ DATABASE_POOL_SIZE: '0' }, /DATABASE_POOL_SIZE must be an integer from 1 to 1000/],
      [{ DATABASE_POOL_SIZE: '2.5' }, /DATABASE_POOL_SIZE/],
      [{ DATABASE_TLS: 'yes' }, /DATABASE_TLS must be disable, require or verify-full/],
      [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must start with postgres:\/\//],
    ];
    for (const [env, message] of bad) {
      it(`refuses ${JSON.stringify(env)}`, () => {
        expect(() => storeConfigFromEnv(env)).to.throw(StoreConfigError, message);
      });
    }
  });

  describe('classifying failures', () => {
    it('treats connection-level failures as unavailable', () => {
      for (const err of [
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
        Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
        Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
        new Error('Connection terminated unexpectedly'),
      ]) {
        expect(isUnavailable(err), err.message).to.equal(true);
        expect(classify(err)).to.be.instanceOf(StoreUnavailableError);
      }
    });
    it('leaves other errors alone', () => {
      const syntax = Object.assign(new Error('syntax error'), { code: '42601' });
      expect(isUnavailable(syntax)).to.equal(false);
      expect(classify(syntax)).to.equal(syntax);
    });
  });

  describe('event data checks', () => {
    it('accepts well-formed projected events and any data for other types', () => {
      expect(() =>
        checkEventData('StepAttemptFinished', {
          runId: 'r',
          step: 's',
          attempt: 1,
          phase: 'Failed',
          exitCode: 3,
        }),
      ).to.not.throw();
      expect(() => checkEventData('SomethingElse', { anything: true })).to.not.throw();
    });
    it('names the bad field of a projected event', () => {
      expect(() =>
        checkEventData('StepAttemptFinished', { runId: 'r', step: 's', attempt: 0, phase: 'Failed' }),
      ).to.throw(TypeError, /StepAttemptFinished event data is invalid at attempt/);
    });
  });

  describe('boundLogTail', () => {
    it('keeps short logs whole and cuts long ones to the last bytes on a character boundary', () => {
      expect(boundLogTail('short')).to.deep.equal({ tail: 'short', truncated: false });
      // PostgreSQL's jsonb refuses NUL: the attempt's end would never be recorded.
      expect(boundLogTail('a\u0000b')).to.deep.equal({ tail: 'a\ufffdb', truncated: false });
      const long = `${'a'.repeat(10)}${'€'.repeat(MAX_LOG_TAIL_BYTES / 3 + 10)}`;
      const { tail, truncated } = boundLogTail(long);
      expect(truncated).to.equal(true);
      expect(Buffer.byteLength(tail)).to.be.at.most(MAX_LOG_TAIL_BYTES);
      expect(tail).to.match(/^€+$/);
    });
  });
});
