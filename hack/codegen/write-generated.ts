/**
 * Writes generated files into a directory, or (check mode) writes nothing and counts those
 * that differ, so a test or CI can fail when checked-in output drifts from its source.
 */
import { readFile, writeFile } from 'node:fs/promises';

/** Returns how many files were stale (check mode) or 0. */
export async function writeGenerated(
  dir: string,
  files: ReadonlyMap<string, string>,
  opts: { readonly check: boolean; readonly label: string; readonly command: string },
): Promise<number> {
  let stale = 0;
  for (const [file, text] of files) {
    const path = dir + file;
    const current = await readFile(path, 'utf8').catch(() => '');
    if (current === text) continue;
    if (opts.check) {
      console.error(`${opts.label}${file} is out of date; run: ${opts.command}`);
      stale++;
    } else {
      await writeFile(path, text);
      console.log(`wrote ${opts.label}${file}`);
    }
  }
  return stale;
}
