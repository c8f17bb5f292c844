// After `tsc` (and copy-assets): bundles the commands GitOps CI runs cold, `validate` and
// `schemas`, each with its dependencies (zod, yaml, croner) into the one file tsc wrote for it,
// in place (output directory: argument; dist/ by default). Node 20 has no compile cache, and
// resolving and compiling zod's and yaml's ~200 modules one by one is about a third of a cold
// `flexcore validate`; one file cuts that. The other commands stay as tsc wrote them.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

const COMMANDS = ['validate', 'schemas'];
const OUT = process.argv[2] ?? 'dist';
const MARK = '// flexcore: bundled';
// What a bundled command may hold: the API types, the CLI's own files and three small
// libraries. Anything else (the controller engine, the Kubernetes client, pg) fails the build.
const allowed = (input) =>
  input.includes('node_modules/')
    ? /node_modules\/(?:zod|yaml|croner)\//.test(input)
    : /(?:^|\/)(?:api|controller\/cli)\//.test(input);

process.chdir(join(dirname(new URL(import.meta.url).pathname), '..'));
for (const command of COMMANDS) {
  const file = join(OUT, 'controller/cli', `${command}.js`);
  // Bundling a bundle would declare `require` twice: refuse rather than write a broken file.
  if (readFileSync(file, 'utf8').startsWith(MARK))
    throw new Error(`${file} is bundled already: run tsc first`);
  const { metafile } = await build({
    entryPoints: [file],
    outfile: file,
    allowOverwrite: true,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // yaml is CommonJS and calls require(): give the ES module a real one.
    banner: {
      js: `${MARK}\nimport { createRequire as __flexcoreRequire } from 'node:module';\nconst require = __flexcoreRequire(import.meta.url);`,
    },
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
    metafile: true,
  });
  const foreign = Object.keys(metafile.inputs).filter((input) => !allowed(input));
  if (foreign.length > 0) throw new Error(`${file} would bundle ${foreign.join(', ')}`);
}
