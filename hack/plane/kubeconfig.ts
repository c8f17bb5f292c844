import { readFile, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

/** Writes an admin kubeconfig for `server` with embedded certificates. */
export async function writeKubeconfig(
  path: string,
  server: string,
  files: { caCert: string; cert: string; key: string },
): Promise<void> {
  const b64 = async (f: string): Promise<string> => (await readFile(f)).toString('base64');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'flexcore-local', cluster: { server, 'certificate-authority-data': await b64(files.caCert) } },
    ],
    users: [
      {
        name: 'flexcore-admin',
        user: { 'client-certificate-data': await b64(files.cert), 'client-key-data': await b64(files.key) },
      },
    ],
    contexts: [{ name: 'flexcore-local', context: { cluster: 'flexcore-local', user: 'flexcore-admin' } }],
    'current-context': 'flexcore-local',
  };
  await writeFile(path, stringify(config), { mode: 0o600 });
}
