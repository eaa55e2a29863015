// What the iptables binding tells without running iptables: the legacy tables of the
// namespace (a file of the test's own standing in for /proc/net/ip_tables_names) and the
// flavour of a tool by the multi-call binary its name links to (a PATH of the test's own).
import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  commandFlavour,
  legacyTables,
  legacyTablesFile,
  resolveCommand,
} from '../../../../bindings/iptables/probe.js';

describe('bindings/iptables probe', function () {
  let dir: string;
  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'kube-ipvs-probe-'));
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  const exe = (path: string): string => {
    writeFileSync(path, '#!/bin/sh\nexit 0\n');
    chmodSync(path, 0o755);
    return path;
  };

  it('reads the legacy tables the kernel lists; no file is no table, an unreadable one unknown', function () {
    expect(legacyTablesFile(4)).to.equal('/proc/net/ip_tables_names');
    expect(legacyTablesFile(6)).to.equal('/proc/net/ip6_tables_names');
    writeFileSync(join(dir, 'names'), 'mangle\nfilter\n');
    expect([...(legacyTables(4, join(dir, 'names')) ?? [])]).to.deep.equal(['mangle', 'filter']);
    writeFileSync(join(dir, 'empty'), '');
    expect(legacyTables(4, join(dir, 'empty'))?.size).to.equal(0);
    expect(legacyTables(6, join(dir, 'absent'))?.size).to.equal(0);
    expect(legacyTables(6, dir)).to.equal(undefined); // EISDIR: cannot tell
  });

  it('finds a command as execFile would: the first executable of that name on PATH', function () {
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    writeFileSync(join(dir, 'a', 'tool'), 'not executable');
    const b = exe(join(dir, 'b', 'tool'));
    const path = `${join(dir, 'a')}::${join(dir, 'b')}`;
    expect(resolveCommand('tool', path)).to.equal(b);
    expect(resolveCommand('nothing', path)).to.equal(undefined);
    expect(resolveCommand('/abs/tool', path)).to.equal('/abs/tool');
  });

  it("tells a tool's flavour by the multi-call binary it links to, through links of links", function () {
    const sbin = join(dir, 'sbin');
    const bin = join(dir, 'bin');
    mkdirSync(sbin);
    mkdirSync(bin);
    exe(join(sbin, 'xtables-nft-multi'));
    exe(join(sbin, 'xtables-legacy-multi'));
    exe(join(sbin, 'iptables-save-1.4'));
    // As Debian's alternatives: iptables-save → iptables-nft-save → xtables-nft-multi.
    symlinkSync(join(sbin, 'xtables-nft-multi'), join(sbin, 'iptables-nft-save'));
    symlinkSync(join(sbin, 'iptables-nft-save'), join(bin, 'iptables-save'));
    symlinkSync(join(sbin, 'xtables-legacy-multi'), join(bin, 'ip6tables-save'));
    symlinkSync(join(sbin, 'iptables-save-1.4'), join(bin, 'iptables-legacy-save'));
    symlinkSync(join(sbin, 'gone'), join(bin, 'ip6tables-legacy-save'));
    expect(commandFlavour('iptables-save', bin)).to.equal('nft');
    expect(commandFlavour('ip6tables-save', bin)).to.equal('legacy');
    // Another binary says nothing, and neither does a dangling link or an absent tool.
    expect(commandFlavour('iptables-legacy-save', bin)).to.equal(undefined);
    expect(commandFlavour('ip6tables-legacy-save', bin)).to.equal(undefined);
    expect(commandFlavour('iptables-restore', bin)).to.equal(undefined);
  });
});
