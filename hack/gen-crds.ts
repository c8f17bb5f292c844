/**
 * Writes the CRDs generated from api/v1alpha1 into crds/. With --check, writes nothing and
 * exits 1 when the checked-in files differ from what generation produces.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { generateCrds } from './codegen/crds.js';

const dir = fileURLToPath(new URL('../crds/', import.meta.url));
const check = process.argv.includes('--check');
let stale = 0;
for (const [file, text] of generateCrds()) {
  const path = dir + file;
  const current = await readFile(path, 'utf8').catch(() => '');
  if (current === text) continue;
  if (check) {
    console.error(`crds/${file} is out of date; run: npm run gen:crds`);
    stale++;
  } else {
    await writeFile(path, text);
    console.log(`wrote crds/${file}`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
