#!/usr/bin/env node
// Entry point of `npx flexcore`. In a checkout it runs the TypeScript sources through tsx;
// in the production image (no .ts sources, compiled dist/) it runs the compiled CLI.
import { existsSync } from 'node:fs';

const source = new URL('./main.ts', import.meta.url);
if (existsSync(source)) {
  const { tsImport } = await import('tsx/esm/api');
  await tsImport(source.href, import.meta.url);
} else {
  await import(new URL('../../dist/controller/cli/main.js', import.meta.url).href);
}
