// modprobeAll against a stand-in modprobe on PATH that logs its arguments and refuses the
// module "missing": one process for the lot, and one per module only when that fails.
import { expect } from 'chai';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modprobeAll } from '../../../bindings/modules.js';

describe('bindings/modules modprobeAll', function () {
  let dir: string;
  let path: string | undefined;
  const calls = (): string[] =>
    readFileSync(join(dir, 'log'), 'utf8')
      .split('\n')
      .filter((l) => l !== '');

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-modprobe-'));
    writeFileSync(
      join(dir, 'modprobe'),
      `#!/bin/sh\necho "$*" >> "${dir}/log"\nfor a in "$@"; do [ "$a" = missing ] && { echo "modprobe: FATAL: Module missing not found" >&2; exit 1; }; done\nexit 0\n`,
    );
    chmodSync(join(dir, 'modprobe'), 0o755);
    writeFileSync(join(dir, 'log'), '');
    path = process.env.PATH;
    process.env.PATH = `${dir}:${path ?? ''}`;
  });
  afterEach(function () {
    process.env.PATH = path;
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads every module with one modprobe -a', async function () {
    const r = await modprobeAll(['ip_set', 'xt_set']);
    expect(r).to.deep.equal([
      { module: 'ip_set', ok: true },
      { module: 'xt_set', ok: true },
    ]);
    expect(calls()).to.deep.equal(['-a -- ip_set xt_set']);
  });

  it('falls back to one modprobe per module when one is missing, reporting it alone', async function () {
    const r = await modprobeAll(['ip_set', 'missing', 'xt_set']);
    expect(r.map((x) => x.ok)).to.deep.equal([true, false, true]);
    expect(r[1]?.reason).to.match(/Module missing not found/);
    expect(calls()).to.deep.equal([
      '-a -- ip_set missing xt_set',
      '-- ip_set',
      '-- missing',
      '-- xt_set',
    ]);
  });

  it('refuses a name that is not a module name before running anything', async function () {
    let err: unknown;
    try {
      await modprobeAll(['ip_set', 'bad name']);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(RangeError);
    expect(calls()).to.deep.equal([]);
  });
});
