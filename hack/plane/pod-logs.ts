/**
 * Container logs for Pods on the fake node. kwok serves the kubelet's containerLogs endpoint
 * that kube-apiserver proxies `pods/log` to; a kwok `Logs` object (kwok.x-k8s.io/v1alpha1,
 * watched as a CRD) named after the Pod routes each container to a file in CRI log format.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parse } from 'yaml';

/** A minimal CRD for kwok's `Logs` kind (ours; the schema keeps unknown fields). */
export const LOGS_CRD = fileURLToPath(new URL('kwok-logs-crd.yaml', import.meta.url));
/** kwok config: containers with no registered log read as empty. */
export const KWOK_LOGS_CONFIG = fileURLToPath(new URL('kwok-logs.yaml', import.meta.url));

const GROUP = 'kwok.x-k8s.io';
const VERSION = 'v1alpha1';
const FIELD_MANAGER = 'flexcore-plane';

/**
 * Creates kwok's Logs CRD, which kwok (started with --enable-crds=Logs) watches, and waits
 * until the apiserver serves it (Established comes first; the aggregator's route a bit later).
 */
export async function createLogsCrd(kc: KubeConfig): Promise<void> {
  const body = parse(await readFile(LOGS_CRD, 'utf8')) as V1CustomResourceDefinition;
  await kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body });
  const custom = kc.makeApiClient(CustomObjectsApi);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const served = await custom
      .listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'logs', limit: 1 })
      .then(
        () => true,
        (err: unknown) => {
          if (Date.now() > deadline)
            throw new Error(
              `kwok's Logs resource was not served 30 s after its CRD was created: ${String(err)}`,
            );
          return false;
        },
      );
    if (served) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * `text` as a CRI container log (what kubelet reads): one stdout line each, a last line
 * without a newline tagged partial so it reads back without one.
 */
export function criLog(text: string, at: Date): string {
  if (text === '') return '';
  const ts = at.toISOString();
  const lines = text.split('\n');
  const last = lines.pop()!;
  const full = lines.map((l) => `${ts} stdout F ${l}\n`).join('');
  return last === '' ? full : `${full}${ts} stdout P ${last}\n`;
}

/** Registers container logs with kwok; one per plane. */
export class PodLogs {
  private readonly containers = new Map<string, Set<string>>();
  // Applies of one Pod's Logs object replace its whole list, so they run one at a time.
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly kc: KubeConfig,
    private readonly kwokUrl: string,
    private readonly caCert: string,
  ) {}

  /**
   * Makes `container` of Pod `namespace/pod` log `text`, whether or not the Pod exists yet;
   * resolves once kwok serves it. Setting it again replaces the text at once.
   */
  async set(namespace: string, pod: string, container: string, text: string): Promise<void> {
    await mkdir(join(this.dir, 'pod-logs'), { recursive: true });
    const file = join(this.dir, 'pod-logs', `${namespace}_${pod}_${container}.log`);
    // Rename, so a reader sees the old text or the new one, never half of it.
    const tmp = `${file}.${randomUUID()}.tmp`;
    await writeFile(tmp, criLog(text, new Date()));
    await rename(tmp, file);
    const key = `${namespace}/${pod}`;
    const known = this.containers.get(key) ?? new Set<string>();
    this.containers.set(key, known.add(container));
    const applied = this.queue.then(() => this.apply(namespace, pod, [...known]));
    this.queue = applied.catch(() => undefined);
    await applied;
    await this.waitServed(namespace, pod, container, text);
  }

  private async apply(namespace: string, pod: string, containers: string[]): Promise<void> {
    const body = {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'Logs',
      metadata: { name: pod, namespace },
      spec: {
        logs: [
          ...containers.map((c) => ({
            containers: [c],
            logsFile: join(this.dir, 'pod-logs', `${namespace}_${pod}_${c}.log`),
          })),
          // Other containers of this Pod: empty, as with no Logs object at all.
          { logsFile: '/dev/null' },
        ],
      },
    };
    await this.kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace,
        plural: 'logs',
        name: pod,
        body,
        fieldManager: FIELD_MANAGER,
        force: true,
      },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
  }

  /** kwok learns of a new Logs object through a watch; ask it directly until it serves the text. */
  private async waitServed(namespace: string, pod: string, container: string, text: string): Promise<void> {
    const url = `${this.kwokUrl}/containerLogs/${namespace}/${pod}/${container}`;
    const ca = await readFile(this.caCert);
    const deadline = Date.now() + 30_000;
    let last = '';
    for (;;) {
      last = await getText(url, ca).catch((err: unknown) => String(err));
      if (last === text) return;
      if (Date.now() > deadline) {
        throw new Error(
          `kwok did not serve the log of ${namespace}/${pod}/${container} in 30 s; it said: ${last}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function getText(url: string, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 ? body : `HTTP ${res.statusCode}: ${body}`));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.end();
  });
}
