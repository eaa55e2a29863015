// modprobe and modprobeAll against a stand-in modprobe on PATH that logs its arguments and
// refuses the module "missing": one process for the lot, one per module only when that
// fails, and none for a module the kernel already has (files of the test's own standing in
// for /proc/modules, /sys/module and modules.builtin).
import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  kernelModules,
  modprobe,
  modprobeAll,
  parseModulesBuiltin,
  parseProcModules,
  type KernelModules,
} from '../../../bindings/modules.js';

/** A kernel with no module at all: everything goes to modprobe. */
const NONE: KernelModules = { has: () => false };

describe('bindings/modules modprobe and modprobeAll', function () {
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
    const r = await modprobeAll(['ip_set', 'xt_set'], { kernel: NONE });
    expect(r).to.deep.equal([
      { module: 'ip_set', ok: true },
      { module: 'xt_set', ok: true },
    ]);
    expect(calls()).to.deep.equal(['-a -- ip_set xt_set']);
  });

  it('falls back to one modprobe per module when one is missing, reporting it alone', async function () {
    const r = await modprobeAll(['ip_set', 'missing', 'xt_set'], { kernel: NONE });
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
      await modprobeAll(['ip_set', 'bad name'], { kernel: NONE });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(RangeError);
    expect(calls()).to.deep.equal([]);
  });

  /** A kernel described by files under dir/k: loaded, built-in and /sys/module entries. */
  function fakeKernel(procModules: string, builtin: string, sys: Record<string, boolean>) {
    const k = join(dir, 'k');
    mkdirSync(join(k, 'sys'), { recursive: true });
    writeFileSync(join(k, 'modules'), procModules);
    writeFileSync(join(k, 'modules.builtin'), builtin);
    for (const [name, loadable] of Object.entries(sys)) {
      mkdirSync(join(k, 'sys', name));
      if (loadable) writeFileSync(join(k, 'sys', name, 'initstate'), 'live\n');
    }
    return kernelModules({
      procModules: join(k, 'modules'),
      sysModule: join(k, 'sys'),
      builtin: join(k, 'modules.builtin'),
    });
  }

  it('asks modprobe only for the modules the kernel lacks, with their reasons as before', async function () {
    const kernel = fakeKernel(
      'ip_set 57344 1 xt_set, Live 0x0000000000000000\n' +
        'xt_set 20480 0 - Live 0x0000000000000000\n' +
        'xt_mark 16384 0 - Unloading 0x0000000000000000\n',
      'kernel/net/netfilter/xt_comment.ko\nkernel/net/netfilter/nf-nat.ko\n',
      { nf_conntrack: false, xt_mark: true },
    );
    const r = await modprobeAll(
      ['ip_set', 'xt_set', 'xt_comment', 'nf_nat', 'nf_conntrack', 'xt_mark', 'missing'],
      { kernel },
    );
    expect(r.map((x) => x.ok)).to.deep.equal([true, true, true, true, true, true, false]);
    expect(r[6]?.reason).to.match(/Module missing not found/);
    // An Unloading module and one with an initstate (loadable, not built in) still need it.
    expect(calls()).to.deep.equal(['-a -- xt_mark missing', '-- xt_mark', '-- missing']);
  });

  it('spawns nothing when every module is there, and modprobe of a loaded one returns at once', async function () {
    const kernel = fakeKernel('ip_vs 200000 0 - Live 0x0\n', 'kernel/net/ipv4/ip-tables.ko\n', {});
    expect(await modprobeAll(['ip_vs', 'ip_tables'], { kernel })).to.deep.equal([
      { module: 'ip_vs', ok: true },
      { module: 'ip_tables', ok: true },
    ]);
    expect(await modprobe('ip_vs', { kernel })).to.deep.equal({ module: 'ip_vs', ok: true });
    expect(calls()).to.deep.equal([]);
  });

  it('a module that is not loaded (as hide-ipvs leaves ip_vs) goes to modprobe and fails with its reason', async function () {
    const kernel = fakeKernel('ip_set 57344 0 - Live 0x0\n', '', {});
    expect(await modprobe('missing', { kernel })).to.deep.equal({
      module: 'missing',
      ok: false,
      reason: 'modprobe: FATAL: Module missing not found',
    });
    expect(calls()).to.deep.equal(['-- missing']);
  });

  it('absent files mean nothing is known, so everything goes to modprobe', async function () {
    const kernel = kernelModules({
      procModules: join(dir, 'none'),
      sysModule: join(dir, 'none'),
      builtin: join(dir, 'none'),
    });
    expect(kernel.has('ip_set')).to.equal(false);
  });

  it('parses /proc/modules (Live and Loading count) and modules.builtin (- is _)', function () {
    expect([
      ...parseProcModules('a 1 0 - Live 0x0\nb-c 1 0 - Loading 0x0\nd 1 0 - Unloading 0x0\n\n'),
    ]).to.deep.equal(['a', 'b_c']);
    expect([...parseModulesBuiltin('kernel/a/x-y.ko\n\nkernel/b/z.ko\n')]).to.deep.equal([
      'x_y',
      'z',
    ]);
  });
});
