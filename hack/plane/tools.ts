/** Locates (building when missing) the control-plane binaries made by hack/build-tools.sh. */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ComponentStartError, PrerequisiteError } from './errors.js';

const script = fileURLToPath(new URL('../build-tools.sh', import.meta.url));

/**
 * Returns the directory holding etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler, kubectl and kwok. Builds them first when the cache lacks them; progress
 * goes to stderr.
 */
export async function ensureTools(): Promise<string> {
  return buildTools([], 'the control plane');
}

/** The same for the real node: kubelet, kube-proxy and the pause binary. */
export async function ensureNodeTools(): Promise<string> {
  return buildTools(['--node'], 'the node binaries');
}

/** Paths of the chart and manifest tools built by `hack/build-tools.sh --gitops`. */
export interface GitopsTools {
  helm: string;
  kubeconform: string;
  /** Prints the kstatus verdict (Current, InProgress, ...) of each object it reads. */
  kstatus: string;
  /** Runs Argo CD health.lua scripts: `run SCRIPT OBJECT` or `test DIR`. */
  argoHealth: string;
  /** A HELM_PLUGINS directory holding the helm-unittest plugin (`helm unittest`). */
  helmPlugins: string;
}

/** Returns the GitOps tools (helm, kubeconform, kstatus, argo-health, helm-unittest), building them when missing. */
export async function gitopsTools(): Promise<GitopsTools> {
  const bin = await buildTools(['--gitops'], 'the GitOps tools');
  return {
    helm: join(bin, 'helm'),
    kubeconform: join(bin, 'kubeconform'),
    kstatus: join(bin, 'kstatus'),
    argoHealth: join(bin, 'argo-health'),
    helmPlugins: join(dirname(bin), 'helm-plugins'),
  };
}

export interface ObservabilityTools {
  readonly prometheus: string;
  readonly promtool: string;
  /** The OpenTelemetry Collector with an OTLP receiver and a file exporter. */
  readonly otelcol: string;
}

/** The metrics, alert and trace tools (hack/tools/observability), built first when missing. */
export async function observabilityTools(): Promise<ObservabilityTools> {
  const bin = await buildTools(['--observability'], 'the observability tools');
  return {
    prometheus: join(bin, 'prometheus'),
    promtool: join(bin, 'promtool'),
    otelcol: join(bin, 'otelcol'),
  };
}

async function buildTools(args: string[], what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', (err) =>
      reject(new PrerequisiteError(`cannot run bash for ${script}: ${err.message}`)),
    );
    child.once('exit', (code) => {
      const dir = out.trim().split('\n').pop() ?? '';
      if (code === 0 && dir) resolve(dir);
      else if (code === 3)
        reject(new PrerequisiteError(`Go is required to build ${what} (see the message above)`));
      else
        reject(
          new ComponentStartError(
            `building ${what} failed (exit ${String(code)}); see the message above`,
            '',
          ),
        );
    });
  });
}
