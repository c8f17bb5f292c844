/**
 * Writes the chart's generated files (values.schema.json, values.yaml, the CRD templates) into
 * charts/flexcore/. With --check, writes nothing and exits 1 when they differ.
 */
import { fileURLToPath } from 'node:url';
import { generateChartFiles } from './codegen/chart.js';
import { writeGenerated } from './codegen/write-generated.js';

const dir = fileURLToPath(new URL('../charts/flexcore/', import.meta.url));
const check = process.argv.includes('--check');
const stale = await writeGenerated(dir, generateChartFiles(), {
  check,
  label: 'charts/flexcore/',
  command: 'npm run gen:chart',
});
process.exitCode = stale > 0 ? 1 : 0;
