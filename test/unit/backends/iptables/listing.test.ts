// What lvsadm lists on a node the iptables backend serves, from `iptables-save -c` output
// the real backend produced (test/fixtures/iptables-lvsadm, captured by
// test/integration/backends/iptables-lvsadm.test.ts after real connections): the same
// table `kube-ipvs render` gives for those Services, connection counts from the rules'
// packet counters, 0 for what iptables does not count.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSave } from '../../../../bindings/iptables/save.js';
import type { IptablesFamily } from '../../../../bindings/iptables/run.js';
import { sortIpvsEntries, type IpvsEntry } from '../../../../lib/backends/ipvs/convert.js';
import { listedEntries } from '../../../../lib/backends/iptables/listing.js';
import { DRIFT, readTables } from '../../../../lib/backends/iptables/read.js';
import { formatList, DEFAULT_LIST_FORMAT } from '../../../../lib/cli/format/list.js';
import { formatSave } from '../../../../lib/cli/format/save.js';
import { FALLBACK_INFO } from '../../../../lib/cli/lvsadm/iptables-source.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '../../../../../test/fixtures/iptables-lvsadm');
const fixture = (name: string): string => readFileSync(join(fixtures, name), 'utf8');

function entries(texts: ReadonlyArray<[IptablesFamily, string]>): IpvsEntry[] {
  return texts.flatMap(([family, text]) =>
    listedEntries(family, parseSave(text, 'nat'), parseSave(text, 'filter')),
  );
}

const saved = (): Array<[IptablesFamily, string]> => [
  [4, fixture('iptables.save')],
  [6, fixture('ip6tables.save')],
];

const listing = (e: IpvsEntry[], stats: boolean): string =>
  formatList(
    { info: FALLBACK_INFO, services: e, timeouts: { tcp: 0, tcpFin: 0, udp: 0 }, daemons: [] },
    { ...DEFAULT_LIST_FORMAT, numeric: true, stats },
  );

describe('backends/iptables listing (lvsadm on a fallback node)', function () {
  it('the saved rules give the table render gives for the same Services (ipvsadm -Sn)', function () {
    expect(formatSave(sortIpvsEntries(entries(saved())), { numeric: true })).to.equal(
      fixture('render.txt'),
    );
  });

  it("--stats: Conns are the entry and DNAT rules' packets; packets and bytes are 0", function () {
    // 6 TCP and 3 UDP connections to web (rr), 4 from one client to sticky (sh, affinity),
    // 2 refused by empty (no endpoint), 3 to web6.
    const dest = (a: string, n: number): string =>
      `  -> ${a.padEnd(28)} ${String(n).padStart(8)}        0        0        0        0\n`;
    const svc = (a: string, n: number): string =>
      `${a.padEnd(33)} ${String(n).padStart(8)}        0        0        0        0\n`;
    expect(listing(entries(saved()), true)).to.equal(
      'IP Virtual Server version 1.2.1 (size=4096)\n' +
        'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n' +
        '  -> RemoteAddress:Port\n' +
        svc('TCP  10.96.0.10:80', 6) +
        dest('10.244.0.11:8080', 2) +
        dest('10.244.0.12:8080', 2) +
        dest('10.244.0.13:8080', 2) +
        svc('TCP  10.96.0.11:80', 4) +
        dest('10.244.0.11:8080', 4) +
        dest('10.244.0.12:8080', 0) +
        svc('TCP  10.96.0.12:80', 0) +
        dest('10.244.0.11:8080', 0) +
        dest('10.244.0.12:8080', 0) +
        dest('10.244.0.13:8080', 0) +
        svc('TCP  10.96.0.13:80', 2) +
        svc('UDP  10.96.0.10:53', 3) +
        dest('10.244.0.11:5353', 1) +
        dest('10.244.0.12:5353', 1) +
        dest('10.244.0.13:5353', 1) +
        svc('TCP  [fd00:96::10]:80', 3) +
        dest('[fd00:a::11]:8080', 1) +
        dest('[fd00:a::12]:8080', 1) +
        dest('[fd00:a::13]:8080', 1),
    );
  });

  it('active and inactive connections are 0 (iptables does not know them)', function () {
    const e = entries(saved());
    for (const d of e.flatMap((x) => x.destinations))
      expect([d.activeConns, d.inactiveConns]).to.deep.equal([0, 0]);
    expect(listing(e, false)).to.include(
      '  -> 10.244.0.11:8080             Masq    1      0          0         \n',
    );
  });

  it('without -c counters, every count is 0', function () {
    const bare = saved().map(
      ([f, t]) => [f, t.replace(/^\[\d+:\d+\] /gm, '')] as [IptablesFamily, string],
    );
    const e = entries(bare);
    expect(formatSave(sortIpvsEntries(e), { numeric: true })).to.equal(fixture('render.txt'));
    for (const x of e) {
      expect(x.service.stats?.conns).to.equal(0n);
      for (const d of x.destinations) expect(d.stats?.conns).to.equal(0n);
    }
  });

  it('a hand-edited virtual server is listed as its comments name it, without the drift mark', function () {
    // The reconcile loop marks it (peName) to rewrite it; lvsadm shows no persistence engine.
    const [v4, v6] = saved();
    // Its rotation edited by hand: every 3rd new connection no longer goes to .11.
    const edited = (v4?.[1] ?? '').replace(
      /(-r 10\.244\.0\.11:8080 -m -w 1" -m statistic --mode nth) --every 3 /,
      '$1 --every 4 ',
    );
    expect(edited).to.not.equal(v4?.[1]);
    const read = readTables(4, parseSave(edited, 'nat'), parseSave(edited, 'filter'));
    expect([...read.services.values()].map((i) => i.entry.service.peName)).to.include(DRIFT);
    const e = entries([[4, edited], v6 as [IptablesFamily, string]]);
    expect(formatSave(sortIpvsEntries(e), { numeric: true })).to.equal(fixture('render.txt'));
    expect(e.map((x) => x.service.peName)).to.deep.equal(e.map(() => ''));
  });
});
