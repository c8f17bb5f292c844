/**
 * Writes the CRDs generated from api/v1alpha1 into crds/. With --check, writes nothing and
 * exits 1 when the checked-in files differ from what generation produces.
 */
import { fileURLToPath } from 'node:url';
import { generateCrds } from './codegen/crds.js';
import { writeGenerated } from './codegen/write-generated.js';

const dir = fileURLToPath(new URL('../crds/', import.meta.url));
const check = process.argv.includes('--check');
const stale = await writeGenerated(dir, generateCrds(), {
  check,
  label: 'crds/',
  command: 'npm run gen:crds',
});
process.exitCode = stale > 0 ? 1 : 0;
