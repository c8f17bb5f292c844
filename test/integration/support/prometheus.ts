/**
 * A real Prometheus (built by `hack/build-tools.sh --observability`) scraping given targets
 * every second as job "flexcore" (honor_labels, as the chart's ServiceMonitor does) and
 * evaluating given rule files every second; queried through its HTTP API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../hack/plane/ports.js';
import { observabilityTools } from '../../../hack/plane/tools.js';
import { eventually } from './engine.js';

export interface Sample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

export interface Alert {
  readonly labels: Record<string, string>;
  readonly state: 'pending' | 'firing' | 'inactive';
}

export interface Prometheus {
  readonly url: string;
  /** An instant query's vector. */
  query(promql: string): Promise<Sample[]>;
  alerts(): Promise<Alert[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(targets: string[], ruleFiles: string[]): Promise<Prometheus> {
  const { prometheus } = await observabilityTools();
  const dir = await mkdtemp(join(tmpdir(), 'fc-prometheus-'));
  const port = await freePort();
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    JSON.stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: ruleFiles,
      scrape_configs: [{ job_name: 'flexcore', honor_labels: true, static_configs: [{ targets }] }],
    }),
  );
  let log = '';
  const child: ChildProcess = spawn(
    prometheus,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}:\n${log}`);
        return (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok;
      },
      30_000,
      'Prometheus to be ready',
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? res.status}`);
    return body.data;
  };
  return {
    url,
    async query(promql) {
      const data = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
        `/api/v1/query?query=${encodeURIComponent(promql)}`,
      );
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    async alerts() {
      return (await api<{ alerts: Alert[] }>('/api/v1/alerts')).alerts;
    },
    stop,
  };
}
