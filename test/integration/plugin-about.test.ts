/**
 * The catalog entries (plugins/catalog/) against the plugins in their own images: each Singer
 * SDK plugin's `--about --format=json`, run with buildah inside the image hack/build-images.sh
 * built for the entry (the exact version that runs, no node or plane needed). target-jsonl
 * (singer-python) and dbt have no --about: for them the settings they read come from their code
 * in the image, and the versions from the image. hack/plugins/about-check.ts says what must
 * agree. Seconds when the images are built; the first run builds them (minutes).
 */
import { expect } from 'chai';
import { catalogPlugin } from '../../hack/demo/catalog.js';
import { checkAbout, imageTag, type EntrySpec, type PluginAbout } from '../../hack/plugins/about-check.js';
import {
  parseDbtVersion,
  pythonConfigAbout,
  wrapperAbout,
  type WrapperSettings,
} from '../../hack/plugins/about-sources.js';
import { runInImage, type ImageCommandResult } from '../../hack/plugins/image-command.js';
import { buildImages } from '../../hack/plane/node/images.js';

/** Catalog entry (plugins/catalog/<entry>.yaml) → the hack/build-images.sh image it runs. */
const ENTRIES = {
  'tap-postgres': 'tap-postgres',
  'target-postgres': 'target-postgres',
  'target-jsonl': 'target-jsonl',
  dbt: 'dbt-postgres',
} as const;
type EntryName = keyof typeof ENTRIES;

/** target-jsonl's own version and module source, from its virtualenv in the image. */
const TARGET_JSONL_SOURCE = `import importlib.metadata, inspect, json, target_jsonl
print(json.dumps({"version": importlib.metadata.version("target-jsonl"), "source": inspect.getsource(target_jsonl)}))`;

/** flexcore-dbt's DEFAULTS and REQUIRED, from the copy in the image (it runs main() only as a script). */
const DBT_WRAPPER_SETTINGS = `import importlib.machinery, importlib.util, json, shutil
loader = importlib.machinery.SourceFileLoader("flexcore_dbt", shutil.which("flexcore-dbt"))
module = importlib.util.module_from_spec(importlib.util.spec_from_loader("flexcore_dbt", loader))
loader.exec_module(module)
print(json.dumps({"defaults": module.DEFAULTS, "required": list(module.REQUIRED)}))`;

function entry(name: EntryName): EntrySpec & { readonly image: string; readonly command: string[] } {
  return catalogPlugin(name).spec as unknown as EntrySpec & { image: string; command: string[] };
}

/** A command that must have succeeded; its stdout. */
function ok(result: ImageCommandResult | undefined, what: string): string {
  expect(result, what).to.not.equal(undefined);
  expect(result!.code, `${what} failed: ${result!.stderr}`).to.equal(0);
  return result!.stdout;
}

function expectNoMismatches(name: string, mismatches: string[]): void {
  expect(mismatches, `${name} does not match its plugin:\n  ${mismatches.join('\n  ')}`).to.deep.equal([]);
}

describe('catalog entries against their plugins (--about in the built images)', function () {
  this.timeout(60_000);
  const runs = new Map<EntryName, ImageCommandResult[]>();

  before(async function () {
    this.timeout(1_800_000); // a cold machine builds the base and plugin images first
    const built = await buildImages(Object.values(ENTRIES));
    const refs = new Map(built.map((b) => [b.name, b.ref]));
    for (const [name, image] of Object.entries(ENTRIES))
      expect(entry(name as EntryName).image, `${name}'s image`).to.equal(refs.get(image));
    const commands: Record<EntryName, string[][]> = {
      'tap-postgres': [['tap-postgres', '--about', '--format=json']],
      'target-postgres': [['target-postgres', '--about', '--format=json']],
      'target-jsonl': [
        ['target-jsonl', '--about', '--format=json'],
        ['python', '-c', TARGET_JSONL_SOURCE],
      ],
      dbt: [
        ['dbt', '--version'],
        ['python', '-c', DBT_WRAPPER_SETTINGS],
      ],
    };
    const names = Object.keys(commands) as EntryName[];
    const results = await Promise.all(names.map((n) => runInImage(entry(n).image, commands[n])));
    names.forEach((n, i) => runs.set(n, results[i]!));
  });

  for (const name of ['tap-postgres', 'target-postgres'] as const) {
    it(`${name}: settings, secrets, required settings, capabilities and version match --about`, () => {
      const spec = entry(name);
      const about = JSON.parse(ok(runs.get(name)?.[0], `${name} --about`)) as PluginAbout;
      expect(about.name).to.equal(spec.command[0]);
      expectNoMismatches(name, checkAbout(spec, about, { version: true }));
    });
  }

  it('target-jsonl: has no --about; the settings its code reads match, and the version', () => {
    const [about, source] = runs.get('target-jsonl') ?? [];
    // singer-python's argparse knows only --config. If this fails, the image got an --about:
    // move target-jsonl to the list above.
    expect(about?.code).to.equal(2);
    expect(about?.stderr).to.match(/unrecognized arguments: --about/);
    const read = JSON.parse(ok(source, 'reading target_jsonl')) as { version: string; source: string };
    const plugin: PluginAbout = { ...pythonConfigAbout(read.source), version: read.version };
    expectNoMismatches(
      'target-jsonl',
      checkAbout(entry('target-jsonl'), plugin, { complete: true, version: true }),
    );
  });

  it('dbt: the image holds the postgres adapter of its tag, and the settings match what flexcore-dbt reads', () => {
    const spec = entry('dbt');
    const [version, wrapper] = runs.get('dbt') ?? [];
    const versions = parseDbtVersion(ok(version, 'dbt --version'));
    expect(versions.plugins['postgres'], 'dbt-postgres in the image').to.equal(imageTag(spec.image));
    expect(versions.core, 'dbt-core').to.match(/^1\.9\./);
    const settings = JSON.parse(ok(wrapper, 'reading flexcore-dbt')) as WrapperSettings;
    // dbt never prints a profile's password; flexcore-dbt takes it from the config file.
    const plugin = wrapperAbout(settings, ['password']);
    expectNoMismatches('dbt', checkAbout(spec, plugin, { complete: true }));
  });
});
