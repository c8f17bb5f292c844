/**
 * What the alert-rule and dashboard tests share: promtool (built by `hack/build-tools.sh
 * --observability`), the metric names the controller registers (read from its source, so a
 * renamed metric fails the tests) and the metric names a PromQL expression reads.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { observabilityTools } from '../../hack/plane/tools.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Run {
  readonly code: number | null;
  /** stdout and stderr together. */
  readonly out: string;
}

/** Runs a program to its end; never rejects on a non-zero exit. */
export function run(bin: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out }));
  });
}

/** The path of promtool, building the observability tools first when the cache lacks them. */
export async function promtool(): Promise<string> {
  return (await observabilityTools()).promtool;
}

export interface RegisteredMetrics {
  /** Every metric name found in controller/ (files that import prom-client). */
  readonly names: ReadonlySet<string>;
  /** Those made with `new Histogram`: their series are `_bucket`, `_sum` and `_count`. */
  readonly histograms: ReadonlySet<string>;
}

const METRIC_PREFIX = /^(flexcore|workqueue|controller_runtime|leader_election|rest_client)_[a-z0-9_]+$/;

/** The metric names the controller registers, read from its source. */
export async function registeredMetrics(): Promise<RegisteredMetrics> {
  const dir = join(ROOT, 'controller');
  const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.ts'));
  const names = new Set<string>();
  const histograms = new Set<string>();
  for (const file of files) {
    const text = await readFile(join(dir, file), 'utf8');
    if (!text.includes("from 'prom-client'")) continue;
    for (const [, s] of text.matchAll(/'([a-z_][a-z0-9_]*)'/g)) if (METRIC_PREFIX.test(s!)) names.add(s!);
    for (const [, s] of text.matchAll(/new Histogram(?:<[^>]*>)?\(\{[^}]*?\bname:\s*'([a-z0-9_]+)'/g))
      histograms.add(s!);
  }
  return { names, histograms };
}

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'atan2',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects: every identifier that is not a function or
 * aggregation (followed by `(`), a keyword, a label (inside `{}` or a `by (…)` list), a
 * string, a number or a duration.
 */
export function metricNamesOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/#.*$/gm, '')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ')
    .replace(/(^|[^A-Za-z0-9_:])[0-9][A-Za-z0-9_.]*(?:[eE][+-]?[0-9]+)?/g, '$1 ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\(?))/g)) {
    if (m[1] === '(' || KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names].sort();
}

/**
 * The names in `exprs` the controller does not register (a histogram's `_bucket`, `_sum`,
 * `_count` count as registered), except those in `others`; each with the expression.
 */
export function unknownMetrics(
  exprs: readonly string[],
  registered: RegisteredMetrics,
  others: ReadonlySet<string> = new Set(),
): string[] {
  const known = (name: string): boolean => {
    if (registered.names.has(name) || others.has(name)) return true;
    const base = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
    return base !== undefined && registered.histograms.has(base);
  };
  return exprs.flatMap((expr) =>
    metricNamesOf(expr)
      .filter((name) => !known(name))
      .map((name) => `${name} in: ${expr}`),
  );
}
