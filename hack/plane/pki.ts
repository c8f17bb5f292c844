/** Certificates and keys of the local control plane, made with openssl (EC P-256, RSA for tokens). */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PrerequisiteError } from './errors.js';

const run = promisify(execFile);

export interface Pki {
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new PrerequisiteError(
        'openssl is required to make the test certificates; install it (apt-get install -y openssl)',
      );
    }
    throw new Error(`openssl ${args[0] ?? ''} failed: ${e.stderr ?? e.message}`);
  }
}

/** Issues a certificate signed by `ca` with the given subject and extensions; [cert, key]. */
export async function issueLeaf(
  dir: string,
  name: string,
  subject: string,
  ext: string[],
  ca: { cert: string; key: string },
): Promise<[string, string]> {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  const cnf = join(dir, `${name}.cnf`);
  const dn = subject.split('/').filter(Boolean).join('\n');
  await writeFile(
    cnf,
    `[req]\ndistinguished_name = dn\nprompt = no\nx509_extensions = ext\n[dn]\n${dn}\n[ext]\n${ext.join('\n')}\n`,
  );
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-config',
    cnf,
    '-key',
    key,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-days',
    '3650',
    '-out',
    cert,
  ]);
  return [cert, key];
}

/** Makes a CA, the apiserver serving certificate, an admin client certificate and the service-account key pair. */
export async function makePki(dir: string): Promise<Pki> {
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.crt');
  const caCnf = join(dir, 'ca.cnf');
  await writeFile(
    caCnf,
    '[req]\ndistinguished_name = dn\nprompt = no\nx509_extensions = ext\n[dn]\nCN = flexcore-test-ca\n[ext]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier = hash\n',
  );
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', caKey]);
  await openssl(['req', '-x509', '-new', '-config', caCnf, '-key', caKey, '-days', '3650', '-out', caCert]);
  const ca = { cert: caCert, key: caKey };
  const usage = [
    'basicConstraints = critical,CA:FALSE',
    'keyUsage = critical,digitalSignature,keyEncipherment',
  ];
  const sans =
    'subjectAltName = IP:127.0.0.1,IP:10.96.0.1,IP:10.86.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local';
  const [serverCert, serverKey] = await issueLeaf(
    dir,
    'apiserver',
    '/CN = kube-apiserver',
    [...usage, 'extendedKeyUsage = serverAuth', sans],
    ca,
  );
  const [adminCert, adminKey] = await issueLeaf(
    dir,
    'admin',
    '/CN = flexcore-admin/O = system:masters',
    [...usage, 'extendedKeyUsage = clientAuth'],
    ca,
  );
  const serviceAccountKey = join(dir, 'sa.key');
  const serviceAccountPub = join(dir, 'sa.pub');
  await openssl([
    'genpkey',
    '-algorithm',
    'RSA',
    '-pkeyopt',
    'rsa_keygen_bits:2048',
    '-out',
    serviceAccountKey,
  ]);
  await openssl(['pkey', '-in', serviceAccountKey, '-pubout', '-out', serviceAccountPub]);
  return { caCert, caKey, serverCert, serverKey, adminCert, adminKey, serviceAccountKey, serviceAccountPub };
}
