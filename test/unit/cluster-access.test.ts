/**
 * The controller's own kubeconfig reading: the current context resolved as kubectl does, the
 * HTTPS options client-node would have built, and the cases left to client-node.
 */
import { expect } from 'chai';
import { stringify } from 'yaml';
import {
  accessFromKubeconfig,
  httpsOptionsFor,
  inClusterAccess,
  KubeconfigError,
  staticClusterAccess,
  type StaticAccess,
} from '../../controller/kube/cluster-access.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'dev',
    contexts: [
      { name: 'other', context: { cluster: 'nowhere', user: 'nobody' } },
      { name: 'dev', context: { cluster: 'c1', user: 'u1' } },
    ],
    clusters: [
      { name: 'nowhere', cluster: { server: 'https://wrong:1' } },
      { name: 'c1', cluster: { server: 'https://api.example:6443', ...cluster } },
    ],
    users: [{ name: 'u1', user }],
  });
}

const files: Record<string, string> = {
  '/etc/kube/ca.pem': 'CA-FROM-FILE',
  '/etc/kube/client.pem': 'CERT-FROM-FILE',
  '/etc/kube/client.key': 'KEY-FROM-FILE',
  '/etc/kube/token': 'file-token\n',
};
const readFile = (f: string): Buffer => {
  const text = files[f];
  if (text === undefined) throw new Error(`ENOENT ${f}`);
  return Buffer.from(text);
};

function resolved(text: string): StaticAccess {
  const access = accessFromKubeconfig(text, '/etc/kube');
  if ('plugin' in access) throw new Error(`unexpected plugin ${access.plugin}`);
  return access;
}

describe('cluster access', () => {
  it('resolves the current context, not the first one, with inline certificates', () => {
    const access = resolved(
      kubeconfig(
        { 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') },
        { 'certificate-authority-data': b64('CA') },
      ),
    );
    expect(access.server).to.equal('https://api.example:6443');
    const options = httpsOptionsFor(access, readFile);
    expect(String(options.ca)).to.equal('CA');
    expect(String(options.cert)).to.equal('CERT');
    expect((options.key as Buffer).toString()).to.equal('KEY');
    expect(options.headers).to.deep.equal({});
    expect(options.rejectUnauthorized).to.equal(undefined);
  });

  it('reads relative file names from the kubeconfig folder, on every call', () => {
    const access = resolved(
      kubeconfig(
        { 'client-certificate': 'client.pem', 'client-key': '/etc/kube/client.key', tokenFile: 'token' },
        { 'certificate-authority': 'ca.pem' },
      ),
    );
    const options = httpsOptionsFor(access, readFile);
    expect(String(options.ca)).to.equal('CA-FROM-FILE');
    expect(String(options.cert)).to.equal('CERT-FROM-FILE');
    expect((options.key as Buffer).toString()).to.equal('KEY-FROM-FILE');
    expect(options.headers).to.deep.equal({ Authorization: 'Bearer file-token' });
    files['/etc/kube/token'] = 'rotated';
    expect(httpsOptionsFor(access, readFile).headers).to.deep.equal({ Authorization: 'Bearer rotated' });
    files['/etc/kube/token'] = 'file-token\n';
  });

  it('prefers inline data to a file, as kubectl does', () => {
    const access = resolved(
      kubeconfig({}, { 'certificate-authority': 'ca.pem', 'certificate-authority-data': b64('INLINE') }),
    );
    expect(String(httpsOptionsFor(access, readFile).ca)).to.equal('INLINE');
  });

  it('sends a token, else basic credentials, and impersonation', () => {
    const token = httpsOptionsFor(resolved(kubeconfig({ token: 't0k', as: 'jane' })), readFile);
    expect(token.headers).to.deep.equal({ Authorization: 'Bearer t0k', 'Impersonate-User': 'jane' });
    const basic = httpsOptionsFor(resolved(kubeconfig({ username: 'admin', password: 'pw' })), readFile);
    expect(basic.headers).to.deep.equal({ Authorization: `Basic ${b64('admin:pw')}` });
  });

  it('honours insecure-skip-tls-verify and tls-server-name', () => {
    const options = httpsOptionsFor(
      resolved(kubeconfig({}, { 'insecure-skip-tls-verify': true, 'tls-server-name': 'kubernetes' })),
      readFile,
    );
    expect(options.rejectUnauthorized).to.equal(false);
    expect(options.servername).to.equal('kubernetes');
  });

  it('leaves exec plugins and auth providers to client-node', () => {
    expect(accessFromKubeconfig(kubeconfig({ exec: { command: 'aws' } }), '/')).to.deep.equal({
      plugin: 'exec',
    });
    expect(accessFromKubeconfig(kubeconfig({ 'auth-provider': { name: 'oidc' } }), '/')).to.deep.equal({
      plugin: 'auth-provider',
    });
  });

  it('names what is wrong with a broken kubeconfig', () => {
    const bad = (text: string, message: RegExp): void => {
      expect(() => accessFromKubeconfig(text, '/'))
        .to.throw(KubeconfigError)
        .with.property('message')
        .match(message);
    };
    bad('a: [', /not YAML/);
    bad('- 1', /not a mapping/);
    bad(stringify({ contexts: [] }), /no current-context/);
    bad(stringify({ 'current-context': 'x', contexts: [] }), /contexts has no entry named "x"/);
    bad(kubeconfig({}, { server: '' }), /cluster "c1" has no server/);
    bad(kubeconfig({}, { 'proxy-url': 'http://proxy:3128' }), /proxy-url/);
    bad(kubeconfig({ token: 42 }), /token is not a string/);
  });

  it('builds in-cluster access from the service account, bracketing IPv6 hosts', () => {
    const v4 = inClusterAccess({ KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' });
    expect(v4.server).to.equal('https://10.0.0.1:443');
    expect(v4.tokenFile).to.equal('/var/run/secrets/kubernetes.io/serviceaccount/token');
    const v6 = inClusterAccess({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' });
    expect(v6.server).to.equal('https://[fd00::1]:443');
    expect(() => inClusterAccess({})).to.throw(KubeconfigError, /KUBECONFIG is unset/);
  });

  it('merges into options a caller already set, as client-node does', async () => {
    const access = staticClusterAccess(resolved(kubeconfig({ token: 't' })), readFile);
    const options = { headers: { Accept: 'application/json' } };
    await access.applyToHTTPSOptions(options);
    expect(options.headers).to.deep.equal({ Accept: 'application/json', Authorization: 'Bearer t' });
    expect(access.getCurrentCluster()).to.deep.equal({ server: 'https://api.example:6443' });
  });
});
