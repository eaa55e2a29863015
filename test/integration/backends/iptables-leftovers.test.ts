// The iptables backend's leftover chains (removed at IPVS start and by `kube-ipvs cleanup`)
// on the host kernel, each test in a namespace of its own: the nf_tables chain dump sees a
// chain iptables-nft made, the kernel's legacy table list sees one iptables-legacy made,
// and the cleanup runs iptables-save only where one of ours may be, so a clean node costs
// no process at all and a node with leftovers still loses them (nft and legacy, v4 and v6).
import { expect } from 'chai';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CleanupReport } from '../../../lib/backends/backend.js';
import { hostCheck } from '../../harness/scenarios/host.js';
import { Netns, deleteAllNetns } from '../../harness/netns.js';

const child = join(dirname(fileURLToPath(import.meta.url)), 'leftovers-child.js');

interface Chain {
  family: number;
  table: string;
  name: string;
}
interface Places {
  chains: { ip: Chain[]; ip6: Chain[] };
  mayHold: Record<string, boolean>;
  spawned: string[];
}

async function inNs<T>(ns: Netns, scenario: 'places' | 'cleanup'): Promise<T> {
  return JSON.parse((await ns.node(child, [scenario], { timeoutMs: 60_000 })).stdout) as T;
}

/** Our chains in every table of one tool's save. */
async function ourChains(ns: Netns, tool: string): Promise<string[]> {
  const text = (await ns.exec(tool, [])).stdout;
  return text.split('\n').filter((l) => /^:KUBE-IPVS-/.test(l));
}

describe('iptables backend leftovers found without iptables-save (host kernel, netns)', function () {
  this.timeout(120_000);

  before(function () {
    hostCheck();
  });
  afterEach(async function () {
    await deleteAllNetns();
  });

  it('a clean namespace: no chain of ours anywhere, and cleanup spawns no process', async function () {
    const ns = await Netns.create('left-clean');
    const p = await inNs<Places>(ns, 'places');
    expect(p.mayHold).to.deep.equal({
      '4 default': false,
      '4 legacy': false,
      '6 default': false,
      '6 legacy': false,
    });
    expect(p.spawned).to.deep.equal([]);
    const c = await inNs<{ report: CleanupReport; spawned: string[] }>(ns, 'cleanup');
    expect(c.report).to.deep.equal({ virtualServers: 0, addresses: 0, other: [] });
    expect(c.spawned).to.deep.equal([]);
  });

  it('iptables-nft chains (nat v4, filter v6): the dump sees them and cleanup removes them', async function () {
    const ns = await Netns.create('left-nft');
    await ns.exec('iptables-nft-restore', ['--noflush', '-w'], {
      input:
        '*nat\n:KUBE-IPVS-PORTALS - [0:0]\n:KUBE-IPVS-SVC-TEST - [0:0]\n' +
        '-A PREROUTING -j KUBE-IPVS-PORTALS\nCOMMIT\n',
    });
    await ns.exec('ip6tables-nft', ['-t', 'filter', '-N', 'KUBE-IPVS-REJECT']);
    await ns.exec('ip6tables-nft', ['-t', 'filter', '-N', 'SOMEONE-ELSES']);
    const p = await inNs<Places>(ns, 'places');
    const names = (cs: Chain[]) => cs.map((c) => `${c.table} ${c.name}`).sort();
    expect(names(p.chains.ip)).to.include.members([
      'nat KUBE-IPVS-PORTALS',
      'nat KUBE-IPVS-SVC-TEST',
      'nat PREROUTING',
    ]);
    expect(names(p.chains.ip6)).to.deep.equal(['filter KUBE-IPVS-REJECT', 'filter SOMEONE-ELSES']);
    expect(p.mayHold).to.deep.equal({
      '4 default': true,
      '4 legacy': false,
      '6 default': true,
      '6 legacy': false,
    });
    const c = await inNs<{ report: CleanupReport; spawned: string[] }>(ns, 'cleanup');
    expect(c.report.other).to.deep.equal(['iptables service chains', 'ip6tables service chains']);
    expect(c.spawned).to.deep.equal([
      'iptables-save',
      'iptables-restore',
      'ip6tables-save',
      'ip6tables-restore',
    ]);
    expect(await ourChains(ns, 'iptables-nft-save')).to.deep.equal([]);
    expect(await ourChains(ns, 'ip6tables-nft-save')).to.deep.equal([]);
    expect((await ns.exec('ip6tables-nft-save', [])).stdout).to.contain(':SOMEONE-ELSES');
  });

  it('iptables-legacy chains (filter v4, nat v6): the kernel lists the tables and cleanup removes them', async function () {
    const ns = await Netns.create('left-legacy');
    await ns.exec('iptables-legacy', ['-t', 'filter', '-N', 'KUBE-IPVS-REJECT']);
    await ns.exec('ip6tables-legacy', ['-t', 'nat', '-N', 'KUBE-IPVS-PORTALS']);
    const p = await inNs<Places>(ns, 'places');
    expect(p.mayHold).to.deep.equal({
      '4 default': false,
      '4 legacy': true,
      '6 default': false,
      '6 legacy': true,
    });
    const c = await inNs<{ report: CleanupReport; spawned: string[] }>(ns, 'cleanup');
    expect(c.report.other).to.deep.equal([
      'iptables-legacy service chains',
      'ip6tables-legacy service chains',
    ]);
    expect(c.spawned).to.deep.equal([
      'iptables-legacy-save',
      'iptables-legacy-restore',
      'ip6tables-legacy-save',
      'ip6tables-legacy-restore',
    ]);
    expect(await ourChains(ns, 'iptables-legacy-save')).to.deep.equal([]);
    expect(await ourChains(ns, 'ip6tables-legacy-save')).to.deep.equal([]);
  });
});
