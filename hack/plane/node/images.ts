/**
 * Images for the real node: built by hack/build-images.sh into the machine's container
 * storage (cached by their inputs), then copied into the node's containerd once per image id.
 * There is no registry: Pods use them with imagePullPolicy IfNotPresent or Never.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ComponentStartError } from '../errors.js';
import { host } from './host.js';

const BUILD_SCRIPT = fileURLToPath(new URL('../../build-images.sh', import.meta.url));

/** containerd's sandbox image (hack/images/pause). */
export const PAUSE_IMAGE = 'localhost/flexcore/pause:3.10';

/** One image hack/build-images.sh made. */
export interface BuiltImage {
  readonly name: string;
  readonly ref: string;
  readonly id: string;
}

/** Parses build-images.sh's stdout: one "<name> <reference> <image id>" per line. */
export function parseBuiltImages(stdout: string): BuiltImage[] {
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 3)
    .map(([name, ref, id]) => ({ name: name!, ref: ref!, id: id! }));
}

/** Runs hack/build-images.sh for `names`; its progress goes to our stderr. */
export async function buildImages(names: readonly string[]): Promise<BuiltImage[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [BUILD_SCRIPT, ...names], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', (err) => reject(err));
    child.once('exit', (code) => {
      if (code === 0) resolve(parseBuiltImages(out));
      else
        reject(
          new ComponentStartError(
            `hack/build-images.sh ${names.join(' ')} failed (exit ${String(code)}); see the message above`,
            '',
          ),
        );
    });
  });
}

/** The node's containerd images, imported from the build cache when their id changed. */
export class ImageStore {
  constructor(
    private readonly ctr: string,
    private readonly socket: string,
    private readonly stampDir: string,
    private readonly log: (line: string) => void,
  ) {}

  /** Builds (when needed) and imports `names`; resolves with name → reference. */
  async ensure(names: readonly string[]): Promise<Map<string, string>> {
    const built = await buildImages(names);
    await mkdir(this.stampDir, { recursive: true });
    for (const image of built) {
      const stamp = join(this.stampDir, image.name);
      if ((await readFile(stamp, 'utf8').catch(() => '')) === image.id && (await this.has(image.ref)))
        continue;
      const t0 = Date.now();
      await this.importImage(image.ref);
      await writeFile(stamp, image.id);
      this.log(`real node: imported ${image.ref} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    return new Map(built.map((i) => [i.name, i.ref]));
  }

  private async has(ref: string): Promise<boolean> {
    const out = await host(this.ctr, [
      '-a',
      this.socket,
      '-n',
      'k8s.io',
      'images',
      'ls',
      '-q',
      `name==${ref}`,
    ]);
    return out.trim() === ref;
  }

  private async importImage(ref: string): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'flexcore-image-'));
    try {
      const archive = join(dir, 'image.tar');
      await host('skopeo', ['copy', '-q', `containers-storage:${ref}`, `docker-archive:${archive}:${ref}`]);
      const args = ['-a', this.socket, '-n', 'k8s.io', 'images', 'import', archive];
      await host(this.ctr, args).catch(async (err: unknown) => {
        // containerd 1.6 can collect the snapshots of a re-tagged image's shared layers while an
        // import is unpacking onto them ("parent snapshot ... does not exist"): once more unpacks afresh.
        if (!/snapshot .* does not exist/.test((err as Error).message)) throw err;
        this.log(`real node: importing ${ref} again (a snapshot was collected under it)`);
        await host(this.ctr, args);
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
