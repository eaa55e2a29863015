// What the UML 6.1 fixtures (test/fixtures/kernel-replies/ipvs-*.hex) hold, written from
// ipvsadm's listing in their comments and from capture-replies.ts's SETUP: an
// independent reading of the same kernel state, so the decoder is checked against it,
// not against itself.
import * as C from '../../../../bindings/ipvs/constants.js';
import {
  AF_INET,
  AF_INET6,
  type IpvsDestination,
  type IpvsService,
  type IpvsStats,
  ZERO_STATS,
} from '../../../../bindings/ipvs/types.js';

/** The generic-netlink id the UML kernel gave IPVS (ctrl-getfamily-ipvs.hex). */
export const UML_IPVS_FAMILY = 28;

const stats = (s: Partial<IpvsStats>): IpvsStats => ({ ...ZERO_STATS, ...s });

// One TCP SYN of 60 bytes; two UDP datagrams of 40 + 8 + 10 bytes. Rates: ipvsadm --rate.
const tcpStats = stats({ conns: 1n, inPackets: 1n, inBytes: 60n, inBps: 7n });
const udpStats = stats({ conns: 1n, inPackets: 2n, inBytes: 116n, inBps: 14n });

/** `ipvsadm -Ln`: TCP 10.96.0.1:443 rr persistent 10800 mask 255.255.255.0. */
export const tcp443: IpvsService = {
  family: AF_INET,
  protocol: C.IPPROTO_TCP,
  address: '10.96.0.1',
  port: 443,
  fwmark: 0,
  scheduler: 'rr',
  flags: C.IP_VS_SVC_F_PERSISTENT,
  timeout: 10800,
  netmask: 0xffffff00,
  peName: '',
  stats: tcpStats,
};

/** `ipvsadm -Ln`: UDP [fd00::1]:53 sh (sh-port); an IPv6 netmask is a prefix length. */
export const udp53: IpvsService = {
  family: AF_INET6,
  protocol: C.IPPROTO_UDP,
  address: 'fd00::1',
  port: 53,
  fwmark: 0,
  scheduler: 'sh',
  flags: C.IP_VS_SVC_F_SCHED_SH_PORT,
  timeout: 0,
  netmask: 128,
  peName: '',
  stats: udpStats,
};

/** The service dump, in the kernel's order (its hash table's, not ours). */
export const umlServices: readonly IpvsService[] = [udp53, tcp443];

const masq = {
  family: AF_INET,
  port: 6443,
  forward: C.IP_VS_CONN_F_MASQ,
  tunType: 0,
  tunPort: 0,
  tunFlags: 0,
} as const;

/** The destination dump of tcp443, in the kernel's order (newest first). */
export const umlDestinations443: readonly IpvsDestination[] = [
  {
    ...masq,
    address: '10.1.0.6',
    weight: 0,
    upperThreshold: 100,
    lowerThreshold: 10,
    activeConns: 0,
    inactiveConns: 0,
    persistConns: 0,
    stats: stats({}),
  },
  {
    ...masq,
    address: '10.1.0.5',
    weight: 3,
    upperThreshold: 0,
    lowerThreshold: 0,
    activeConns: 1,
    inactiveConns: 0,
    persistConns: 1,
    stats: tcpStats,
  },
];
