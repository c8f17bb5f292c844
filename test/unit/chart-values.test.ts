import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { ChartValues } from '../../api/chart/values.js';
import { generateChartFiles, valuesSchema } from '../../hack/codegen/chart.js';

const chartFile = (name: string): Promise<string> =>
  readFile(new URL(`../../charts/flexcore/${name}`, import.meta.url), 'utf8');

describe('the chart’s generated files', () => {
  it('match charts/flexcore (run `npm run gen:chart` after changing api/chart or api/v1alpha1)', async () => {
    for (const [file, text] of generateChartFiles()) {
      expect(await chartFile(file), `charts/flexcore/${file} is stale`).to.equal(text);
    }
  });

  it('values.yaml holds exactly the schema’s defaults', async () => {
    expect(parse(await chartFile('values.yaml'))).to.deep.equal(ChartValues.parse({}));
  });

  it('the schema is strict at every level the chart owns', () => {
    const open: string[] = [];
    const walk = (node: Record<string, unknown>, path: string): void => {
      const props = node.properties as Record<string, Record<string, unknown>> | undefined;
      if (!props) return;
      if (node.additionalProperties !== false) open.push(path);
      for (const [k, v] of Object.entries(props)) walk(v, `${path}.${k}`);
    };
    walk(valuesSchema(), '');
    expect(open).to.deep.equal([]);
  });

  it('refuses unknown keys and wrong types, naming them', () => {
    const bad = ChartValues.safeParse({ replicas: 2, image: { tag: 3 } });
    expect(bad.success).to.equal(false);
    const paths = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.code}`);
    expect(paths).to.include.members(['image.tag: invalid_type', ': unrecognized_keys']);
  });
});
