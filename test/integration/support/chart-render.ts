/** The chart rendered with `helm template` and given values, keeping the objects of one kind. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { gitopsTools } from '../../../hack/plane/tools.js';
import { Helm } from '../../e2e/support/helm.js';

const CHART = fileURLToPath(new URL('../../../charts/flexcore', import.meta.url));

export type Rendered = Record<string, unknown>;

/** A renderer of the chart into `dir` (a database Secret named, so it renders). */
export async function chartRenderer(
  dir: string,
): Promise<(values: Record<string, unknown>, kind: string) => Promise<Rendered[]>> {
  const tools = await gitopsTools();
  const helm = await Helm.create(tools.helm, undefined, tools.helmPlugins);
  return async (values, kind) => {
    const file = join(dir, 'values.yaml');
    await writeFile(file, stringify({ database: { existingSecret: 'db' }, ...values }));
    const out = await helm.run(['template', 'flexcore', CHART, '-n', 'flexcore-system', '-f', file]);
    return parseAllDocuments(out)
      .map((d) => d.toJS() as Rendered | null)
      .filter((d): d is Rendered => d?.kind === kind);
  };
}
