/**
 * `flexcore validate`: offline checks of FlexCore manifests for CI of GitOps repositories.
 * Prints one line per problem as `file:document:field.path: message` and exits 1 when there
 * is any; lists (`kind: List`, `FlexPipelineList`) are checked item by item; other kinds are
 * skipped with a note. Loaded on its own (no controller, no Kubernetes client, no database).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { validateManifest } from '../../api/v1alpha1/validate.js';
import { expandLists } from './manifest-list.js';

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/** One line of output: a problem (stdout) or a note (stderr). */
export interface Finding {
  readonly severity: 'problem' | 'note';
  readonly text: string;
}

/** What validating one source (a file or stdin) found. */
export interface SourceReport {
  /** Objects read: documents, with each list counted as its items. */
  readonly documents: number;
  /** Objects of other kinds than FlexCore's, skipped with a note. */
  readonly skipped: number;
  readonly findings: Finding[];
}

/** Validate the text of one source named `name`. Pure: no I/O. */
export function validateText(name: string, text: string): SourceReport {
  const findings: Finding[] = [];
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true, version: '1.1' });
  let count = 0;
  let skipped = 0;
  for (const [i, doc] of docs.entries()) {
    const where = `${name}:${i + 1}`;
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      const pos = e.linePos?.[0];
      const at = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
      findings.push({
        severity: 'problem',
        text: `${where}:(document): YAML syntax error${at}: ${firstLine(e.message)}`,
      });
      continue;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    for (const { path, object } of expandLists(value)) {
      count++;
      const verdict = validateManifest(object);
      if (verdict.kind === 'ignored') {
        skipped++;
        const kind = verdict.objectKind || '(no kind)';
        findings.push({
          severity: 'note',
          text: `${where}:${path ? `${path}:` : ''} note: skipping ${kind} ${verdict.apiVersion}: not a FlexCore resource`,
        });
        continue;
      }
      for (const p of verdict.problems) {
        const field = [path, p.path].filter(Boolean).join('.') || '(document)';
        findings.push({ severity: 'problem', text: `${where}:${field}: ${p.message}` });
      }
    }
  }
  return { documents: count, skipped, findings };
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}

async function collectFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .filter((e) => !e.name.startsWith('.'))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((e) =>
        e.isDirectory()
          ? collectFiles(join(path, e.name))
          : Promise.resolve(MANIFEST_FILE.test(e.name) ? [join(path, e.name)] : []),
      ),
  );
  return nested.flat();
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads every source; unreadable ones become a single problem line each. */
async function loadSources(args: string[]): Promise<{ name: string; text?: string; error?: string }[]> {
  const sources: { name: string; text?: string; error?: string }[] = [];
  for (const arg of args) {
    if (arg === '-') {
      sources.push({ name: '<stdin>', text: await readStdin() });
      continue;
    }
    let files: string[];
    try {
      files = await collectFiles(arg);
    } catch (err) {
      sources.push({ name: arg, error: describeIoError(err) });
      continue;
    }
    for (const file of files) {
      try {
        sources.push({ name: file, text: await readFile(file, 'utf8') });
      } catch (err) {
        sources.push({ name: file, error: describeIoError(err) });
      }
    }
  }
  return sources;
}

function describeIoError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'cannot read: no such file or directory';
    case 'EACCES':
      return 'cannot read: permission denied';
    case 'EISDIR':
      return 'cannot read: is a directory';
    default:
      return `cannot read: ${e.message}`;
  }
}

/** The `validate` command. Returns the process exit code. */
export async function runValidate(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(
      'usage: flexcore validate [PATH ...]   (PATH: file, directory, or - for stdin; stdin when none)\n',
    );
    return 0;
  }
  const unknownFlag = args.find((a) => a.startsWith('-') && a !== '-');
  if (unknownFlag) {
    process.stderr.write(`flexcore validate: unknown option ${unknownFlag}\n`);
    return 2;
  }
  if (args.length === 0) {
    if (process.stdin.isTTY) {
      process.stderr.write(
        'flexcore validate: give files or directories to check, or - to read standard input\n',
      );
      return 2;
    }
    args = ['-'];
  }
  let problems = 0;
  let documents = 0;
  let skipped = 0;
  const sources = await loadSources(args);
  for (const source of sources) {
    if (source.error !== undefined) {
      process.stdout.write(`${source.name}: ${source.error}\n`);
      problems++;
      continue;
    }
    const report = validateText(source.name, source.text ?? '');
    documents += report.documents;
    skipped += report.skipped;
    for (const f of report.findings) {
      if (f.severity === 'problem') {
        problems++;
        process.stdout.write(`${f.text}\n`);
      } else {
        process.stderr.write(`${f.text}\n`);
      }
    }
  }
  const others = skipped > 0 ? ` (${skipped} of other kinds, skipped)` : '';
  const verdict = problems === 0 ? 'no problems' : `${problems} problem(s)`;
  const summary = `${sources.length} file(s), ${documents} document(s)${others}: ${verdict}`;
  process.stderr.write(`${summary}\n`);
  return problems === 0 ? 0 : 1;
}
