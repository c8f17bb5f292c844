import { expect } from 'chai';
import {
  CONNECTION_OPTIONS,
  intFlag,
  listFlag,
  outputFormat,
  OUTPUT_OPTION,
  parseCommandArgs,
  type ArgsSpec,
} from '../../controller/cli/api/args.js';
import { UsageError } from '../../controller/cli/api/errors.js';
import { runsRequest } from '../../controller/cli/api/runs.js';
import { watchQuery } from '../../controller/cli/api/watch.js';

const spec: ArgsSpec = {
  options: {
    ...CONNECTION_OPTIONS,
    ...OUTPUT_OPTION,
    limit: { type: 'string' },
    all: { type: 'boolean' },
    'all-namespaces': { type: 'boolean', short: 'A' },
    'full-refresh': { type: 'string', multiple: true },
  },
  positionals: ['RUN', 'STEP'],
  required: 1,
};

const usage = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    expect(err).to.be.instanceOf(UsageError);
    expect((err as UsageError).exitCode).to.equal(2);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError');
};

describe('CLI arguments', () => {
  it('parses flags in every spelling kubectl users type', () => {
    const a = parseCommandArgs(
      ['r1', '-n', 'team-a', '-ojson', '--limit=5', '-A', '--server', 'http://x:8080', 'extract'],
      spec,
    );
    expect(a.positionals).to.deep.equal(['r1', 'extract']);
    expect(a.flags).to.deep.include({
      namespace: 'team-a',
      output: 'json',
      limit: '5',
      'all-namespaces': true,
      server: 'http://x:8080',
    });
  });

  it('refuses unknown flags, missing values and arguments, extra arguments', () => {
    expect(usage(() => parseCommandArgs(['r1', '--colour'], spec))).to.equal("unknown option '--colour'");
    expect(usage(() => parseCommandArgs(['r1', '-n'], spec))).to.match(
      /^option '-n, --namespace <value>' argument missing/,
    );
    expect(usage(() => parseCommandArgs([], spec))).to.equal('missing RUN');
    expect(usage(() => parseCommandArgs(['a', 'b', 'c'], spec))).to.equal('unexpected argument "c"');
    expect(usage(() => parseCommandArgs(['r1', '--all=yes'], spec))).to.match(/does not take an argument/);
  });

  it('lets --help through without the required arguments', () => {
    expect(parseCommandArgs(['--help'], spec).flags.help).to.equal(true);
  });

  it('splits repeated comma lists', () => {
    const a = parseCommandArgs(['p', '--full-refresh', 'a,b', '--full-refresh', 'c'], spec);
    expect(listFlag(a.flags, 'full-refresh')).to.deep.equal(['a', 'b', 'c']);
    expect(listFlag(parseCommandArgs(['p'], spec).flags, 'full-refresh')).to.equal(undefined);
    expect(
      usage(() => listFlag(parseCommandArgs(['p', '--full-refresh', 'a,'], spec).flags, 'full-refresh')),
    ).to.match(/needs names/);
  });

  it('checks numbers and the output format', () => {
    const flags = (args: string[]): ReturnType<typeof parseCommandArgs>['flags'] =>
      parseCommandArgs(['r', ...args], spec).flags;
    expect(intFlag(flags([]), 'limit', 20, 500)).to.equal(20);
    expect(intFlag(flags(['--limit', '7']), 'limit', 20, 500)).to.equal(7);
    for (const bad of ['0', '501', '2.5', 'x', '-3', '']) {
      expect(usage(() => intFlag(flags([`--limit=${bad}`]), 'limit', 20, 500))).to.match(/from 1 to 500/);
    }
    expect(outputFormat(flags([]))).to.equal('table');
    expect(outputFormat(flags(['-o', 'json']))).to.equal('json');
    expect(usage(() => outputFormat(flags(['-o', 'yaml'])))).to.equal('-o must be json or table, got "yaml"');
  });

  it('maps runs arguments to a list request: namespace, pipeline, every namespace, page size', () => {
    const runsSpec: ArgsSpec = { ...spec, positionals: ['PIPELINE'], required: 0 };
    const req = (args: string[]): ReturnType<typeof runsRequest> =>
      runsRequest(parseCommandArgs(args, runsSpec), 'team-a');
    expect(req([])).to.deep.equal({ namespace: 'team-a', phase: undefined, limit: 20 });
    expect(req(['orders', '--limit', '3'])).to.deep.include({
      namespace: 'team-a',
      pipeline: 'orders',
      limit: 3,
    });
    expect(req(['-A'])).to.not.have.property('namespace');
    expect(req(['--all']).limit).to.equal(500);
    expect(usage(() => req(['-A', 'orders']))).to.match(/not -A/);
  });

  it('maps watch arguments to a stream query', () => {
    const watchSpec: ArgsSpec = {
      options: { ...spec.options, type: { type: 'string' } },
      positionals: ['PIPELINE'],
      required: 0,
    };
    const q = (args: string[]): ReturnType<typeof watchQuery> =>
      watchQuery(parseCommandArgs(args, watchSpec), 'ns');
    expect(q(['orders', '--type', 'RunStarted,RunFinished'])).to.deep.equal({
      namespace: 'ns',
      pipeline: 'orders',
      type: 'RunStarted,RunFinished',
    });
    expect(q(['-A']).namespace).to.equal(undefined);
    expect(usage(() => q(['-A', 'orders']))).to.match(/not -A/);
  });
});
