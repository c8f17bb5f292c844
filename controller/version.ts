/** FlexCore's version: package.json's, found above this module in a checkout (controller/) and in the image (dist/controller/). */
import { existsSync, readFileSync } from 'node:fs';

let cached: string | undefined;

export function version(): string {
  if (cached !== undefined) return cached;
  cached = '0.0.0-unknown';
  for (const rel of ['../package.json', '../../package.json']) {
    const url = new URL(rel, import.meta.url);
    if (!existsSync(url)) continue;
    const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'flexcore' && pkg.version) {
      cached = pkg.version;
      break;
    }
  }
  return cached;
}
