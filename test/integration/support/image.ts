/**
 * A built image, looked at without a daemon: its configuration (`buildah inspect`), its root
 * filesystem (`buildah mount` of a working container), its size (`skopeo copy` to a directory,
 * with and without compression), a docker-archive for container-structure-test's tar driver,
 * and commands run in it by runc the way a restricted Pod runs them: numeric non-root user, no
 * capabilities, no new privileges, read-only root filesystem, writable mounts only where
 * given. Needs root, like hack/build-images.sh.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containersConf } from '../../../hack/plugins/image-command.js';

/** What a command run in the image did. */
export interface RunResult {
  readonly code: number | null;
  readonly output: string;
}

/** The parts of the image configuration the checks read. */
export interface ImageConfig {
  readonly User?: string;
  readonly Env?: string[];
  readonly Entrypoint?: string[];
  readonly Cmd?: string[];
  readonly WorkingDir?: string;
}

function tool(name: string, args: readonly string[]): Promise<string> {
  const env = { ...process.env, CONTAINERS_CONF: containersConf() };
  return new Promise((resolve, reject) => {
    execFile(name, args, { env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${name} ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** The image's OCI configuration. */
export async function imageConfig(ref: string): Promise<ImageConfig> {
  const info = JSON.parse(await tool('buildah', ['inspect', '--type', 'image', ref])) as {
    OCIv1: { config: ImageConfig };
  };
  return info.OCIv1.config;
}

/** A working container of the image with its root filesystem mounted on the host. */
export interface MountedImage {
  readonly rootfs: string;
  readonly config: ImageConfig;
  remove(): Promise<void>;
}

export async function mountImage(ref: string): Promise<MountedImage> {
  const name = `flexcore-check-${randomBytes(4).toString('hex')}`;
  await tool('buildah', ['from', '--quiet', '--pull=never', '--name', name, ref]);
  try {
    const rootfs = (await tool('buildah', ['mount', name])).trim();
    const config = await imageConfig(ref);
    return {
      rootfs,
      config,
      remove: async () => {
        await tool('buildah', ['umount', name]).catch(() => undefined);
        await tool('buildah', ['rm', name]);
      },
    };
  } catch (err) {
    await tool('buildah', ['rm', name]).catch(() => undefined);
    throw err;
  }
}

/** Sizes in bytes: the layers as stored (uncompressed) and gzip-compressed, as a registry has them. */
export interface ImageSize {
  readonly uncompressed: number;
  readonly compressed: number;
}

async function blobBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir)) if (/^[0-9a-f]{64}$/.test(f)) total += (await stat(join(dir, f))).size; // layers and config
  return total;
}

export async function imageSize(ref: string): Promise<ImageSize> {
  const work = await mkdtemp(join(tmpdir(), 'flexcore-size-'));
  try {
    const plain = join(work, 'plain');
    const gz = join(work, 'gz');
    await tool('skopeo', ['copy', '-q', `containers-storage:${ref}`, `dir:${plain}`]);
    await tool('skopeo', ['copy', '-q', '--dest-compress', `containers-storage:${ref}`, `dir:${gz}`]);
    return { uncompressed: await blobBytes(plain), compressed: await blobBytes(gz) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Writes the image as a docker-archive (what container-structure-test's tar driver reads). */
export async function exportArchive(ref: string, file: string): Promise<void> {
  await rm(file, { force: true });
  await tool('skopeo', ['copy', '-q', `containers-storage:${ref}`, `docker-archive:${file}:${ref}`]);
}

/** A host directory or file mounted into the container. */
export interface Bind {
  readonly source: string;
  readonly target: string;
  readonly readOnly?: boolean;
}

export interface RunOptions {
  /** Numeric uid:gid; defaults to the image's USER. */
  readonly user?: string;
  readonly binds?: readonly Bind[];
  /** Added to (and overriding) the image's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Stop the command (SIGTERM, SIGKILL 15 s later) once its output matches; the result then has code null. */
  readonly until?: RegExp;
  readonly timeoutMs?: number;
}

function ociSpec(rootfs: string, config: ImageConfig, argv: readonly string[], opts: RunOptions): object {
  const [uid, gid] = (opts.user ?? config.User ?? '').split(':').map(Number);
  if (!Number.isInteger(uid) || !Number.isInteger(gid))
    throw new Error(`need a numeric uid:gid, have '${opts.user ?? config.User ?? ''}'`);
  const env = new Map((config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e] as const));
  for (const [k, v] of Object.entries(opts.env ?? {})) env.set(k, `${k}=${v}`);
  const none: string[] = [];
  const tmpfs = (destination: string, options: string[]): object => ({
    destination,
    type: 'tmpfs',
    source: 'tmpfs',
    options,
  });
  return {
    ociVersion: '1.0.2',
    root: { path: rootfs, readonly: true },
    process: {
      terminal: false,
      user: { uid, gid },
      args: [...(config.Entrypoint ?? []), ...argv],
      env: [...env.values()],
      cwd: config.WorkingDir || '/',
      capabilities: { bounding: none, effective: none, permitted: none, ambient: none },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }],
      noNewPrivileges: true,
    },
    hostname: 'flexcore-check',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      tmpfs('/dev', ['nosuid', 'strictatime', 'mode=755', 'size=65536k']),
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance'],
      },
      tmpfs('/dev/shm', ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k']),
      // Like the emptyDir a Pod mounts there: a read-only root leaves no other scratch space.
      tmpfs('/tmp', ['nosuid', 'nodev', 'mode=1777', 'size=65536k']),
      ...(opts.binds ?? []).map((b) => ({
        destination: b.target,
        type: 'bind',
        source: b.source,
        options: ['rbind', b.readOnly ? 'ro' : 'rw'],
      })),
    ],
    linux: {
      // No network namespace: the host's loopback (runc would leave a new one's down).
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/**
 * Runs the image's entrypoint with `argv` (as a Pod's `args`) in a runc container on the
 * mounted root filesystem, read-only. stdout and stderr together, in order.
 */
export async function runReadOnly(
  image: MountedImage,
  argv: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const bundle = await mkdtemp(join(tmpdir(), 'flexcore-runc-'));
  const id = `flexcore-check-${randomBytes(4).toString('hex')}`;
  await writeFile(
    join(bundle, 'config.json'),
    JSON.stringify(ociSpec(image.rootfs, image.config, argv, opts)),
  );
  try {
    return await new Promise<RunResult>((resolve) => {
      const child = spawn('runc', ['run', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      let stopped = false;
      let killer: NodeJS.Timeout | undefined;
      // SIGTERM first: a controller stops its embedded PostgreSQL cleanly, as in a Pod.
      const stop = (): void => {
        if (stopped) return;
        stopped = true;
        execFile('runc', ['kill', id, 'TERM'], () => undefined);
        killer = setTimeout(() => execFile('runc', ['kill', id, 'KILL'], () => undefined), 15_000);
      };
      const timer = setTimeout(stop, opts.timeoutMs ?? 60_000);
      const take = (d: Buffer): void => {
        output += d.toString('utf8');
        if (opts.until?.test(output)) stop();
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
      child.once('close', (code) => {
        clearTimeout(timer);
        clearTimeout(killer);
        resolve({ code: stopped ? null : code, output });
      });
    });
  } finally {
    await new Promise((resolve) => execFile('runc', ['delete', '--force', id], resolve));
    await rm(bundle, { recursive: true, force: true });
  }
}
