// The IPVS table the kernel binding tests program, and the ipvsadm text it must match.
import * as C from '../../../bindings/ipvs/constants.js';
import {
  AF_INET,
  AF_INET6,
  type IpvsDestination,
  type IpvsService,
} from '../../../bindings/ipvs/types.js';
import { must } from './must.js';

function svc(p: Partial<IpvsService> & Pick<IpvsService, 'family'>): IpvsService {
  return {
    protocol: 6,
    address: '',
    port: 0,
    fwmark: 0,
    scheduler: 'rr',
    flags: 0,
    timeout: 0,
    netmask: p.family === AF_INET ? 0xffffffff : 128,
    peName: '',
    ...p,
  };
}

function dest(p: Partial<IpvsDestination> & Pick<IpvsDestination, 'address'>): IpvsDestination {
  return {
    family: AF_INET,
    port: 8080,
    forward: C.IP_VS_CONN_F_MASQ,
    weight: 1,
    upperThreshold: 0,
    lowerThreshold: 0,
    tunType: 0,
    tunPort: 0,
    tunFlags: 0,
    ...p,
  };
}

export interface Entry {
  service: IpvsService;
  destinations: IpvsDestination[];
}

export const TABLE: Entry[] = [
  {
    service: svc({
      family: AF_INET,
      protocol: C.IPPROTO_TCP,
      address: '10.96.0.1',
      port: 443,
      flags: C.IP_VS_SVC_F_PERSISTENT,
      timeout: 10800,
      netmask: 0xffffff00,
    }),
    destinations: [
      dest({ address: '10.1.0.5', port: 6443, weight: 3 }),
      dest({
        address: '10.1.0.6',
        port: 6443,
        forward: C.IP_VS_CONN_F_DROUTE,
        upperThreshold: 100,
        lowerThreshold: 10,
      }),
      dest({
        address: '10.1.0.7',
        port: 6443,
        forward: C.IP_VS_CONN_F_TUNNEL,
        tunType: C.IP_VS_CONN_F_TUNNEL_TYPE_GUE,
        tunPort: 6080,
        tunFlags: C.IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
      }),
    ],
  },
  {
    service: svc({
      family: AF_INET6,
      protocol: C.IPPROTO_UDP,
      address: 'fd00::a',
      port: 53,
      scheduler: 'sh',
      flags: C.IP_VS_SVC_F_SCHED_SH_FALLBACK | C.IP_VS_SVC_F_SCHED_SH_PORT,
    }),
    destinations: [
      dest({ family: AF_INET6, address: 'fd00:1::5', port: 5353, weight: 2 }),
      dest({ family: AF_INET6, address: 'fd00:1:0:0:0:0:0:6', port: 5353, weight: 0 }),
    ],
  },
  {
    service: svc({
      family: AF_INET,
      protocol: C.IPPROTO_SCTP,
      address: '10.96.0.2',
      port: 9000,
      scheduler: 'lc',
    }),
    destinations: [dest({ address: '10.1.0.8', port: 9000 })],
  },
  {
    service: svc({
      family: AF_INET,
      protocol: C.IPPROTO_UDP,
      address: '10.96.0.3',
      port: 5000,
      flags: C.IP_VS_SVC_F_ONEPACKET,
      scheduler: 'wrr',
    }),
    destinations: [],
  },
  {
    service: svc({
      family: AF_INET,
      protocol: 0,
      fwmark: 7,
      scheduler: 'wlc',
      flags: C.IP_VS_SVC_F_PERSISTENT,
      timeout: 60,
    }),
    destinations: [dest({ address: '10.1.0.9', port: 0 })],
  },
  {
    service: svc({ family: AF_INET6, protocol: 0, fwmark: 8, scheduler: 'mh' }),
    destinations: [
      dest({ family: AF_INET6, address: 'fd00:1::9', port: 0, forward: C.IP_VS_CONN_F_DROUTE }),
    ],
  },
];

/** The address text inet_ntop gives back for the fixture's long-form address. */
export const CANONICAL: Record<string, string> = { 'fd00:1:0:0:0:0:0:6': 'fd00:1::6' };

const FWD = ['Masq', 'Local', 'Tunnel', 'Route'];
const PROTO: Record<number, string> = { 6: 'TCP', 17: 'UDP', 132: 'SCTP' };

function addrPort(family: number, address: string, port: number): string {
  return family === AF_INET6 ? `[${address}]:${port}` : `${address}:${port}`;
}

function schedFlags(s: IpvsService): string {
  const f = s.flags & (C.IP_VS_SVC_F_SCHED1 | C.IP_VS_SVC_F_SCHED2 | C.IP_VS_SVC_F_SCHED3);
  if (!f) return '';
  const names =
    s.scheduler === 'sh' || s.scheduler === 'mh'
      ? [`${s.scheduler}-fallback`, `${s.scheduler}-port`, 'flag-3']
      : ['flag-1', 'flag-2', 'flag-3'];
  const on = [C.IP_VS_SVC_F_SCHED1, C.IP_VS_SVC_F_SCHED2, C.IP_VS_SVC_F_SCHED3]
    .map((bit, i) => (f & bit ? names[i] : ''))
    .filter((x) => x);
  return ` (${on.join(',')})`;
}

function dotted(mask: number): string {
  return [24, 16, 8, 0].map((s) => (mask >>> s) & 0xff).join('.');
}

/** A service line of `ipvsadm -Ln` (ipvsadm 1.31 print_service_entry). */
export function serviceLine(s: IpvsService): string {
  let name = s.fwmark
    ? `FWM  ${s.fwmark}${s.family === AF_INET6 ? ' IPv6' : ''}`
    : `${(PROTO[s.protocol] ?? '?').padEnd(4)} ${addrPort(s.family, s.address, s.port)}`;
  if (s.family === AF_INET) name = name.slice(0, 33);
  let line = `${name} ${s.scheduler}${schedFlags(s)}`;
  if (s.flags & C.IP_VS_SVC_F_PERSISTENT) {
    line += ` persistent ${s.timeout}`;
    if (s.family === AF_INET && s.netmask !== 0xffffffff) line += ` mask ${dotted(s.netmask)}`;
    if (s.family === AF_INET6 && s.netmask !== 128) line += ` mask ${s.netmask}`;
    if (s.peName) line += ` pe ${s.peName}`;
  }
  if (s.flags & C.IP_VS_SVC_F_ONEPACKET) line += ' ops';
  return line;
}

/** A destination line of `ipvsadm -Ln`. */
export function destinationLine(d: IpvsDestination): string {
  let name = addrPort(d.family, d.address, d.port);
  if (d.family === AF_INET) name = name.slice(0, 28);
  return (
    `  -> ${name.padEnd(28)} ${(FWD[d.forward] ?? '?').padEnd(7)} ${String(d.weight).padEnd(6)} ` +
    `${String(d.activeConns ?? 0).padEnd(10)} ${String(d.inactiveConns ?? 0).padEnd(10)}`
  );
}

/** Splits `ipvsadm -Ln` output into service blocks (header and title dropped), sorted. */
export function ipvsadmBlocks(text: string): string[] {
  const lines = text.split('\n').filter((l) => l !== '');
  const blocks: string[][] = [];
  for (const l of lines.slice(3)) {
    if (l.startsWith('  ->')) must(blocks[blocks.length - 1]).push(l);
    else blocks.push([l]);
  }
  return blocks.map((b) => [must(b[0]), ...b.slice(1).sort()].join('\n')).sort();
}

export function renderBlocks(
  entries: Array<{ service: IpvsService; destinations: IpvsDestination[] }>,
): string[] {
  return entries
    .map((e) => [serviceLine(e.service), ...e.destinations.map(destinationLine).sort()].join('\n'))
    .sort();
}
