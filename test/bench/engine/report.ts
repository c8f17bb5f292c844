/** How the engine benchmark prints one run's figures (or their medians): a table, the requests by kind, the CPU lines. */
import type { Latency } from '../stats.js';
import { describeCounts } from './api-requests.js';
import type { BarePodFigures } from './bare-pods.js';
import { describePhase } from './phase.js';
import type { PipelineFigures, RunPhaseFigures } from './pipelines.js';

/** Everything one run measured; the JSON line of a run is this object. */
export interface Row extends PipelineFigures {
  readonly n: number;
  readonly bare: BarePodFigures;
  /** Headline: steady-state (second all-at-once) runs/s ÷ bare-Pod whole-life completed/s. */
  readonly ratio: number;
}

const ms = (l: Latency): string => `${l.p50.toFixed(0)} / ${l.p99.toFixed(0)}`;

function line(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function runLine(name: string, f: RunPhaseFigures): string {
  return line([
    name,
    f.runsPerSecond.toFixed(1),
    ms(f.toPod),
    ms(f.toSucceeded),
    f.requestsPerRun.toFixed(2),
    f.controllerCpuMsPerRun.toFixed(2),
  ]);
}

/** The run phases with their labels, in the order they ran. */
function runPhases(row: Row): [string, RunPhaseFigures][] {
  return [
    ['first runs (create →)', row.first],
    ['steady, all at once #1 (bench-1; trigger →)', row.steady1],
    ['steady, all at once #2 (bench-2; trigger →) ← headline', row.steady2],
    [
      `open loop, triggers at ${row.open.sentPerSecond.toFixed(1)}/s (target ${row.open.targetPerSecond.toFixed(1)} = 50 % of #2)`,
      row.open,
    ],
  ];
}

export function describeRow(title: string, row: Row): string {
  const { bare } = row;
  return [
    `${title}`,
    line([
      'phase',
      'completed /s',
      '→ Pod p50 / p99 ms',
      '→ Succeeded p50 / p99 ms',
      'API requests / run',
      'controller CPU ms / run',
    ]),
    line(['---', '---', '---', '---', '---', '---']),
    line([
      'bare Pods, whole life (create →)',
      bare.completedPerSecond.toFixed(1),
      '–',
      ms(bare.createToSucceeded),
      '–',
      '–',
    ]),
    line(['bare Pods, creation only', bare.creationOnlyPerSecond.toFixed(1), '–', '–', '–', '–']),
    ...runPhases(row).map(([name, f]) => runLine(name, f)),
    `headline: steady-state runs/s ÷ bare-Pod whole-life Pods/s = ${row.ratio.toFixed(2)} (goal ≥ 0.6); ` +
      `controller peak RSS (VmHWM) ${row.peakRssMiB.toFixed(0)} MiB`,
    'API requests per run by verb and resource (non-2xx codes shown):',
    ...runPhases(row).map(([name, f]) => `  ${name.split(' (')[0]}: ${describeCounts(f.requestsByKind)}`),
    'CPU seconds by process (first send → controllers quiet after the last run):',
    describePhase('bare Pods, whole life', bare.phase),
    ...runPhases(row).map(([name, f]) => describePhase(name.split(' (')[0]!, f.phase)),
  ].join('\n');
}
