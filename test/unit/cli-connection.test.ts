import { expect } from 'chai';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import {
  kubeconfigPaths,
  kubeCredentials,
  KubeconfigError,
  resolveConnection,
  serverUrl,
  type KubeCredentials,
} from '../../controller/cli/api/connection.js';
import { UsageError } from '../../controller/cli/api/errors.js';

/** A kubeconfig whose current context is `current`; users named in `users`. */
function kubeconfig(
  current: string,
  contexts: { name: string; user: string; namespace?: string }[],
  users: { name: string; user: Record<string, unknown> }[],
): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': current,
    clusters: [
      { name: 'c', cluster: { server: 'https://127.0.0.1:6443', 'insecure-skip-tls-verify': true } },
    ],
    contexts: contexts.map((c) => ({
      name: c.name,
      context: { cluster: 'c', user: c.user, ...(c.namespace && { namespace: c.namespace }) },
    })),
    users,
  });
}

describe('CLI connection: server, token and namespace', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fc-cli-conn-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('needs a server from --server or FLEXCORE_API_URL, naming both when missing', () => {
    expect(() => serverUrl(undefined, {})).to.throw(UsageError, /--server URL or set FLEXCORE_API_URL/);
    expect(() => serverUrl('', { FLEXCORE_API_URL: '' })).to.throw(UsageError);
    expect(() => serverUrl('localhost:8080', {})).to.throw(UsageError, /http\(s\) URL/);
    expect(serverUrl(undefined, { FLEXCORE_API_URL: 'http://api.example:8080/' })).to.equal(
      'http://api.example:8080',
    );
    expect(serverUrl('https://proxy/flexcore/', { FLEXCORE_API_URL: 'http://other' })).to.equal(
      'https://proxy/flexcore',
    );
  });

  it('takes flags over the environment over the kubeconfig, which it asks only when needed', async () => {
    const asked: boolean[] = [];
    const kube = (wantToken: boolean): Promise<KubeCredentials> => {
      asked.push(wantToken);
      return Promise.resolve({ token: 'from-kube', namespace: 'kube-ns' });
    };
    const env = { FLEXCORE_API_URL: 'http://env:8080', FLEXCORE_TOKEN: 'from-env' };
    expect(await resolveConnection({ token: 'flag', namespace: 'a' }, env, kube)).to.deep.equal({
      server: 'http://env:8080',
      token: 'flag',
      namespace: 'a',
    });
    expect(asked).to.deep.equal([]);
    expect(await resolveConnection({}, env, kube)).to.deep.include({
      token: 'from-env',
      namespace: 'kube-ns',
    });
    expect(asked).to.deep.equal([false], 'a token from the environment: no exec plugin run');
    expect(
      await resolveConnection({ namespace: 'b' }, { FLEXCORE_API_URL: 'http://x' }, kube),
    ).to.deep.include({
      token: 'from-kube',
      namespace: 'b',
    });
    const none = await resolveConnection({}, { FLEXCORE_API_URL: 'http://x' }, () => Promise.resolve({}));
    expect(none).to.deep.equal({ server: 'http://x', namespace: 'default' });
    await resolveConnection({ namespace: '' }, env, kube).then(
      () => expect.fail('an empty namespace'),
      (err: Error) => expect(err).to.be.instanceOf(UsageError),
    );
  });

  it('finds kubeconfig files as kubectl does: $KUBECONFIG list, else ~/.kube/config', () => {
    expect(kubeconfigPaths({ KUBECONFIG: `a${delimiter}${delimiter}b` }, '/home/u')).to.deep.equal([
      'a',
      'b',
    ]);
    expect(kubeconfigPaths({}, '/home/u')).to.deep.equal(['/home/u/.kube/config']);
    expect(kubeconfigPaths({}, undefined)).to.deep.equal([]);
  });

  it("reads the current context's namespace and its user's static token", async () => {
    const path = join(dir, 'static');
    await writeFile(
      path,
      kubeconfig(
        'work',
        [
          { name: 'work', user: 'alice', namespace: 'team-a' },
          { name: 'other', user: 'bob', namespace: 'team-b' },
        ],
        [
          { name: 'alice', user: { token: 'alice-token' } },
          { name: 'bob', user: { token: 'bob-token' } },
        ],
      ),
    );
    expect(await kubeCredentials({ KUBECONFIG: path }, undefined, true)).to.deep.equal({
      token: 'alice-token',
      namespace: 'team-a',
    });
    expect(await kubeCredentials({ KUBECONFIG: path }, undefined, false)).to.deep.equal({
      namespace: 'team-a',
    });
  });

  it('merges several files, the first one winning, and skips files that do not exist', async () => {
    const first = join(dir, 'first');
    const second = join(dir, 'second');
    await writeFile(
      first,
      kubeconfig('mine', [{ name: 'mine', user: 'u' }], [{ name: 'u', user: { token: 't1' } }]),
    );
    await writeFile(
      second,
      kubeconfig(
        'theirs',
        [
          { name: 'mine', user: 'v', namespace: 'ignored' },
          { name: 'theirs', user: 'v' },
        ],
        [
          { name: 'u', user: { token: 'ignored' } },
          { name: 'v', user: { token: 't2' } },
        ],
      ),
    );
    const KUBECONFIG = [join(dir, 'absent'), first, second].join(delimiter);
    expect(await kubeCredentials({ KUBECONFIG }, undefined, true)).to.deep.equal({ token: 't1' });
  });

  it('takes the token of an exec credential plugin, and none from client certificates', async () => {
    const plugin = join(dir, 'credential.sh');
    await writeFile(
      plugin,
      '#!/bin/sh\necho \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-token"}}\'\n',
    );
    await chmod(plugin, 0o755);
    const path = join(dir, 'exec');
    await writeFile(
      path,
      kubeconfig(
        'e',
        [
          { name: 'e', user: 'exec' },
          { name: 'cert', user: 'cert' },
        ],
        [
          {
            name: 'exec',
            user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin } },
          },
          { name: 'cert', user: { 'client-certificate-data': 'eA==', 'client-key-data': 'eA==' } },
        ],
      ),
    );
    expect(await kubeCredentials({ KUBECONFIG: path }, undefined, true)).to.deep.equal({
      token: 'exec-token',
    });
    const config = await readFile(path, 'utf8');
    await writeFile(path, config.replace('current-context: e', 'current-context: cert'));
    expect(await kubeCredentials({ KUBECONFIG: path }, undefined, true)).to.deep.equal({});
  });

  it('says which kubeconfig it cannot read, and works without one', async () => {
    const bad = join(dir, 'bad');
    await writeFile(bad, 'clusters: [unclosed\n');
    await kubeCredentials({ KUBECONFIG: bad }, undefined, true).then(
      () => expect.fail('a broken kubeconfig'),
      (err: Error) => {
        expect(err).to.be.instanceOf(KubeconfigError);
        expect(err.message).to.include(bad);
      },
    );
    expect(await kubeCredentials({}, join(dir, 'no-home'), true, join(dir, 'no-sa'))).to.deep.equal({});
  });

  it("in a Pod with no kubeconfig, uses its service account's token and namespace", async () => {
    const sa = join(dir, 'serviceaccount');
    await mkdir(sa, { recursive: true });
    await writeFile(join(sa, 'token'), 'sa-token\n');
    await writeFile(join(sa, 'namespace'), 'flexcore-system');
    expect(await kubeCredentials({}, join(dir, 'no-home'), true, sa)).to.deep.equal({
      token: 'sa-token',
      namespace: 'flexcore-system',
    });
    expect(await kubeCredentials({}, join(dir, 'no-home'), false, sa)).to.deep.equal({
      namespace: 'flexcore-system',
    });
  });
});
