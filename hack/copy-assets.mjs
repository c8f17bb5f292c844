// After `tsc`: copies the files the compiled code reads next to itself (SQL under
// controller/store) into the output directory (argument; dist/ by default), so
// `node dist/...` and the image find them.
import { cpSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const ASSETS = /\.sql$/;
const OUT = process.argv[2] ?? 'dist';

function copy(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) copy(path);
    else if (ASSETS.test(entry.name)) cpSync(path, join(OUT, path), { force: true });
  }
}

process.chdir(join(dirname(new URL(import.meta.url).pathname), '..'));
copy('controller');
