import { expect } from 'chai';
import { formatPath, validateManifest } from '../../api/v1alpha1/validate.js';
import { validateText } from '../../controller/cli/validate.js';

const pipeline = (spec: Record<string, unknown>): Record<string, unknown> => ({
  apiVersion: 'flexcore.io/v1alpha1',
  kind: 'FlexPipeline',
  metadata: { name: 'p' },
  spec,
});

describe('validateManifest', () => {
  it('accepts a minimal pipeline', () => {
    const v = validateManifest(pipeline({ steps: [{ name: 'a', plugin: 'tap' }] }));
    expect(v).to.deep.equal({ kind: 'checked', objectKind: 'FlexPipeline', name: 'p', problems: [] });
  });

  it('ignores other kinds', () => {
    expect(validateManifest({ apiVersion: 'v1', kind: 'ConfigMap' }).kind).to.equal('ignored');
  });

  it('rejects unknown kinds of the flexcore.io group', () => {
    const v = validateManifest({ apiVersion: 'flexcore.io/v1alpha1', kind: 'FlexThing' });
    expect(v.kind === 'checked' && v.problems[0]?.path).to.equal('kind');
  });

  it('names the field of each problem', () => {
    const v = validateManifest(
      pipeline({
        steps: [
          { name: 'a', plugin: 'tap', retries: { limit: 'three' } },
          { name: 'b', plugin: 'tap', dependsOn: ['a', 'nope'], extra: 1 },
        ],
      }),
    );
    expect(v.kind).to.equal('checked');
    const paths = v.kind === 'checked' ? v.problems.map((p) => p.path) : [];
    expect(paths).to.have.members(['spec.steps[0].retries.limit', 'spec.steps[1].extra']);
  });

  it('runs code-only checks even when the schema also fails', () => {
    const v = validateManifest(
      pipeline({
        schedule: '61 * * * *',
        timeZone: 'Mars/Olympus',
        steps: [
          { name: 'a', plugin: 'tap', dependsOn: ['b'] },
          { name: 'b', plugin: 'tap', dependsOn: ['a'], timeoutSeconds: 0 },
        ],
      }),
    );
    const byPath = Object.fromEntries(v.kind === 'checked' ? v.problems.map((p) => [p.path, p.message]) : []);
    expect(byPath['spec.steps']).to.equal('dependency cycle: a -> b -> a');
    expect(byPath['spec.schedule']).to.include('minute: 61');
    expect(byPath['spec.timeZone']).to.include('Mars/Olympus');
    expect(byPath['spec.steps[1].timeoutSeconds']).to.match(/>=1/);
  });

  it('reports missing required fields as missing', () => {
    const v = validateManifest({
      apiVersion: 'flexcore.io/v1alpha1',
      kind: 'FlexPlugin',
      metadata: { name: 'x' },
      spec: {},
    });
    const problems = v.kind === 'checked' ? v.problems : [];
    expect(problems).to.deep.include({ path: 'spec.type', message: 'required field is missing' });
    expect(problems).to.deep.include({ path: 'spec.image', message: 'required field is missing' });
  });

  it('formats paths the way kubectl does', () => {
    expect(formatPath(['spec', 'steps', 1, 'dependsOn', 0])).to.equal('spec.steps[1].dependsOn[0]');
    expect(formatPath([])).to.equal('');
  });
});

describe('validateText', () => {
  it('numbers documents and skips empty ones', () => {
    const r = validateText(
      'f.yaml',
      '---\n---\napiVersion: v1\nkind: Service\n---\napiVersion: flexcore.io/v1alpha1\nkind: FlexPlugin\nmetadata: {name: x}\nspec: {type: tap}\n',
    );
    expect(r.documents).to.equal(2);
    expect(r.findings).to.deep.equal([
      { severity: 'note', text: 'f.yaml:2: note: skipping Service v1: not a FlexCore resource' },
      { severity: 'problem', text: 'f.yaml:3:spec.image: required field is missing' },
    ]);
  });

  it('turns a YAML syntax error into one line with its position', () => {
    const r = validateText('bad.yaml', 'apiVersion: flexcore.io/v1alpha1\nkind: [FlexPlugin\n');
    expect(r.findings).to.have.length(1);
    expect(r.findings[0]!.text).to.match(
      /^bad\.yaml:1:\(document\): YAML syntax error at line \d+, column \d+: \S/,
    );
    expect(r.findings[0]!.text).to.not.include('\n');
  });

  it('refuses duplicate keys, which kubectl would silently merge', () => {
    const r = validateText(
      'dup.yaml',
      'apiVersion: flexcore.io/v1alpha1\nkind: FlexPlugin\nkind: FlexPlugin\n',
    );
    expect(r.findings[0]!.text).to.include('YAML syntax error');
  });
});

describe('validateManifest messages', () => {
  it('says "expected" for a wrong type, not "missing"', () => {
    const v = validateManifest(
      pipeline({ steps: [{ name: 'a', plugin: 'tap', retries: { limit: 'three' } }] }),
    );
    const problems = v.kind === 'checked' ? v.problems : [];
    expect(problems).to.have.length(1);
    expect(problems[0]!.path).to.equal('spec.steps[0].retries.limit');
    expect(problems[0]!.message).to.match(/expected number/);
  });
});
