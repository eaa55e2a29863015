// Listing renderers against output captured from ipvsadm 1.31 in UML (kernel 6.1).
import { expect } from 'chai';
import {
  formatList,
  formatListService,
  DEFAULT_LIST_FORMAT,
  type ListFormat,
} from '../../../../lib/cli/format/list.js';
import type { NameResolver } from '../../../../lib/cli/format/names.js';
import type { Snapshot } from '../../../../lib/cli/format/snapshot.js';
import { at } from '../../../../lib/cli/format/at.js';
import { dest, stats, svc } from './helpers.js';

const info = { version: 0x010201, connTableSize: 4096 };
const timeouts = { tcp: 900, tcpFin: 120, udp: 300 };

// Programmed in UML with:
//   ipvsadm -A -t 10.0.0.1:80 -s rr -p 60; ipvsadm -a -t 10.0.0.1:80 -r 127.0.0.1:80 -m -w 3
//   ipvsadm -A -u [fd00::1]:53 -s sh -b sh-port; ipvsadm -a -u [fd00::1]:53 -r [fd00:1::5]:5353 -m -w 1
//   ipvsadm -A --sctp-service 10.0.0.2:9000 -s lc; ipvsadm -A -f 5 -s rr
//   ipvsadm -A -t 172.16.1.7:31481 -s rr; ipvsadm -A -t 10.96.0.1:443 -s rr
export const captured: Snapshot = {
  info,
  timeouts,
  daemons: [],
  services: [
    {
      service: svc({ address: '10.0.0.1', port: 80, flags: 1, timeout: 60 }),
      destinations: [dest({ address: '127.0.0.1', port: 80, weight: 3 })],
    },
    {
      service: svc({
        family: 10,
        protocol: 17,
        address: 'fd00::1',
        port: 53,
        scheduler: 'sh',
        flags: 0x10,
        netmask: 128,
      }),
      destinations: [dest({ family: 10, address: 'fd00:1::5', port: 5353 })],
    },
    {
      service: svc({ protocol: 132, address: '10.0.0.2', port: 9000, scheduler: 'lc' }),
      destinations: [],
    },
    { service: svc({ protocol: 0, fwmark: 5 }), destinations: [] },
    { service: svc({ address: '172.16.1.7', port: 31481 }), destinations: [] },
    { service: svc({ address: '10.96.0.1', port: 443 }), destinations: [] },
  ],
};

const fmt = (o: Partial<ListFormat>): ListFormat => ({ ...DEFAULT_LIST_FORMAT, ...o });

describe('lvsadm listing renderer (ipvsadm -L formats, R17.4)', function () {
  it('-Ln matches ipvsadm byte for byte, including the 32-bit wrapped sort and trailing spaces', function () {
    expect(formatList(captured, fmt({ numeric: true }))).to.equal(
      'IP Virtual Server version 1.2.1 (size=4096)\n' +
        'Prot LocalAddress:Port Scheduler Flags\n' +
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
        'TCP  172.16.1.7:31481 rr\n' +
        'TCP  10.0.0.1:80 rr persistent 60\n' +
        '  -> 127.0.0.1:80                 Masq    3      0          0         \n' +
        'TCP  10.96.0.1:443 rr\n' +
        'SCTP 10.0.0.2:9000 lc\n' +
        'UDP  [fd00::1]:53 sh (sh-port)\n' +
        '  -> [fd00:1::5]:5353             Masq    1      0          0         \n' +
        'FWM  5 rr\n',
    );
  });

  it('-Ln --stats matches ipvsadm', function () {
    expect(formatList(captured, fmt({ numeric: true, stats: true }))).to.equal(
      'IP Virtual Server version 1.2.1 (size=4096)\n' +
        'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n' +
        '  -> RemoteAddress:Port\n' +
        'TCP  172.16.1.7:31481                    0        0        0        0        0\n' +
        'TCP  10.0.0.1:80                         0        0        0        0        0\n' +
        '  -> 127.0.0.1:80                        0        0        0        0        0\n' +
        'TCP  10.96.0.1:443                       0        0        0        0        0\n' +
        'SCTP 10.0.0.2:9000                       0        0        0        0        0\n' +
        'UDP  [fd00::1]:53                        0        0        0        0        0\n' +
        '  -> [fd00:1::5]:5353                    0        0        0        0        0\n' +
        'FWM  5                                   0        0        0        0        0\n',
    );
  });

  it('-L without -n resolves names through the injected resolver, as ipvsadm did in UML', function () {
    const names: Record<string, string> = {
      'tcp/80': 'http',
      'tcp/443': 'https',
      'udp/53': 'domain',
      'udp/5353': 'mdns',
    };
    const resolver: NameResolver = {
      host: (_f, a) => (a === '127.0.0.1' ? 'localhost' : null),
      service: (port, proto) => names[`${proto}/${port}`] ?? null,
    };
    expect(formatList(captured, fmt({ resolver }))).to.equal(
      'IP Virtual Server version 1.2.1 (size=4096)\n' +
        'Prot LocalAddress:Port Scheduler Flags\n' +
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
        'TCP  172.16.1.7:31481 rr\n' +
        'TCP  10.0.0.1:http rr persistent 60\n' +
        '  -> localhost:http               Masq    3      0          0         \n' +
        'TCP  10.96.0.1:https rr\n' +
        'SCTP 10.0.0.2:9000 lc\n' +
        'UDP  [fd00::1]:domain sh (sh-port)\n' +
        '  -> [fd00:1::5]:mdns             Masq    1      0          0         \n' +
        'FWM  5 rr\n',
    );
  });

  it('-L -t prints the title and one service without the version header', function () {
    const e = at(captured.services, 0);
    expect(formatListService(e, fmt({ numeric: true }))).to.equal(
      'Prot LocalAddress:Port Scheduler Flags\n' +
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
        'TCP  10.0.0.1:80 rr persistent 60\n' +
        '  -> 127.0.0.1:80                 Masq    3      0          0         \n',
    );
  });

  it('prints fwmarks as signed ints, IPv4 masks dotted, IPv6 masks as prefix, pe, ops and empty sched flags', function () {
    const snap: Snapshot = {
      ...captured,
      services: [
        {
          service: svc({ protocol: 0, fwmark: 2671273157, scheduler: 'mh', flags: 0x08 | 0x04 }),
          destinations: [],
        },
        {
          service: svc({
            address: '1.2.3.4',
            port: 0,
            flags: 1,
            timeout: 300,
            netmask: 0xffffff00,
            peName: 'sip',
            protocol: 17,
          }),
          destinations: [],
        },
        {
          service: svc({ family: 10, protocol: 0, fwmark: 7, flags: 1, timeout: 10, netmask: 64 }),
          destinations: [],
        },
        {
          service: svc({ address: '1.2.3.5', port: 1, scheduler: 'sh', flags: 0x20 }),
          destinations: [],
        },
      ],
    };
    expect(
      formatList(snap, fmt({ numeric: true, nosort: true }))
        .split('\n')
        .slice(3),
    ).to.deep.equal([
      'FWM  -1623694139 mh (mh-fallback) ops',
      'UDP  1.2.3.4:0 rr persistent 300 mask 255.255.255.0 pe sip',
      'FWM  7 IPv6 rr persistent 10 mask 64',
      'TCP  1.2.3.5:1 sh ()',
      '',
    ]);
  });

  it('--stats abbreviates with K/M/G/T and --exact widens; destination packet counters keep only 32 bits', function () {
    const big = 2n ** 32n + 5n;
    const snap: Snapshot = {
      ...captured,
      services: [
        {
          service: svc({
            address: '10.0.0.1',
            port: 80,
            stats: stats({
              conns: 12n,
              inPackets: 345n,
              outPackets: 99999999n,
              inBytes: 123456789n,
              outBytes: 9876543210n,
            }),
          }),
          destinations: [
            dest({
              address: '10.0.0.2',
              port: 80,
              stats: stats({
                conns: big,
                inPackets: big,
                outPackets: 1n,
                inBytes: big,
                outBytes: 10n ** 15n,
              }),
            }),
          ],
        },
      ],
    };
    expect(
      formatList(snap, fmt({ numeric: true, stats: true }))
        .split('\n')
        .slice(3),
    ).to.deep.equal([
      'TCP  10.0.0.1:80                        12      345 99999999  123456K    9876M',
      '  -> 10.0.0.2:80                         5        5        1    4294M    1000T',
      '',
    ]);
    expect(
      formatList(snap, fmt({ numeric: true, stats: true, exact: true }))
        .split('\n')
        .slice(3),
    ).to.deep.equal([
      'TCP  10.0.0.1:80                        12      345 99999999 123456789 9876543210',
      '  -> 10.0.0.2:80                         5        5        1 4294967301 1000000000000000',
      '',
    ]);
  });

  it('--rate prints destination CPS/InPPS/OutPPS as plain %8llu, never abbreviated', function () {
    const snap: Snapshot = {
      ...captured,
      services: [
        {
          service: svc({
            address: '10.0.0.1',
            port: 80,
            stats: stats({ cps: 123456789n, inBps: 5n }),
          }),
          destinations: [
            dest({
              address: '10.0.0.2',
              port: 80,
              stats: stats({ cps: 123456789n, inPps: 2n ** 32n + 1n, inBps: 300000000n }),
            }),
          ],
        },
      ],
    };
    expect(formatList(snap, fmt({ numeric: true, rate: true })).split('\n')).to.deep.equal([
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS',
      '  -> RemoteAddress:Port',
      'TCP  10.0.0.1:80                   123456K        0        0        5        0',
      '  -> 10.0.0.2:80                  123456789        1        0  300000K        0',
      '',
    ]);
  });

  it('--thresholds, --persistent-conn and --tun-info use their own titles and columns', function () {
    const snap: Snapshot = {
      ...captured,
      services: [
        {
          service: svc({ address: '10.0.0.1', port: 80 }),
          destinations: [
            dest({
              address: '10.0.0.2',
              port: 80,
              forward: 2,
              tunType: 1,
              tunPort: 6080,
              tunFlags: 2,
              upperThreshold: 7,
              lowerThreshold: 3,
              activeConns: 1,
              inactiveConns: 2,
              persistConns: 4,
            }),
            dest({ address: '10.0.0.3', port: 80, forward: 3, weight: 65535 }),
          ],
        },
      ],
    };
    expect(
      formatList(snap, fmt({ numeric: true, thresholds: true }))
        .split('\n')
        .slice(1),
    ).to.deep.equal([
      'Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn ',
      '  -> RemoteAddress:Port',
      'TCP  10.0.0.1:80 rr',
      '  -> 10.0.0.2:80                  7          3          1          2         ',
      '  -> 10.0.0.3:80                  0          0          0          0         ',
      '',
    ]);
    expect(
      formatList(snap, fmt({ numeric: true, persistentConn: true }))
        .split('\n')
        .slice(1),
    ).to.deep.equal([
      'Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn ',
      '  -> RemoteAddress:Port',
      'TCP  10.0.0.1:80 rr',
      '  -> 10.0.0.2:80                  1         4           1          2         ',
      '  -> 10.0.0.3:80                  65535     0           0          0         ',
      '',
    ]);
    expect(
      formatList(snap, fmt({ numeric: true, tunInfo: true }))
        .split('\n')
        .slice(1),
    ).to.deep.equal([
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn',
      'TCP  10.0.0.1:80 rr',
      '  -> 10.0.0.2:80                  Tunnel  gue:6080:r+c  1      1          2         ',
      '  -> 10.0.0.3:80                  Route   n/a           65535  0          0         ',
      '',
    ]);
  });

  it('truncates IPv4 service names at 33 bytes and IPv4 destination names at 28, never IPv6', function () {
    const long = 'a'.repeat(40);
    const resolver: NameResolver = { host: () => long, service: () => null };
    const snap: Snapshot = {
      ...captured,
      services: [
        {
          service: svc({ address: '10.0.0.1', port: 80 }),
          destinations: [dest({ address: '10.0.0.2', port: 80 })],
        },
        {
          service: svc({ family: 10, address: 'fd00::1', port: 80 }),
          destinations: [dest({ family: 10, address: 'fd00::2', port: 80 })],
        },
      ],
    };
    const lines = formatList(snap, fmt({ resolver, nosort: true }))
      .split('\n')
      .slice(3);
    expect(lines[0]).to.equal(`TCP  ${'a'.repeat(28)} rr`);
    expect(lines[1]).to.equal(`  -> ${'a'.repeat(28)} Masq    1      0          0         `);
    expect(lines[2]).to.equal(`TCP  [${long}]:80 rr`);
    expect(lines[3]).to.equal(`  -> [${long}]:80 Masq    1      0          0         `);
  });
});
