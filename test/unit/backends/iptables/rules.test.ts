// The iptables backend's pure translation: virtual servers → chains and rules in the
// canonical form iptables-save prints (checked against iptables-nft and -legacy 1.8.9 in
// test/integration/backends/iptables.test.ts), the comment contract both ways, the reading
// back of saved tables with drift found, and restore inputs that hold only the change.
import { expect } from 'chai';
import { parseSave } from '../../../../bindings/iptables/save.js';
import type { IpvsDestination, IpvsService } from '../../../../bindings/ipvs/types.js';
import type { IpvsEntry } from '../../../../lib/backends/ipvs/convert.js';
import {
  destinationComment,
  parseDestinationComment,
  parseServiceComment,
  serviceComment,
} from '../../../../lib/backends/iptables/comment.js';
import {
  CHAINS,
  JUMPS,
  PORTALS_HEAD,
  probabilityText,
  schedulerMapping,
  affinityList,
  serviceRules,
  svcChain,
} from '../../../../lib/backends/iptables/rules.js';
import { DRIFT, readTables, virtualAddresses } from '../../../../lib/backends/iptables/read.js';
import { installedOf, restoreInput } from '../../../../lib/backends/iptables/restore.js';
import type { VirtualServerKey } from '../../../../lib/model/types.js';

function svc(over: Partial<IpvsService> = {}): IpvsService {
  const v6 = (over.address ?? '').includes(':');
  return {
    family: v6 ? 10 : 2,
    protocol: 6,
    address: '10.96.0.10',
    port: 80,
    fwmark: 0,
    scheduler: 'rr',
    flags: 0,
    timeout: 0,
    netmask: v6 ? 128 : 0xffffffff,
    peName: '',
    ...over,
  };
}

function dest(address: string, weight = 1, port = 8080): IpvsDestination {
  return {
    family: address.includes(':') ? 10 : 2,
    address,
    port,
    forward: 0,
    weight,
    upperThreshold: 0,
    lowerThreshold: 0,
    tunType: 0,
    tunPort: 0,
    tunFlags: 0,
    activeConns: 0,
    inactiveConns: 0,
  };
}

const EPS = ['10.244.0.11', '10.244.0.12', '10.244.0.13'];
const entry = (s: IpvsService, d: IpvsDestination[]): IpvsEntry => ({
  service: s,
  destinations: d,
});
/** The SVC chain's rules after its record rule. */
const picks = (e: IpvsEntry): readonly string[] =>
  (serviceRules(e).chains.get(svcChain(e.service)) ?? []).slice(1);

/** The saved nat and filter tables that installing these entries gives (with the base). */
function saved(entries: IpvsEntry[]) {
  const nat: string[] = ['*nat', `:${CHAINS.portals} - [0:0]`];
  const natRules = [`-A ${CHAINS.portals} ${PORTALS_HEAD}`];
  const filter: string[] = ['*filter', `:${CHAINS.reject} - [0:0]`];
  for (const j of JUMPS) (j.table === 'nat' ? natRules : filter).push(`-A ${j.chain} ${j.rule}`);
  for (const e of entries) {
    const r = serviceRules(e);
    natRules.push(`-A ${CHAINS.portals} ${r.entry}`);
    for (const [c, rules] of r.chains) {
      nat.push(`:${c} - [0:0]`);
      for (const x of rules) natRules.push(`-A ${c} ${x}`);
    }
    if (r.reject) filter.push(`-A ${CHAINS.reject} ${r.reject}`);
  }
  return {
    nat: `${[...nat, ...natRules, 'COMMIT'].join('\n')}\n`,
    filter: `${[...filter, 'COMMIT'].join('\n')}\n`,
  };
}

describe('iptables backend: the comment contract', function () {
  it('names virtual and real servers as ipvsadm -Sn does, and reads them back', function () {
    const cases: IpvsService[] = [
      svc(),
      svc({ protocol: 17, port: 53, scheduler: 'sh', flags: 1 | 0x10, timeout: 10800 }),
      svc({ protocol: 132, address: 'fd00::10', scheduler: 'lc' }),
      svc({ flags: 1, timeout: 60, netmask: 0xffffff00 }),
    ];
    expect(cases.map(serviceComment)).to.deep.equal([
      '-A -t 10.96.0.10:80 -s rr',
      '-A -u 10.96.0.10:53 -s sh -p 10800 -b sh-port',
      '-A --sctp-service [fd00::10]:80 -s lc',
      '-A -t 10.96.0.10:80 -s rr -p 60 -M 255.255.255.0',
    ]);
    for (const s of cases) expect(parseServiceComment(serviceComment(s))).to.deep.equal(s);
    const d = dest('fd01::5', 3);
    const s6 = svc({ address: 'fd00::10' });
    expect(destinationComment(s6, d)).to.equal('-a -t [fd00::10]:80 -r [fd01::5]:8080 -m -w 3');
    expect(parseDestinationComment(destinationComment(s6, d))).to.deep.equal({
      serviceName: '-t [fd00::10]:80',
      destination: d,
    });
    expect(parseServiceComment('-a -t 10.0.0.1:80 -r 1.2.3.4:80 -m -w 1')).to.equal(undefined);
    expect(parseServiceComment('-A -t 10.0.0.1:99999 -s rr')).to.equal(undefined);
  });
});

describe('iptables backend: translation of one virtual server', function () {
  it('the entry rule matches address, protocol and port and jumps to the service chain', function () {
    const r = serviceRules(entry(svc(), [dest(EPS[0] as string)]));
    expect(r.family).to.equal(4);
    expect(r.entry).to.equal(
      `-d 10.96.0.10/32 -p tcp -m tcp --dport 80 -m comment --comment "-t 10.96.0.10:80" -j ${svcChain(svc())}`,
    );
    expect(svcChain(svc())).to.match(/^KUBE-IPVS-SVC-[A-Z2-7]{14}$/);
    expect(r.reject).to.equal(undefined);
  });

  it('rr: an nth cascade that rotates exactly (every 3, every 2, then the last), DNAT in the chain', function () {
    const e = entry(
      svc(),
      EPS.map((a) => dest(a)),
    );
    expect(picks(e)).to.deep.equal([
      '-p tcp -m comment --comment "-a -t 10.96.0.10:80 -r 10.244.0.11:8080 -m -w 1" -m statistic --mode nth --every 3 --packet 0 -j DNAT --to-destination 10.244.0.11:8080',
      '-p tcp -m comment --comment "-a -t 10.96.0.10:80 -r 10.244.0.12:8080 -m -w 1" -m statistic --mode nth --every 2 --packet 0 -j DNAT --to-destination 10.244.0.12:8080',
      '-p tcp -m comment --comment "-a -t 10.96.0.10:80 -r 10.244.0.13:8080 -m -w 1" -j DNAT --to-destination 10.244.0.13:8080',
    ]);
    // One chain per virtual server, none per real server (see SEP_PREFIX).
    expect([...serviceRules(e).chains.keys()]).to.deep.equal([svcChain(e.service)]);
  });

  it('simulated: the nth cascade hands out connections in strict rotation', function () {
    // Each rule counts the packets that reach it; nth --every n --packet 0 takes the first of n.
    const e = entry(svc({ scheduler: 'wrr' }), [dest('10.244.0.11', 2), dest('10.244.0.12', 1)]);
    const rules = picks(e).map((r) => {
      const every = /--every (\d+)/.exec(r);
      return { every: every ? Number(every[1]) : 1, seen: 0, to: /-r (\S+)/.exec(r)?.[1] };
    });
    const got: string[] = [];
    for (let c = 0; c < 6; c++)
      for (const r of rules) {
        const hit = r.seen % r.every === 0;
        r.seen++;
        if (hit) {
          got.push(r.to as string);
          break;
        }
      }
    // wrr honours weights: 10.244.0.11 takes two turns of three.
    expect(got.filter((a) => a.startsWith('10.244.0.11')).length).to.equal(4);
    expect(got.filter((a) => a.startsWith('10.244.0.12')).length).to.equal(2);
  });

  it('lc, sed, nq: random with equal probabilities that leave 1/n to each (approximated)', function () {
    for (const scheduler of ['lc', 'sed', 'nq']) {
      const e = entry(
        svc({ scheduler }),
        EPS.map((a) => dest(a)),
      );
      expect(schedulerMapping(scheduler)).to.deep.equal({ mapping: 'random', exact: false });
      expect(serviceRules(e).approximated).to.equal(true);
      const p = picks(e).map((r) => /--probability (\S+)/.exec(r)?.[1]);
      expect(p).to.deep.equal(['0.33333333349', '0.50000000000', undefined]);
    }
    expect(probabilityText(0.25)).to.equal('0.25000000000');
    // Weights: 3 and 1 → the first is taken with probability 3/4.
    const w = entry(svc({ scheduler: 'wlc' }), [dest('10.244.0.11', 3), dest('10.244.0.12', 1)]);
    expect(picks(w)[0]).to.include('--probability 0.75000000000');
  });

  it('sh / dh: HMARK of the source / destination keeping the masquerade bit, one rule per bucket', function () {
    const e = entry(
      svc({ scheduler: 'sh' }),
      EPS.map((a) => dest(a)),
    );
    const rules = picks(e);
    expect(rules.slice(0, 2)).to.deep.equal([
      '-m mark --mark 0x4000/0x4000 -j HMARK --hmark-src-prefix 32 --hmark-rnd 0x4b495056 --hmark-mod 3 --hmark-offset 16384',
      '-m mark ! --mark 0x4000/0x4000 -j HMARK --hmark-src-prefix 32 --hmark-rnd 0x4b495056 --hmark-mod 3 --hmark-offset 0',
    ]);
    expect(rules.slice(2).map((r) => /--mark (\S+)/.exec(r)?.[1])).to.deep.equal([
      '0x0/0x3fff',
      '0x1/0x3fff',
      '0x2/0x3fff',
    ]);
    const dh = picks(entry(svc({ scheduler: 'dh', address: 'fd00::10' }), [dest('fd01::1')]));
    expect(dh[0]).to.include('--hmark-dst-prefix 128');
    expect(schedulerMapping('sh').exact).to.equal(true);
    // Weight 2 → two buckets.
    const w = picks(entry(svc({ scheduler: 'sh' }), [dest('10.244.0.11', 2), dest('10.244.0.12')]));
    expect(w[1]).to.include('--hmark-mod 3');
  });

  it('ClientIP affinity: recent lists checked (and refreshed) first with the timeout, set by the rule that picks', function () {
    const s = svc({ flags: 1, timeout: 10800 });
    const e = entry(s, [dest('10.244.0.11')]);
    const list = affinityList(s, dest('10.244.0.11'));
    expect(picks(e)).to.deep.equal([
      `-p tcp -m recent --update --seconds 10800 --reap --name ${list} --mask 255.255.255.255 --rsource -j DNAT --to-destination 10.244.0.11:8080`,
      `-p tcp -m comment --comment "-a -t 10.96.0.10:80 -r 10.244.0.11:8080 -m -w 1" -m recent --set --name ${list} --mask 255.255.255.255 --rsource -j DNAT --to-destination 10.244.0.11:8080`,
    ]);
    const s6 = svc({ address: 'fd00::1', flags: 1, timeout: 60, protocol: 17 });
    const list6 = affinityList(s6, dest('fd01::1'));
    expect(picks(entry(s6, [dest('fd01::1')]))[1]).to.equal(
      `-p udp -m comment --comment "-a -u [fd00::1]:80 -r [fd01::1]:8080 -m -w 1" -m recent --set --name ${list6} --mask ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff --rsource -j DNAT --to-destination [fd01::1]:8080`,
    );
  });

  it('no real server to pick: REJECT with icmp port-unreachable (icmp6 for IPv6); weight 0 only recorded', function () {
    const r = serviceRules(entry(svc({ protocol: 132 }), []));
    expect(r.reject).to.equal(
      '-d 10.96.0.10/32 -p sctp -m sctp --dport 80 -m comment --comment "-A --sctp-service 10.96.0.10:80 -s rr" -j REJECT --reject-with icmp-port-unreachable',
    );
    const drained = serviceRules(entry(svc({ address: 'fd00::1' }), [dest('fd01::1', 0)]));
    expect(drained.reject).to.include('icmp6-port-unreachable');
    const rules = drained.chains.get(svcChain(svc({ address: 'fd00::1' }))) ?? [];
    expect(rules[1]).to.include('--probability 0.00000000000');
  });
});

describe('iptables backend: reading saved tables back', function () {
  const a = entry(svc(), [dest('10.244.0.11'), dest('10.244.0.12')]);
  const b = entry(svc({ protocol: 17, port: 53, scheduler: 'sh', flags: 1, timeout: 30 }), [
    dest('10.244.0.11', 2, 5353),
  ]);
  const c = entry(svc({ address: '10.96.0.20', scheduler: 'lc' }), []);
  const read = (t: { nat: string; filter: string }) =>
    readTables(4, parseSave(t.nat, 'nat'), parseSave(t.filter, 'filter'));

  it('gives back the entries that were written, intact, and knows the base is right', function () {
    const r = read(saved([a, b, c]));
    expect([...r.services.keys()].sort()).to.deep.equal([
      'TCP/10.96.0.10:80',
      'TCP/10.96.0.20:80',
      'UDP/10.96.0.10:53',
    ]);
    expect(r.services.get('TCP/10.96.0.10:80' as VirtualServerKey)?.entry).to.deep.equal(a);
    expect(r.services.get('UDP/10.96.0.10:53' as VirtualServerKey)?.entry).to.deep.equal(b);
    expect(r.services.get('TCP/10.96.0.20:80' as VirtualServerKey)?.entry).to.deep.equal(c);
    expect(r.orphans).to.deep.equal([]);
    expect(r.base).to.deep.include({ portals: true, headFirst: true, heads: 1, reject: true });
    // IPv6 tables hold none of them.
    expect(readTables(6, parseSave('', 'nat'), parseSave('', 'filter')).services.size).to.equal(0);
  });

  it('R1.3: a rule changed or removed by hand marks its virtual server as drifted', function () {
    const t = saved([a, b]);
    const edited = t.nat.replace('--every 2 --packet 0', '--every 5 --packet 0');
    const r = read({ nat: edited, filter: t.filter });
    expect(r.services.get('TCP/10.96.0.10:80' as VirtualServerKey)?.entry.service.peName).to.equal(
      DRIFT,
    );
    expect(r.services.get('UDP/10.96.0.10:53' as VirtualServerKey)?.entry.service.peName).to.equal(
      '',
    );
    // A real server's selecting rule deleted: the real server is no longer read back.
    const sel = serviceRules(a).chains.get(svcChain(a.service))?.[2] as string;
    const gone = read({
      nat: t.nat.replace(`-A ${svcChain(a.service)} ${sel}\n`, ''),
      filter: t.filter,
    });
    expect(
      gone.services
        .get('TCP/10.96.0.10:80' as VirtualServerKey)
        ?.entry.destinations.map((d) => d.address),
    ).to.deep.equal(['10.244.0.11']);
    // A jump removed from PREROUTING: every virtual server is rewritten (and the jump with them).
    const jump = JUMPS[0];
    const nojump = read({
      nat: t.nat.replace(`-A ${jump?.chain} ${jump?.rule}\n`, ''),
      filter: t.filter,
    });
    for (const i of nojump.services.values()) expect(i.entry.service.peName).to.equal(DRIFT);
  });
});

describe('iptables backend: restore input', function () {
  const a = entry(svc(), [dest('10.244.0.11'), dest('10.244.0.12')]);

  it('a new virtual server on an empty node: the base, its chains, its portal rule', function () {
    const base = readTables(4, parseSave('', 'nat'), parseSave('', 'filter')).base;
    const input = restoreInput([{ before: undefined, after: a }], base);
    const lines = input.split('\n');
    expect(lines[0]).to.equal('*nat');
    expect(lines).to.include(`:${CHAINS.portals} - [0:0]`);
    expect(lines).to.include(`-A ${CHAINS.portals} ${PORTALS_HEAD}`);
    expect(lines).to.include(`-A ${CHAINS.portals} ${serviceRules(a).entry}`);
    for (const j of JUMPS) expect(lines).to.include(`-I ${j.chain} 1 ${j.rule}`);
    expect(lines).to.include(`:${CHAINS.reject} - [0:0]`);
  });

  it('R7.1: a changed real server rewrites only that virtual server; the portal rule is kept', function () {
    const after = entry(a.service, [dest('10.244.0.11'), dest('10.244.0.13')]);
    const input = restoreInput([{ before: installedOf(a), after }], undefined);
    const lines = input.trim().split('\n');
    expect(lines.filter((l) => l.includes(CHAINS.portals))).to.deep.equal([]);
    expect(lines).to.include(`:${svcChain(a.service)} - [0:0]`);
    // Only the virtual server's chain, declared (flushed) and written again.
    expect(lines.filter((l) => l.startsWith(':'))).to.deep.equal([
      `:${svcChain(a.service)} - [0:0]`,
    ]);
    expect(lines).to.have.length(1 + 1 + 3 + 1);
    expect(input).not.to.include('*filter');
  });

  it('the last real server gone: REJECT added; a removed virtual server leaves nothing', function () {
    const none = entry(a.service, []);
    const input = restoreInput([{ before: installedOf(a), after: none }], undefined);
    expect(input).to.include(`*filter\n-A ${CHAINS.reject} ${serviceRules(none).reject}\nCOMMIT`);
    const removal = restoreInput([{ before: installedOf(none), after: undefined }], undefined);
    expect(removal).to.include(`-D ${CHAINS.portals} ${serviceRules(none).entry}`);
    expect(removal).to.include(`-D ${CHAINS.reject} ${serviceRules(none).reject}`);
    expect(removal).to.include(`-X ${svcChain(a.service)}`);
    expect(restoreInput([{ before: installedOf(a), after: a }], undefined)).to.match(
      /^\*nat\n:KUBE-IPVS-SVC-/,
    );
  });

  it('the addresses reported bound are those of all but the NodePorts', function () {
    const m = new Map<VirtualServerKey, IpvsEntry>([
      ['TCP/10.96.0.10:80' as VirtualServerKey, a],
      [
        'TCP/192.0.2.1:30080' as VirtualServerKey,
        entry(svc({ address: '192.0.2.1', port: 30080 }), []),
      ],
      ['TCP/192.0.2.1:80' as VirtualServerKey, entry(svc({ address: '192.0.2.1', port: 80 }), [])],
    ]);
    expect([...virtualAddresses(m, ['192.0.2.1'])].sort()).to.deep.equal([
      '10.96.0.10',
      '192.0.2.1',
    ]);
    m.delete('TCP/192.0.2.1:80' as VirtualServerKey);
    expect([...virtualAddresses(m, ['192.0.2.1'])]).to.deep.equal(['10.96.0.10']);
  });
});
