// The UML runner from the host: output and exit status come back, and a hang, a boot
// failure or a failing command is reported as such, never as a pass. Each case boots
// UML once (about two seconds).
import { expect } from 'chai';
import { existsSync, readdirSync } from 'node:fs';
import {
  UmlError,
  runInUml,
  umlModulesRoot,
  umlProcessesLeft,
  umlUnavailableReason,
} from '../../harness/uml.js';

async function failure(p: Promise<unknown>): Promise<UmlError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof UmlError) return err;
    throw err;
  }
  throw new Error('expected the UML run to fail, it passed');
}

describe('harness on the host: runInUml', function () {
  this.timeout(60_000);

  before(function () {
    const reason = umlUnavailableReason();
    if (reason) {
      console.log(`      skipped: ${reason}`);
      this.skip();
    }
  });

  it('brings back output, exit status, cwd and the in-UML marker', async function () {
    const result = await runInUml({
      command: 'sh',
      args: ['-c', 'echo "in=$KUBE_IPVS_IN_UML cwd=$(pwd) x=$X"; echo "it\'s" >&2; exit 3'],
      cwd: '/tmp',
      env: { X: 'a b' },
      check: false,
    });
    expect(result.exitCode).to.equal(3);
    expect(result.output).to.equal("in=1 cwd=/tmp x=a b\nit's\n");
    expect(result.console).to.include('Run ');
  });

  it('runs the UML kernel with IPVS available', async function () {
    const result = await runInUml({ command: 'sh', args: ['-c', 'uname -r; ipvsadm -Ln'] });
    // The kernel whose modules the harness mounts: Debian 12's 6.1, or the newer one
    // scripts/uml-kernel.sh unpacks where that does not boot.
    const releases = readdirSync(umlModulesRoot());
    expect(releases).to.have.length.greaterThan(0);
    expect(result.output.split('\n')[0]).to.be.oneOf(releases);
    expect(result.output).to.include('IP Virtual Server version');
  });

  it('rejects a non-zero exit when check is on', async function () {
    const err = await failure(runInUml({ command: 'sh', args: ['-c', 'echo boom; exit 7'] }));
    expect(err.kind).to.equal('exit');
    expect(err.message).to.include('exit status 7').and.include('boom');
  });

  it('reports a hang as a timeout with the console tail and leaves no UML process', async function () {
    const started = Date.now();
    const err = await failure(runInUml({ command: 'sleep', args: ['60'], timeoutMs: 4000 }));
    expect(err.kind).to.equal('timeout');
    expect(err.message).to.include('UML console');
    expect(Date.now() - started).to.be.below(30_000);
    expect(err.umlPid).to.be.a('number');
    expect(umlProcessesLeft(err.umlPid ?? -1)).to.deep.equal([]);
  });

  it('reports a kernel that cannot boot', async function () {
    // Too little memory: the UML kernel refuses to start before init.
    const err = await failure(runInUml({ command: 'true', memory: '8M' }));
    expect(err.kind).to.equal('boot');
    expect(err.message).to.include('did not boot');
  });

  it('passes arguments literally and removes its temp dir', async function () {
    const tricky = `a b 'q' "d" $(echo no) \\ ;`;
    const r = await runInUml({ command: 'printf', args: ['%s|', tricky, ''] });
    expect(r.output).to.equal(`${tricky}||`);
    // The init script lives in the temp dir; the console names it.
    const m = /Run (\S+)\/init\.sh as init/.exec(r.console);
    expect(m).to.not.equal(null);
    expect(existsSync(m?.[1] ?? '/')).to.equal(false);
  });
});
