/**
 * `flexcore schemas DIR`: writes strict JSON Schemas of FlexPlugin and FlexPipeline, made from
 * the CRDs this package ships, in kubeconform's CRD-catalog layout
 * (`DIR/flexcore.io/flexpipeline_v1alpha1.json`), for
 * `kubeconform -strict -schema-location default -schema-location 'DIR/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'`.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { crdJsonSchemas, SCHEMA_LOCATION_TEMPLATE, type KindSchema } from './json-schema.js';

const USAGE = 'usage: flexcore schemas DIR   (writes DIR/<group>/<kind>_<version>.json for kubeconform)\n';

/**
 * The crds/ folder of this package: above this module in a checkout (controller/cli/), in the
 * compiled build (dist/controller/cli/) and in an installed package alike.
 */
export function findCrdDir(from: string = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const candidate = join(dir, 'crds');
    if (existsSync(join(candidate, 'flexcore.io_flexpipelines.yaml'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`cannot find the CRDs (crds/) above ${from}`);
  }
}

/** Every schema of every CRD in `crdDir`, ordered by path. */
export async function loadKindSchemas(crdDir: string): Promise<KindSchema[]> {
  const files = (await readdir(crdDir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const schemas: KindSchema[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(join(crdDir, file), 'utf8'))) {
      schemas.push(...crdJsonSchemas(doc.toJS()));
    }
  }
  return schemas.sort((a, b) => a.path.localeCompare(b.path));
}

/** The `schemas` command. Returns the process exit code. */
export async function runSchemas(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [dir, ...extra] = args;
  if (dir === undefined || extra.length > 0 || dir.startsWith('-')) {
    process.stderr.write(`flexcore schemas: give one output directory\n${USAGE}`);
    return 2;
  }
  for (const s of await loadKindSchemas(findCrdDir())) {
    const file = join(dir, s.path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify(s.schema, null, 2)}\n`);
    process.stdout.write(`${file}\n`);
  }
  process.stderr.write(
    `kubeconform: -schema-location default -schema-location '${join(dir, SCHEMA_LOCATION_TEMPLATE)}'\n`,
  );
  return 0;
}
