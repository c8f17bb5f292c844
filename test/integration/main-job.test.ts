import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe("the README's main job (hack/up.ts --once)", function () {
  this.timeout(180_000);

  it('brings up the plane, installs the CRDs, applies the samples, shows them and prints the kubeconfig', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'hack/up.ts', '--once'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, out).to.equal(0);
    expect(out).to.include('flexplugin.flexcore.io/tap-postgres created');
    expect(out).to.include('flexpipeline.flexcore.io/orders-refresh created');
    expect(out).to.match(/flexpipeline\.flexcore\.io\/orders-nightly\s+30 2 \* \* \*\s+false/);
    expect(out).to.match(
      /flexplugin\.flexcore\.io\/dbt\s+transformer\s+ghcr\.io\/flexcore-samples\/dbt-postgres:1\.8\.0/,
    );
    expect(out).to.match(/export KUBECONFIG=\/\S+\/admin\.kubeconfig/);
    expect(out).to.include('stopping the control plane');
  });
});
