// lvsadm when the kernel has no IPVS family: the iptables backend's chains, found in the
// nft or the legacy flavour, are listed as the IPVS table (fixtures captured from the real
// backend, see test/unit/backends/iptables/listing.test.ts); a node without them gets
// ipvsadm's own answer, unchanged.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  IptablesFamily,
  IptablesFlavour,
  IptablesRunner,
} from '../../../bindings/iptables/run.js';
import { GenlFamilyNotFoundError, NetlinkError } from '../../../bindings/netlink/errors.js';
import { runLvsadm, type LvsadmDeps } from '../../../lib/cli/lvsadm.js';
import { NO_NAMES } from '../../../lib/cli/format/names.js';
import { NO_ARG_NAMES } from '../../../lib/cli/lvsadm/parse.js';
import { CONNTRACK_TIMEOUTS, iptablesSource } from '../../../lib/cli/lvsadm/iptables-source.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '../../../../test/fixtures/iptables-lvsadm');
const fixture = (name: string): string => readFileSync(join(fixtures, name), 'utf8');

/** iptables-save output per family and flavour; absent: the binary fails. */
type Saves = Partial<Record<`${IptablesFamily}-${IptablesFlavour}`, string>>;

function fakeRunner(saves: Saves, calls: string[] = []) {
  return (family: IptablesFamily, flavour: IptablesFlavour): IptablesRunner => ({
    restore: () => Promise.reject(new Error('lvsadm never writes')),
    save: (table, options) => {
      calls.push(`${family}-${flavour} ${table}${options?.counters ? ' -c' : ''}`);
      const text = saves[`${family}-${flavour}`];
      return text === undefined
        ? Promise.reject(new Error('no such binary'))
        : Promise.resolve(text);
    },
  });
}

const SYSCTLS: Record<string, string> = {
  [CONNTRACK_TIMEOUTS.tcp]: '432000\n',
  [CONNTRACK_TIMEOUTS.tcpFin]: '120\n',
  [CONNTRACK_TIMEOUTS.udp]: '30\n',
};
const sysctl = (name: string): Promise<string> =>
  SYSCTLS[name] === undefined
    ? Promise.reject(new Error('ENOENT'))
    : Promise.resolve(SYSCTLS[name]);

const NFT_EMPTY = '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n';

function deps(saves: Saves | undefined, probes: string[] = []): LvsadmDeps {
  return {
    openSource: () => Promise.reject(new GenlFamilyNotFoundError('IPVS', new NetlinkError(2, 1))),
    argNames: NO_ARG_NAMES,
    names: () => Promise.resolve(NO_NAMES),
    readOwners: () => Promise.reject(new Error('the owner map was read without --k8s')),
    modprobe: () => {
      probes.push('ip_vs');
      return Promise.resolve({ ok: false, stderr: 'modprobe: FATAL: Module ip_vs not found\n' });
    },
    ...(saves
      ? { fallbackSource: () => iptablesSource({ runner: fakeRunner(saves), sysctl }) }
      : {}),
  };
}

const BOTH: Saves = {
  '4-default': fixture('iptables.save'),
  '6-default': fixture('ip6tables.save'),
};

describe('lvsadm on a node without IPVS served by the iptables backend', function () {
  it("-Sn lists the backend's virtual servers as render gave them, and loads no module", async function () {
    const probes: string[] = [];
    const r = await runLvsadm('lvsadm', ['-Sn'], deps(BOTH, probes));
    expect(r).to.deep.equal({ stdout: fixture('render.txt'), stderr: '', code: 0 });
    expect(probes).to.deep.equal([]);
  });

  it('reads iptables-save -c of nat and filter, in the flavour that holds the chains (legacy here)', async function () {
    const calls: string[] = [];
    const source = await iptablesSource({
      runner: fakeRunner(
        { '4-default': NFT_EMPTY, '4-legacy': fixture('iptables.save'), '6-default': NFT_EMPTY },
        calls,
      ),
      sysctl,
    });
    expect(calls).to.deep.equal([
      '4-default nat -c',
      '4-legacy nat -c',
      '4-legacy filter -c',
      '6-default nat -c',
      '6-legacy nat -c',
    ]);
    const snap = await source?.snapshot();
    expect(snap?.services.map((e) => `${e.service.address}:${e.service.port}`)).to.deep.equal([
      '10.96.0.13:80',
      '10.96.0.12:80',
      '10.96.0.11:80',
      '10.96.0.10:80',
      '10.96.0.10:53',
    ]);
  });

  it('-t filters one virtual server; --stats counts its connections', async function () {
    const r = await runLvsadm('lvsadm', ['-Ln', '--stats', '-t', '10.96.0.11:80'], deps(BOTH));
    expect(r.stdout).to.equal(
      'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n' +
        '  -> RemoteAddress:Port\n' +
        'TCP  10.96.0.11:80                       4        0        0        0        0\n' +
        '  -> 10.244.0.11:8080                    4        0        0        0        0\n' +
        '  -> 10.244.0.12:8080                    0        0        0        0        0\n',
    );
  });

  it('--timeout prints the conntrack timeouts the connections live by', async function () {
    const r = await runLvsadm('lvsadm', ['-L', '--timeout'], deps(BOTH));
    expect(r.stdout).to.equal('Timeout (tcp tcpfin udp): 432000 120 30\n');
  });

  it('-c: there is no IPVS connection table, as ipvsadm says', async function () {
    const r = await runLvsadm('lvsadm', ['-Lnc'], deps(BOTH));
    expect([r.code, r.stderr]).to.deep.equal([1, 'cannot open file /proc/net/ip_vs_conn\n']);
  });

  it("without the backend's chains in any flavour, lvsadm answers as ipvsadm (modprobe, then the message)", async function () {
    expect(
      await iptablesSource({ runner: fakeRunner({ '4-default': NFT_EMPTY }), sysctl }),
    ).to.equal(undefined);
    const probes: string[] = [];
    for (const d of [
      deps({ '4-default': NFT_EMPTY, '6-default': NFT_EMPTY }, probes),
      deps(undefined, probes),
    ]) {
      const r = await runLvsadm('lvsadm', ['-Ln'], d);
      expect(r).to.deep.equal({
        stdout: '',
        stderr:
          'modprobe: FATAL: Module ip_vs not found\n' +
          "Can't initialize ipvs: Protocol not available\n" +
          'Are you sure that IP Virtual Server is built in the kernel or as module?\n',
        code: 2,
      });
    }
    expect(probes).to.deep.equal(['ip_vs', 'ip_vs']);
  });
});
